"""Who may open and export which report, and the reports' arguments, are decided once
(``portal.services.report_access``, issue 13): the portal's report pages and the GraphQL report
fields refuse the same people and the same input with the same message, and a refusal or bad
input changes nothing but one 'denied' audit entry."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEntry
from portal.services import report_access
from tests.doors.conftest import audit_mark, audit_since

MONTH_ERROR = "请按 YYYY-MM 格式输入月份。"


def _denied(session, mark: int) -> list[tuple[str, str]]:
    return [(a, o) for a, o in audit_since(session, mark) if o == "denied"]


def _targets(session, mark: int) -> list[str | None]:
    session.expire_all()
    return [e.target_type or e.target_id for e in session.scalars(
        select(AuditEntry).where(AuditEntry.seq > mark, AuditEntry.outcome == "denied")
        .order_by(AuditEntry.seq))]


# --- export refused: one decision, one denied entry, the figures stay ------------------------

EXPORTS = [
    # (family, user, portal CSV url, GraphQL query with the csv field, its root field)
    ("reports", "service", "/admin/reports/complaints?month=2025-03&format=csv",
     "{ complaintStatistics(year: 2025, month: 3) { total csv } }", "complaintStatistics"),
    ("reports", "finance", "/admin/reports/over-limit?format=csv",
     "{ overLimitCustomers { csv } }", "overLimitCustomers"),
    ("receivables", "supervisor", "/admin/receivables/?format=csv",
     "{ receivablesAgeing { frozenCount csv } }", "receivablesAgeing"),
    ("receivables", "supervisor", "/admin/receivables/summary?month=2025-03&format=xlsx",
     '{ creditSummary(month: "2025-03") { month csv } }', "creditSummary"),
]


@pytest.mark.parametrize(("family", "who", "url", "query", "field"), EXPORTS)
def test_R_ROLE_3_export_without_the_grant_is_refused_alike_in_both_doors(
        session, world, login, api, family, who, url, query, field):
    user = getattr(world, who)
    action = report_access.FAMILIES[family].export
    assert report_access.may_open(user, family) and not report_access.may_export(user, family)

    client, call = login(user), api(user)
    mark = audit_mark(session)
    assert client.get(url).status_code == 403
    assert _denied(session, mark) == [(action, "denied")]

    mark = audit_mark(session)
    out = call(query)
    data = out["data"][field]
    assert data is not None and data["csv"] is None  # the figures stay, the file does not
    [error] = out["errors"]
    assert error["extensions"]["code"] == "FORBIDDEN" and error["path"][-1] == "csv"
    assert _denied(session, mark) == [(action, "denied")]


def test_R_COMP_11_hr_list_export_needs_penalty_export(session, world, login):
    """HR's penalty list (portal only): the department manager sees it but may not export."""
    assert report_access.may_open(world.manager, "penalties")
    mark = audit_mark(session)
    client = login(world.manager)
    assert client.get("/admin/penaltynotice/hr/?month=2025-03").status_code == 200
    assert client.get("/admin/penaltynotice/hr/?month=2025-03&format=csv").status_code == 403
    assert _denied(session, mark) == [("penalty.export", "denied")]


# --- opening refused: the same grant and the same audit target in both doors -----------------

OPENINGS = [
    ("reports", "reception", "/admin/reports/complaints",
     "{ complaintStatistics { total } }", "complaintStatistics"),
    ("receivables", "reception", "/admin/receivables/",
     "{ receivablesAgeing { frozenCount } }", "receivablesAgeing"),
    ("receivables", "service", "/admin/receivables/collection",
     "{ collectionList { code } }", "collectionList"),
    ("security_report", "gm", "/admin/security-report/",
     "{ securityReport { month } }", "securityReport"),
]


