"""R-AUD-5 the monthly security report in both doors: the portal page (month picker, figures,
tables, CSV) and GraphQL's ``securityReport`` give the service's figures to the security
auditor; every other role is refused with one denied audit entry; a bad month is a clear
message, never a 500."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from models.audit import AuditEntry
from portal import audit
from portal.services import security_report as svc
from tests.graphql.conftest import Api, make_token

IN_MONTH = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
QUERY = """query($m: String) { securityReport(month: $m) { month figures { key label value }
  sections { key title header rows { key label values } } } }"""


def _denied(session, action: str = svc.ACTION) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == action, AuditEntry.outcome == "denied"))


def _seed(session, world, monkeypatch) -> None:
    monkeypatch.setattr(audit, "utcnow", lambda: IN_MONTH)
    for _ in range(3):
        audit.record(session, None, "auth.login", "User", outcome="denied",
                     detail="wrong password", actor_name="=cmd|' /C calc'!A0")
    audit.record(session, world.sales1, "auth.login", world.sales1)
    audit.record(session, world.sales1, "customer.change", ("Customer", 1), outcome="denied",
                 detail="admin: row outside scope")
    session.commit()
    monkeypatch.undo()


def test_R_AUD_5_portal_page_and_csv_for_the_security_auditor(session, world, login,
                                                               monkeypatch):
    _seed(session, world, monkeypatch)
    c = login(world.secauditor)
    home = c.get("/admin/").get_data(as_text=True)
    assert "/admin/security-report/" in home  # in the menu
    resp = c.get("/admin/security-report/?month=2026-10")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "月度安全报告" in html and "登录失败" in html and "超出数据范围" in html
    assert 'data-figure="failed_sign_ins"' in html
    assert '<span class="badge badge-danger">3</span>' in html  # the three failed sign-ins
    csv = c.get("/admin/security-report/?month=2026-10&format=csv")
    assert csv.status_code == 200 and "attachment" in csv.headers["Content-Disposition"]
    text = csv.get_data(as_text=True)
    assert text.startswith("\ufeff") and "登录失败,3" in text
    assert "'=cmd|" in text  # a formula typed as a login name stays text
    # English
    c.get("/lang/en")
    html_en = c.get("/admin/security-report/?month=2026-10").get_data(as_text=True)
    assert "Failed sign-ins" in html_en and "Monthly security report" in html_en


def test_R_AUD_5_portal_refuses_other_roles_and_audits_it(session, world, login):
    for user in (world.auditor, world.sysadmin, world.secadmin, world.gm, world.sales1):
        before = _denied(session)
        resp = login(user).get("/admin/security-report/?month=2026-10")
        assert resp.status_code == 403, user.username
        assert _denied(session) == before + 1, user.username


def test_R_AUD_5_portal_bad_month_is_a_message(session, world, login):
    c = login(world.secauditor)
    for month in ("2026-13", "abc", "2026-1", "9999-01"):
        resp = c.get(f"/admin/security-report/?month={month}")
        assert resp.status_code == 400
        assert "请按 YYYY-MM 输入月份" in resp.get_data(as_text=True) or \
            "YYYY-MM" in resp.get_data(as_text=True)


def test_R_AUD_5_graphql_security_report_for_the_security_auditor_only(session, world, app,
                                                                       monkeypatch):
    _seed(session, world, monkeypatch)
    api = Api(app.test_client(), make_token(session, world.secauditor))
    out = api(QUERY, {"m": "2026-10"})
    assert "errors" not in out, out
    got = out["data"]["securityReport"]
    expected = svc.monthly_report(session, world.secauditor, "2026-10")
    assert got["month"] == "2026-10"
    assert {f["key"]: f["value"] for f in got["figures"]} == \
        {k: v for k, _label, v in expected.figures}
    assert {f["key"]: f["value"] for f in got["figures"]}["failed_sign_ins"] == 3
    refusals = next(s for s in got["sections"] if s["key"] == "refusals")
    assert {r["key"]: r["values"][0] for r in refusals["rows"]}["scope"] == 1
    csv = api('{ securityReport(month: "2026-10") { csv } }')
    assert csv["data"]["securityReport"]["csv"].startswith("\ufeff")

    for user in (world.auditor, world.secadmin, world.sysadmin, world.gm, world.sales1):
        before = _denied(session)
        other = Api(app.test_client(), make_token(session, user))
        resp = other(QUERY, {"m": "2026-10"})
        assert resp["data"] == {"securityReport": None}, user.username
        assert resp["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert _denied(session) == before + 1, user.username

    bad = api(QUERY, {"m": "2026-13"})
    assert bad["data"] == {"securityReport": None}
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION"
    assert bad["errors"][0]["extensions"]["field"] == "month"
