"""Reports: complaint statistics (R-COMP-8), reception (R-RECV-3), credit usage and over-limit
(R-CRED-7, R-CRED-8) — service, SVG charts, CSV export and the portal pages."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from models import AuditEntry
from portal import clock
from portal.services import complaints, credit, reports
from portal.services.errors import PermissionDenied

NOW = datetime(2025, 3, 20, 2, 0, tzinfo=UTC)
A = {"years_of_cooperation": 3, "bad_debt_2y": False, "promise_keeping": "good",
     "debt_disputes": False, "capital_strength": "strong", "operating_condition": "good",
     "illegal_operation": False, "ordered_to_stop": False, "avg_monthly_shipments": "90000",
     "avg_monthly_receipts": "80000", "receipts_meet_standard": True}


def _denied(session, action: str) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == action, AuditEntry.outcome == "denied"))


@pytest.fixture
def data(session, world):
    with clock.frozen(NOW):
        for owner, ctype in (("sales1", "complaint"), ("sales1", "inquiry"),
                             ("sales4", "complaint")):
            complaints.register_complaint(session, world.service, {
                "customer_id": world.customers[owner][1].id, "channel": "phone",
                "type": ctype, "cause": "quality", "description": "<b>坏了</b>"})
        c = world.customers["sales1"][0]
        credit.evaluate(session, world.finance, c.id, A)
        line = credit.propose_line(session, world.manager, c.id, {
            "kind": "temporary", "limit_amount": "50000", "term_days": 30})
        credit.review_line(session, world.finance, line.id, True)
        credit.approve_line(session, world.gm, line.id, True)
        credit.approve_over_limit(session, world.gm, c.id, "30000", "年底大单", 30)
        credit.record_transaction(session, world.finance, c.id, "order", "60000")
    return world


def test_R_COMP_8_chart_is_an_escaped_svg_with_one_bar_per_item():
    svg = reports.bar_chart_svg("按原因", [("<script>alert(1)</script>", 3), ("服务", 1.5)])
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 2 and "<script>" not in svg and "&lt;script&gt;" in svg
    assert ">3<" in svg and "1.50" in svg
    assert "—" in reports.bar_chart_svg("空", [])


def test_R_COMP_8_chart_labels_never_clip_and_colour_by_meaning():
    long_name = "上海市浦东新区某某汽车销售服务有限公司第二分公司"
    svg = reports.bar_chart_svg("使用率", [(long_name, 116.8), ("短", 85.0), ("乙", 65.0)],
                                "%", tones=["danger", "warning", None])
    assert long_name in svg and "…" not in svg and 'width="100%"' in svg
    assert 'data-tone="danger"' in svg and 'fill="#c9302c"' in svg
    assert 'fill="#e6a23c"' in svg and svg.count('fill="#2f6fb0"') == 1
    assert reports.usage_tone(1.168) == "danger" and reports.usage_tone(0.85) == "warning"
    assert reports.usage_tone(0.65) is None


def test_R_COMP_8_csv_export_neutralises_formulas_and_keeps_chinese():
    r = reports.Report("x", "测试", figures=[("合计", 2)],
                       tables=[reports.Table("表", ["a", "b"], [["=HYPERLINK(1)", 5]])])
    text = reports.to_csv(r)
    assert text.startswith("\ufeff测试") and "'=HYPERLINK(1)" in text and "合计,2" in text


def test_R_COMP_8_complaint_report_is_scoped(session, data):
    with clock.frozen(NOW):
        gm = reports.complaint_report(session, data.gm, 2025, 3)
        m2 = reports.complaint_report(session, data.manager2, 2025, 3)
    assert dict(gm.figures)["Complaints registered"] == 3
    assert dict(m2.figures)["Complaints registered"] == 1
    by_type = next(t for t in gm.tables if t.title == "Registered in the month, by type")
    assert by_type.rows == [["Inquiry", 1], ["Complaint", 2]]
    assert len(gm.charts) == 9  # closed in the month (4) and registered (5)


def test_R_COMP_8_reports_need_report_view(session, data):
    with pytest.raises(PermissionDenied):
        reports.complaint_report(session, data.sysadmin, 2025, 3)


def test_R_COMP_8_default_month_is_previous_until_the_10th():
    assert reports.default_month(date(2025, 3, 10)) == (2025, 2)
    assert reports.default_month(date(2025, 1, 5)) == (2024, 12)
    assert reports.default_month(date(2025, 3, 11)) == (2025, 3)


def test_R_CRED_8_over_limit_and_usage_reports(session, data):
    with clock.frozen(NOW):
        r = reports.over_limit(session, data.finance)
        usage = reports.credit_usage(session, data.finance, "2025-03")
        assert reports.over_limit(session, data.sales4).tables[0].rows == []
    assert r.tables[0].rows[0][2:] == [50000, 60000, 10000]
    assert usage.tables[0].rows[0][4] == "120.0%"


def test_R_COMP_8_portal_page_shows_charts_and_exports_csv(session, data, login):
    gm = login(data.gm)
    with clock.frozen(NOW):
        page = gm.get("/admin/reports/complaints?month=2025-03")
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        assert html.count('class="report-chart"') >= 5 and "客户投诉月度统计 2025-03" in html
        assert " / " not in re.sub(r"<[^>]+>", "", html.split('report-figures')[1].split('report-charts')[0])
        assert "质量" in html or "品质" not in html
        export = gm.get("/admin/reports/complaints?month=2025-03&format=csv")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert "attachment" in export.headers["Content-Disposition"]
    assert "本月登记投诉,3" in export.get_data(as_text=True)


def test_R_COMP_8_portal_page_is_scoped_and_guarded(session, data, login):
    with clock.frozen(NOW):
        html = login(data.manager2).get("/admin/reports/complaints?month=2025-03") \
            .get_data(as_text=True)
        assert "<th>本月登记投诉</th><td>1</td>" in html
        before = _denied(session, "report.view")
        assert login(data.sysadmin).get("/admin/reports/complaints").status_code == 403
        assert _denied(session, "report.view") == before + 1
        service = login(data.service)  # may view, may not export
        assert service.get("/admin/reports/complaints?month=2025-03").status_code == 200
        assert service.get("/admin/reports/complaints?month=2025-03&format=csv") \
            .status_code == 403
        assert _denied(session, "report.export") == 1
        bad = login(data.gm).get("/admin/reports/complaints?month=2025-13")
        assert bad.status_code == 400


def test_R_RECV_3_reception_report_page(session, data, login):
    with clock.frozen(NOW):
        page = login(data.gm).get("/admin/reports/reception?period=week&start=2025-03-01"
                                  "&end=2025-03-20")
    assert page.status_code == 200
    assert "来人来电统计" in page.get_data(as_text=True)
    assert "<svg" in page.get_data(as_text=True)


def test_R_CRED_8_over_limit_page_and_credit_usage_page(session, data, login):
    with clock.frozen(NOW):
        fin = login(data.finance)
        page = fin.get("/admin/reports/over-limit")
        assert page.status_code == 200 and "10000" in page.get_data(as_text=True)
        usage = login(data.gm).get("/admin/reports/credit?month=2025-03")
        assert usage.status_code == 200 and "<svg" in usage.get_data(as_text=True)
        csv = login(data.gm).get("/admin/reports/over-limit?format=csv")
    assert csv.status_code == 200 and "60000" in csv.get_data(as_text=True)


def test_R_COMP_8_reports_read_in_english_only_in_english(session, data, login):
    gm = login(data.gm)
    gm.get("/lang/en")
    with clock.frozen(NOW):
        html = gm.get("/admin/reports/complaints?month=2025-03").get_data(as_text=True)
    assert "Monthly complaint statistics 2025-03" in html and "Complaints registered" in html
    assert "本月登记投诉" not in html and "咨询" not in html


def test_R_COMP_8_print_view_for_the_general_manager(session, data, login):
    with clock.frozen(NOW):
        page = login(data.gm).get("/admin/reports/complaints?month=2025-03&print=1")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "@media print" in html and "呈总经理阅" in html
    assert "客户投诉月度统计 2025-03" in html and html.count('class="report-chart"') >= 5
    assert 'class="nav-tabs' not in html  # no portal menu on paper


def test_R_RECV_3_first_bucket_starts_at_the_chosen_start(session, data):
    from portal.services import reception

    with clock.frozen(NOW):
        stats = reception.statistics(session, data.gm, "week", "2025-03-05", "2025-03-20")
    assert min(stats.by_bucket) == date(2025, 3, 5)  # a Wednesday, not Monday 3 March


def test_R_COMP_8_each_complaint_bar_counts_what_its_list_shows(session, data):
    """Twin: for every bar of the monthly report, the complaints its click-through list reads
    (slice condition within the reader's scope) are exactly the bar's count."""
    from sqlalchemy import select as sa_select

    from models import Complaint
    from portal import policy
    from portal.services import complaint_slices

    for reader in (data.gm, data.manager2):
        with clock.frozen(NOW):
            report = reports.complaint_report(session, reader, 2025, 3)
        bars = [(chart, item, s) for chart in report.charts
                for item, s in zip(chart.items, chart.slices, strict=True)]
        assert len(bars) >= 5
        for chart, (_label, count), s in bars:
            listed = session.scalar(policy.scope(
                sa_select(func.count(Complaint.id)), reader, Complaint)
                .where(complaint_slices.slice_condition(s)))
            assert listed == count, (reader.username, chart.title, s)


def test_R_COMP_8_complaint_bar_opens_the_filtered_complaint_list(session, data, login):
    from models import Complaint

    gm = login(data.gm)
    with clock.frozen(NOW):
        html = gm.get("/admin/reports/complaints?month=2025-03").get_data(as_text=True)
        link = ("/admin/complaint/?report_month=2025-03&amp;basis=registered"
                "&amp;dimension=type&amp;value=complaint")
        assert link in html
        listed = gm.get(link.replace("&amp;", "&")).get_data(as_text=True)
    kinds = dict(session.execute(select(Complaint.number, Complaint.type)).all())
    assert "来自月度投诉报表" in listed and "2025-03 当月登记 · 类别：投诉" in listed
    for number, kind in kinds.items():
        assert (number in listed) == (kind == "complaint"), number
    # scoped: the second manager's list behind the same bar shows only their branch's case
    with clock.frozen(NOW):
        mine = login(data.manager2).get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert sum(number in mine for number in kinds) == 1


def test_R_COMP_8_a_bad_report_slice_is_a_message_not_a_filter(session, data, login):
    from models import Complaint

    with clock.frozen(NOW):
        page = login(data.gm).get("/admin/complaint/?report_month=2025-13&basis=x"
                                  "&dimension=type&value=complaint")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "来自月度投诉报表" not in html
    assert "请按 YYYY-MM 格式输入月份。" in html
    assert all(n in html for n in session.scalars(select(Complaint.number)))