@pytest.mark.parametrize(("family", "who", "url", "query", "field"), OPENINGS)
def test_R_ROLE_3_opening_a_report_without_the_grant_is_refused_alike(
        session, world, login, api, family, who, url, query, field):
    user = getattr(world, who)
    f = report_access.FAMILIES[family]
    assert not report_access.may_open(user, family)

    client, call = login(user), api(user)
    mark = audit_mark(session)
    assert client.get(url).status_code == 403
    assert _denied(session, mark) == [(f.view, "denied")]
    assert _targets(session, mark) == [f.target]

    mark = audit_mark(session)
    out = call(query)
    assert out["data"] == {field: None}
    assert out["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert _denied(session, mark) == [(f.view, "denied")]
    assert _targets(session, mark) == [f.target]


# --- bad input: the same message in both doors, nothing written ------------------------------

BAD_MONTHS = [
    ("finance", "/admin/reports/credit?month=2025-13", 'creditUsage(month: "2025-13")',
     "creditUsage", "{ month }"),
    ("finance", "/admin/receivables/summary?month=1999-01",
     'creditSummary(month: "1999-01")', "creditSummary", "{ month }"),
    ("finance", "/admin/receivables/collection?month=March",
     'collectionList(month: "March")', "collectionList", "{ code }"),
    ("secauditor", "/admin/security-report/?month=2025-3",
     'securityReport(month: "2025-3")', "securityReport", "{ month }"),
]


@pytest.mark.parametrize(("who", "url", "call", "field", "selection"), BAD_MONTHS)
def test_a_bad_report_month_is_refused_alike_and_changes_nothing(
        session, world, login, api, who, url, call, field, selection):
    user = getattr(world, who)
    client, graphql = login(user), api(user)
    mark = audit_mark(session)
    page = client.get(url)
    assert page.status_code == 400 and MONTH_ERROR in page.get_data(as_text=True)
    out = graphql(f"{{ {call} {selection} }}")
    assert out["data"] == {field: None}
    [error] = out["errors"]
    assert error["message"] == MONTH_ERROR and error["extensions"]["field"] == "month"
    assert audit_since(session, mark) == []  # nothing written, not even a read


def test_R_COMP_11_hr_list_bad_month_is_refused_with_the_same_message(session, world, login,
                                                                      api):
    client, graphql = login(world.gm), api(world.gm)
    mark = audit_mark(session)
    page = client.get("/admin/penaltynotice/hr/?month=2025-00")
    assert MONTH_ERROR in page.get_data(as_text=True)
    out = graphql('{ penaltyList(month: "2025-00") { person } }')
    assert out["data"] == {"penaltyList": None}
    assert out["errors"][0]["message"] == MONTH_ERROR
    assert audit_since(session, mark) == []


@pytest.mark.parametrize(("url", "formats"), [
    ("/admin/reports/complaints?month=2025-03&format=pdf", "CSV"),
    ("/admin/receivables/?format=pdf", "CSV, XLSX"),
    ("/admin/security-report/?month=2025-03&format=xlsx", "CSV"),
])
def test_an_unknown_export_format_is_a_400_with_a_message(session, world, login, url, formats):
    user = world.secauditor if "security" in url else world.gm
    client = login(user)
    mark = audit_mark(session)
    resp = client.get(url)
    assert resp.status_code == 400
    assert resp.get_data(as_text=True) == f"此报表只能导出为 {formats}。"
    assert _denied(session, mark) == []


def test_an_unknown_export_format_in_english(session, world, login):
    client = login(world.gm)
    client.get("/lang/en")
    resp = client.get("/admin/reports/complaints?month=2025-03&format=pdf")
    assert resp.status_code == 400
    assert resp.get_data(as_text=True) == "This report is exported as CSV only."


def test_a_bad_ageing_date_is_a_400_with_a_message(session, world, login):
    client = login(world.finance)
    mark = audit_mark(session)
    page = client.get("/admin/receivables/?as_of=2025-02-30")
    assert page.status_code == 400 and "请输入日期。" in page.get_data(as_text=True)
    assert audit_since(session, mark) == []


def test_the_default_months_of_the_monthly_reports():
    from datetime import date

    assert report_access.default_month("complaints", date(2025, 3, 10)) == "2025-02"
    assert report_access.default_month("complaints", date(2025, 3, 11)) == "2025-03"
    assert report_access.default_month("security_report", date(2025, 1, 5)) == "2024-12"
    assert report_access.default_month("credit_summary", date(2025, 3, 31)) == "2025-02"
    assert report_access.default_month("collection", date(2025, 3, 1)) == "2025-03"
    assert report_access.month_arg("penalties", " 2025-04 ") == "2025-04"
