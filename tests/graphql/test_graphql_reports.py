"""The portal's reports through GraphQL: complaint statistics (R-COMP-8), reception statistics
(R-RECV-3), credit usage (R-CRED-7) and the over-limit list (R-CRED-8) — the same figures as the
service functions, the same scope, the same refusals (audited) and the portal's CSV."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from models import AuditEntry
from portal import clock
from portal.services import complaints, credit, reception, reports

NOW = datetime(2025, 3, 20, 2, 0, tzinfo=UTC)  # Thursday 20 March 2025, 10:00 Shanghai
DAY = date(2025, 3, 20)
A = {"years_of_cooperation": 3, "bad_debt_2y": False, "promise_keeping": "good",
     "debt_disputes": False, "capital_strength": "strong", "operating_condition": "good",
     "illegal_operation": False, "ordered_to_stop": False, "avg_monthly_shipments": "90000",
     "avg_monthly_receipts": "80000", "receipts_meet_standard": True}

COUNT = "{ key label count }"
RECV_ROW = "{ key label visits calls returning receptions deals conversion }"
COMPLAINTS = f"""query($y: Int, $m: Int) {{ complaintStatistics(year: $y, month: $m) {{
  year month period total closed closedOnTime onTimeRate avgHandlingHours avgSatisfaction
  satisfactionCount openOverdue byType {COUNT} byCause {COUNT} byDepartment {COUNT}
  bySeverity {COUNT} byStatus {COUNT} }} }}"""
RECEPTION = f"""query($p: ReportPeriod!, $s: Date, $e: Date) {{
  receptionStatistics(period: $p, start: $s, end: $e) {{
    period start end total {{ visits calls returning receptions deals conversion }}
    byPeriod {RECV_ROW} byClass {RECV_ROW} byStaff {RECV_ROW} byBranch {RECV_ROW}
    byOutcome {RECV_ROW} }} }}"""
USAGE = """query($m: String) { creditUsage(month: $m) { month customerCount overLimitCount
  rows { customerId code name limit outstandingBalance usageRatio overLimit recorded } } }"""
OVER = """{ overLimitCustomers { date customerCount totalExcess
  rows { customerId code name limit outstandingBalance excess } } }"""


def _audit(session, action: str, outcome: str = "denied") -> int:
    session.expire_all()
    return session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == action, AuditEntry.outcome == outcome))


def _close(session, world, c) -> None:
    """Walk a complaint through the workflow to closed (satisfaction 4)."""
    complaints.assign(session, world.service, c.id, world.service.id)
    complaints.start_investigation(session, world.service, c.id)
    complaints.propose_resolution(session, world.service, c.id, "道歉并补发", 0)
    complaints.approve(session, world.manager, c.id)
    complaints.reply(session, world.service, c.id, "已电话告知客户")
    complaints.close(session, world.service, c.id, 4, responsibility={"department_id": world.d1.id, "cause": "non_quality"})


@pytest.fixture
def data(session, world):
    with clock.frozen(NOW):
        registered = []
        for owner, ctype, cause in (("sales1", "complaint", "quality"),
                                    ("sales1", "inquiry", "billing"),
                                    ("sales2", "complaint", "service"),
                                    ("sales4", "complaint", "quality")):
            registered.append(complaints.register_complaint(session, world.service, {
                "customer_id": world.customers[owner][1].id, "channel": "phone",
                "type": ctype, "cause": cause, "description": "送货迟到三天"}))
        _close(session, world, registered[0])
        for name, staff in (("甲", world.sales1), ("乙", world.sales2)):
            reception.register_reception(session, world.reception, {
                "kind": "visit", "visitor_name": name, "designated_staff_id": staff.id})
        reception.register_reception(session, world.reception, {"kind": "call",
                                                                "visitor_name": "来电"})
        reception.register_reception(session, world.manager2, {
            "kind": "visit", "visitor_name": "丙", "branch_id": world.b3.id})
        c = world.customers["sales1"][0]
        credit.evaluate(session, world.finance, c.id, A)
        line = credit.propose_line(session, world.manager, c.id, {
            "kind": "temporary", "limit_amount": "50000", "term_days": 30})
        credit.review_line(session, world.finance, line.id, True)
        credit.approve_line(session, world.gm, line.id, True)
        credit.approve_over_limit(session, world.gm, c.id, "30000", "年底大单", 30)
        credit.record_transaction(session, world.finance, c.id, "order", "60000")
    return world


def _counts(items: list[dict]) -> dict[str, int]:
    return {item["key"]: item["count"] for item in items}


def _complaints(api, user) -> dict:
    with clock.frozen(NOW):
        out = api(user)(COMPLAINTS, {"y": 2025, "m": 3})
    assert "errors" not in out, out
    return out["data"]["complaintStatistics"]


def _assert_same_complaint_figures(got: dict, stats: dict) -> None:
    for field, key in (("year", "year"), ("month", "month"), ("period", "period"),
                       ("total", "total"), ("closed", "closed"),
                       ("closedOnTime", "closed_on_time"), ("onTimeRate", "on_time_rate"),
                       ("avgHandlingHours", "avg_handling_hours"),
                       ("avgSatisfaction", "avg_satisfaction"),
                       ("satisfactionCount", "satisfaction_count"),
                       ("openOverdue", "open_overdue")):
        assert got[field] == stats[key], field
    for field, key in (("byType", "by_type"), ("byCause", "by_cause"),
                       ("byDepartment", "by_department"), ("bySeverity", "by_severity"),
                       ("byStatus", "by_status")):
        assert _counts(got[field]) == stats[key], field


# --- R-COMP-8 ---------------------------------------------------------------------------------


def test_R_COMP_8_graphql_complaint_statistics_equal_the_service(session, data, api):
    got = _complaints(api, data.gm)
    with clock.frozen(NOW):
        stats = complaints.monthly_statistics(session, data.gm, 2025, 3)
    _assert_same_complaint_figures(got, stats)
    assert got["total"] == 4 and got["closed"] == 1 and got["avgSatisfaction"] == 4.0
    assert got["onTimeRate"] == 1.0
    # labels as the portal shows them, in the portal's order
    assert [(i["label"], i["count"]) for i in got["byType"]] == [("咨询", 1), ("投诉", 3)]
    assert {i["key"]: i["label"] for i in got["byCause"]}["quality"] == "质量"  # the lists' word


def test_R_COMP_8_graphql_statistics_are_scoped(session, data, api):
    m2 = _complaints(api, data.manager2)
    s1 = _complaints(api, data.sales1)
    gm = _complaints(api, data.gm)
    with clock.frozen(NOW):
        _assert_same_complaint_figures(
            m2, complaints.monthly_statistics(session, data.manager2, 2025, 3))
        _assert_same_complaint_figures(
            s1, complaints.monthly_statistics(session, data.sales1, 2025, 3))
    # the department manager of d2 sees only d2's complaint; sales1 only their customers'
    assert m2["total"] == 1 and _counts(m2["byDepartment"]) == {data.d2.name: 1}
    assert s1["total"] == 2 and s1["total"] < gm["total"]
    assert _counts(s1["byCause"]) == {"quality": 1, "billing": 1}


def test_R_COMP_8_graphql_csv_is_the_portal_csv(app, session, data, api, login):
    data.d2.name = "=HYPERLINK(\"http://x\")"  # data a spreadsheet would run as a formula
    session.commit()
    with clock.frozen(NOW):
        out = api(data.gm)("{ complaintStatistics(year: 2025, month: 3) { total csv } }")
        portal = login(data.gm).get("/admin/reports/complaints?month=2025-03&format=csv")
        from flask_babel import force_locale, gettext

        with app.test_request_context(), force_locale("zh_Hans_CN"):
            service = reports.to_csv(reports.complaint_report(session, data.gm, 2025, 3),
                                     gettext)
    assert "errors" not in out, out
    text = out["data"]["complaintStatistics"]["csv"]
    assert portal.status_code == 200
    assert text == portal.get_data(as_text=True) == service
    assert text.startswith("\ufeff客户投诉月度统计 2025-03") and "本月登记投诉,4" in text
    assert "\"'=HYPERLINK(\"\"http://x\"\")\",1" in text  # neutralised, still counted


def test_R_COMP_8_graphql_csv_needs_report_export_and_keeps_the_figures(session, data, api):
    before = _audit(session, "report.export")
    with clock.frozen(NOW):
        out = api(data.service)("{ complaintStatistics(year: 2025, month: 3) { total csv } }")
    assert out["data"]["complaintStatistics"] == {"total": 4, "csv": None}
    [error] = out["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert error["path"] == ["complaintStatistics", "csv"]
    assert _audit(session, "report.export") == before + 1


def test_R_COMP_8_graphql_bad_month_is_a_validation_error(data, api):
    out = api(data.gm)("{ complaintStatistics(year: 2025, month: 13) { total } }")
    assert out["data"] == {"complaintStatistics": None}
    [error] = out["errors"]
    assert error["extensions"]["code"] == "VALIDATION" and error["extensions"]["field"] == "month"


def test_R_COMP_8_graphql_reports_refused_without_report_view(session, data, api):
    before = _audit(session, "report.view")
    with clock.frozen(NOW):
        resp = api(data.secadmin).post(
            "{ complaintStatistics(year: 2025, month: 3) { total byType { key count } csv }"
            "  receptionStatistics(period: MONTH) { total { visits } }"
            "  creditUsage(month: \"2025-03\") { rows { name } }"
            "  overLimitCustomers { rows { name excess } } }")
    assert resp.status_code == 200
    out = resp.get_json()
    assert out["data"] == {"complaintStatistics": None, "receptionStatistics": None,
                           "creditUsage": None, "overLimitCustomers": None}
    assert {e["extensions"]["code"] for e in out["errors"]} == {"FORBIDDEN"}
    assert sorted(e["path"][0] for e in out["errors"]) == [
        "complaintStatistics", "creditUsage", "overLimitCustomers", "receptionStatistics"]
    text = resp.get_data(as_text=True)
    for leak in (data.customers["sales1"][0].name, data.d1.name, "60000", "total"):
        assert leak not in text
    # one 'denied' entry per refused report, as the portal's report page records it
    assert _audit(session, "report.view") == before + 4
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "report.view")
                            .order_by(AuditEntry.id.desc())).first()
    assert entry.actor_id == data.secadmin.id and entry.outcome == "denied"
    assert entry.detail.startswith("graphql ")


# --- R-RECV-3 ---------------------------------------------------------------------------------


def _reception(api, user, period: str = "DAY") -> dict:
    with clock.frozen(NOW):
        out = api(user)(RECEPTION, {"p": period, "s": "2025-03-01", "e": "2025-03-20"})
    assert "errors" not in out, out
    return out["data"]["receptionStatistics"]


def _rows(items: list[dict]) -> dict:
    return {i["key"]: {k: v for k, v in i.items() if k not in ("key", "label")} for i in items}


def _expected(stats, table: str, type_name: str | None = None) -> dict:
    out = {}
    for row in stats.as_dict()[table]:
        key = row.pop("key")
        out[None if key is None else f"{type_name}:{key}" if type_name else key] = row
    return out


def test_R_RECV_3_graphql_reception_statistics_equal_the_service(session, data, api):
    got = _reception(api, data.gm, "WEEK")
    with clock.frozen(NOW):
        stats = reception.statistics(session, data.gm, "week", "2025-03-01", "2025-03-20")
    assert got["period"] == "WEEK" and (got["start"], got["end"]) == ("2025-03-01",
                                                                    "2025-03-20")
    assert got["total"] == stats.total.as_dict()
    assert got["total"]["visits"] == 3 and got["total"]["calls"] == 1
    assert _rows(got["byPeriod"]) == _expected(stats, "by_bucket")
    assert _rows(got["byClass"]) == _expected(stats, "by_class")
    assert _rows(got["byStaff"]) == _expected(stats, "by_staff", "User")
    assert _rows(got["byBranch"]) == _expected(stats, "by_branch", "Branch")
    assert _rows(got["byOutcome"]) == _expected(stats, "by_outcome")
    labels = {i["key"]: i["label"] for i in got["byStaff"]}
    assert labels[f"User:{data.sales1.id}"] == data.sales1.full_name
    assert {i["key"]: i["label"] for i in got["byBranch"]}[f"Branch:{data.b3.id}"] == \
        data.b3.name


def test_R_RECV_3_graphql_reception_statistics_are_scoped(session, data, api):
    m2 = _reception(api, data.manager2)
    s1 = _reception(api, data.sales1)
    with clock.frozen(NOW):
        for user, got in ((data.manager2, m2), (data.sales1, s1)):
            stats = reception.statistics(session, user, "day", "2025-03-01", "2025-03-20")
            assert got["total"] == stats.total.as_dict()
            assert _rows(got["byStaff"]) == _expected(stats, "by_staff", "User")
    assert m2["total"]["visits"] == 1 and list(_rows(m2["byBranch"])) == [f"Branch:{data.b3.id}"]
    assert s1["total"]["visits"] == 1 and list(_rows(s1["byStaff"])) == [f"User:{data.sales1.id}"]


def test_R_RECV_3_graphql_csv_is_the_portal_csv(session, data, api, login):
    query = ('{ receptionStatistics(period: WEEK, start: "2025-03-01", end: "2025-03-20")'
             " { csv } }")
    with clock.frozen(NOW):
        out = api(data.gm)(query)
        portal = login(data.gm).get("/admin/reports/reception?period=week&start=2025-03-01"
                                    "&end=2025-03-20&format=csv")
    assert portal.status_code == 200
    assert out["data"]["receptionStatistics"]["csv"] == portal.get_data(as_text=True)
    assert "来人来电统计 2025-03-01 – 2025-03-20" in portal.get_data(as_text=True)


# --- R-CRED-7 / R-CRED-8 ----------------------------------------------------------------------


def test_R_CRED_8_graphql_over_limit_and_usage_equal_the_service(session, data, api):
    with clock.frozen(NOW):
        over = api(data.finance)(OVER)
        usage = api(data.finance)(USAGE, {"m": "2025-03"})
        rows = credit.over_limit_customers(session, data.finance)
        usage_rows = credit.usage_report(session, data.finance, "2025-03")
    assert "errors" not in over and "errors" not in usage, (over, usage)
    got = over["data"]["overLimitCustomers"]
    assert got["date"] == "2025-03-20" and got["customerCount"] == len(rows) == 1
    assert [(r["customerId"], r["code"], r["name"], r["limit"], r["outstandingBalance"],
             r["excess"]) for r in got["rows"]] == [
        (f"Customer:{r['customer_id']}", r["code"], r["name"], str(r["limit"]),
         str(r["outstanding_balance"]), str(r["excess"])) for r in rows]
    assert got["totalExcess"] == str(sum(r["excess"] for r in rows)) == "10000.00"
    got = usage["data"]["creditUsage"]
    assert got["month"] == "2025-03" and got["customerCount"] == len(usage_rows) == 1
    assert got["overLimitCount"] == 1
    assert [(r["customerId"], r["limit"], r["outstandingBalance"], r["usageRatio"],
             r["overLimit"], r["recorded"]) for r in got["rows"]] == [
        (f"Customer:{r['customer_id']}", str(r["limit"]), str(r["outstanding_balance"]),
         str(r["usage_ratio"]), r["over_limit"], r["recorded"]) for r in usage_rows]


def test_R_CRED_8_graphql_credit_reports_are_scoped(session, data, api):
    with clock.frozen(NOW):
        own = api(data.sales1)(OVER)["data"]["overLimitCustomers"]
        other = api(data.sales4)(OVER)["data"]["overLimitCustomers"]
        other_usage = api(data.sales4)(USAGE, {"m": "2025-03"})["data"]["creditUsage"]
    assert own["customerCount"] == 1
    assert own["rows"][0]["name"] == data.customers["sales1"][0].name
    assert other == {"date": "2025-03-20", "customerCount": 0, "totalExcess": "0",
                     "rows": []}
    assert other_usage["rows"] == [] and other_usage["customerCount"] == 0


def test_R_CRED_8_graphql_credit_reports_need_credit_view(session, data, api):
    """Customer service may view reports but not credit: refused by the service verb,
    audited once, nothing shown."""
    before = _audit(session, "credit.view")
    with clock.frozen(NOW):
        out = api(data.service)("{ overLimitCustomers { rows { name } } }")
    assert out["data"] == {"overLimitCustomers": None}
    assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert _audit(session, "credit.view") == before + 1


def test_R_CRED_8_graphql_csv_is_the_portal_csv(session, data, api, login):
    with clock.frozen(NOW):
        over = api(data.gm)("{ overLimitCustomers { csv } }")["data"]["overLimitCustomers"]
        usage = api(data.gm)('{ creditUsage(month: "2025-03") { csv } }')["data"]["creditUsage"]
        client = login(data.gm)
        portal_over = client.get("/admin/reports/over-limit?format=csv")
        portal_usage = client.get("/admin/reports/credit?month=2025-03&format=csv")
    assert portal_over.status_code == portal_usage.status_code == 200
    assert over["csv"] == portal_over.get_data(as_text=True)
    assert usage["csv"] == portal_usage.get_data(as_text=True)
    assert "60000" in over["csv"] and "120.0%" in usage["csv"]


def test_the_docs_report_example_runs_within_the_limits(session, data, api):
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "graphql.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```graphql\n(.*?)```", doc, re.S)
               if "MonthlyReports" in b]
    client = api(data.gm)
    for operation in ("MonthlyReports", "ExportComplaints"):
        with clock.frozen(NOW):
            resp = client.client.post("/graphql", json={"query": block,
                                                        "operationName": operation},
                                      headers={"Authorization": f"Bearer {client.token}"})
        assert resp.status_code == 200
        out = resp.get_json()
        assert "errors" not in out, out
        assert all(value is not None for value in out["data"].values())
