"""R-AUD-5 the monthly security report: figures counted from seeded audit events of one company
month (and none of the neighbouring months), refused attempts sorted by kind, the grant (only
the security auditor by default; a refusal leaves one denied entry), the CSV, and that the
application has no path that deletes audit entries."""

from __future__ import annotations

import ast
import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.audit import AuditEntry
from models.enums import Level
from portal import audit
from portal.services import security_report as svc
from portal.services import users
from portal.services.errors import PermissionDenied, RuleViolation, ValidationFailed
from tests.graphql.data import add_file

# 2026-10 in company time (Asia/Shanghai, UTC+8) is 2026-09-30 16:00 UTC .. 2026-10-31 16:00 UTC
IN_MONTH = datetime(2026, 10, 15, 2, 0, tzinfo=UTC)
FIRST_MOMENT = datetime(2026, 9, 30, 16, 0, tzinfo=UTC)          # 10-01 00:00 company time
BEFORE = datetime(2026, 9, 30, 15, 59, tzinfo=UTC)               # 09-30 23:59 company time
AFTER = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)                # 11-01 00:00 company time


@pytest.fixture
def at(monkeypatch):
    """``at(moment)``: the audit log's clock from now on."""
    def _set(moment: datetime) -> None:
        monkeypatch.setattr(audit, "utcnow", lambda: moment)
    return _set


def _seed(session, world, at) -> dict[str, int]:
    """October's events (and a few just outside it) through the real services where one
    exists, through ``audit.record`` as the sign-in code writes them otherwise."""
    cust = world.customers["sales1"][0]
    secret = add_file(session, cust, world.sales1, Level.SECRET.value)
    top = add_file(session, cust, world.sales1, Level.TOP_SECRET.value)
    internal = add_file(session, cust, world.sales1, Level.INTERNAL.value)
    session.commit()

    at(BEFORE)  # September: not counted
    audit.record(session, None, "auth.login", "User", outcome="denied", detail="wrong password",
                 actor_name="sales1")
    at(AFTER)  # November: not counted
    audit.record(session, world.sales1, "auth.login", world.sales1)
    session.commit()

    at(FIRST_MOMENT)  # the first moment of October counts
    audit.record(session, world.sales1, "auth.login", world.sales1)
    at(IN_MONTH)
    for user in (world.sales2, world.gm):
        audit.record(session, user, "auth.login", user)
    for _ in range(2):
        audit.record(session, None, "auth.login", "User", outcome="denied",
                     detail="wrong password", actor_name="mallory")
    audit.record(session, world.sales2, "auth.lockout", world.sales2, outcome="denied",
                 detail="5 failed logins")
    audit.record(session, world.gm, "auth.two_factor", world.gm, detail="code")
    for _ in range(3):
        audit.record(session, world.gm, "auth.two_factor", world.gm, outcome="denied",
                     detail="wrong code")
    audit.record(session, world.gm, "two_factor.enrol", world.gm)
    audit.record(session, world.gm, "two_factor.something_new", world.gm)  # found by prefix
    # refused attempts, one per kind
    audit.record(session, world.sales1, "customer.change", ("Customer", 999), outcome="denied",
                 detail="admin: row outside scope")                       # scope
    audit.record(session, world.sales1, "credit.propose", ("CreditLine", 1), outcome="denied",
                 detail="R-CRED-4: a C customer gets no credit")          # business rule
    audit.record(session, world.sales1, "request", "request", outcome="denied")
    audit.record(session, None, "auth.csrf", "request", outcome="denied",
                 detail="missing token")                                  # form check
    session.commit()
    with pytest.raises(RuleViolation):                                     # separation of duties
        users.set_clearance(session, world.secadmin, world.secadmin, 3)
    with pytest.raises(PermissionDenied):                                  # permission
        svc.monthly_report(session, world.sales1, "2026-10")
    # administrators' actions
    users.set_clearance(session, world.secadmin, world.sales1, 3)
    audit.record(session, world.secadmin, "role.grant", world.sales2, after={"role": "sales"})
    audit.record(session, world.sysadmin, "two_person.request", ("PendingAction", 1))
    audit.record(session, world.secauditor, "two_person.confirm", ("PendingAction", 1))
    # classified files: two views and a download of secret/top secret, one refused view;
    # a view of an internal file is not a classified read
    audit.record(session, world.sales1, "file.view", secret)
    audit.record(session, world.gm, "file.view", secret)
    audit.record(session, world.gm, "file.download", top)
    audit.record(session, world.sales3, "file.view", ("ConfidentialFile", top.id),
                 outcome="denied", detail="Not found.")                   # scope, too
    audit.record(session, world.sales1, "file.view", internal)
    audit.record(session, world.gm, "file.request_copy", ("CopyRequest", 1))
    session.commit()
    return {"secret": secret.id, "top": top.id}


def test_R_AUD_5_figures_match_the_seeded_events_of_the_company_month(session, world, at):
    _seed(session, world, at)
    r = svc.monthly_report(session, world.secauditor, "2026-10")

    assert r.month_text == "2026-10"
    assert r.figure("sign_ins") == 3          # 10-01 00:00 counts; 09-30 23:59 and 11-01 do not
    assert r.figure("failed_sign_ins") == 2
    assert r.figure("lockouts") == 1
    assert r.figure("two_factor_failures") == 3

    def row(section: str, key: str) -> list[int]:
        return next(x.values for x in r.section(section).rows if x.key == key)

    assert row("sign_in", "auth.login") == [3, 2]
    assert row("sign_in", "auth.lockout") == [0, 1]
    assert row("two_factor", "auth.two_factor") == [1, 3]
    assert row("two_factor", "two_factor.enrol") == [1, 0]
    assert row("two_factor", "two_factor.something_new") == [1, 0]

    # refused attempts by kind: sign-in failures, lockouts and 2FA codes are not among them
    kinds = {x.key: x.values[0] for x in r.section("refusals").rows}
    assert kinds == {"permission": 2, "scope": 2, "separation_of_duties": 1, "rule": 1,
                     "form_check": 1}
    assert r.figure("refused") == 7
    people = {x.label: x.values[0] for x in r.section("refused_people").rows}
    assert people["sales1"] == 4 and people["mallory"] == 2 and people["secadmin1"] == 1

    assert row("admin", "user.set_clearance") == [1, 1]   # done once, refused once (R-ROLE-2)
    assert row("admin", "role.grant") == [1, 0]
    assert row("admin", "two_person.request") == [1, 0]
    assert row("admin", "two_person.confirm") == [1, 0]
    assert r.figure("admin_actions") == 4

    levels = {x.key: x.values for x in r.section("classified_files").rows}
    assert levels == {str(int(Level.SECRET)): [2, 0, 0],
                      str(int(Level.CONFIDENTIAL)): [0, 0, 0],
                      str(int(Level.TOP_SECRET)): [0, 1, 1]}
    assert r.figure("classified_reads") == 3
    assert row("file_copies", "file.request_copy") == [1, 0]

    # another month: the same log, other figures
    nov = svc.monthly_report(session, world.secauditor, "2026-11")
    assert nov.figure("sign_ins") >= 1 and nov.figure("failed_sign_ins") == 0


def test_R_AUD_5_only_the_grant_holder_reads_it_and_refusals_are_audited(session, world):
    for user in (world.auditor, world.sysadmin, world.secadmin, world.gm, world.sales1):
        before = session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.actor_id == user.id, AuditEntry.outcome == "denied",
            AuditEntry.action == "security_report.view"))
        with pytest.raises(PermissionDenied):
            svc.monthly_report(session, user, "2026-10")
        after = session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.actor_id == user.id, AuditEntry.outcome == "denied",
            AuditEntry.action == "security_report.view"))
        assert after == before + 1, user.username
    assert svc.monthly_report(session, world.secauditor, "2026-10").month_text == "2026-10"


@pytest.mark.parametrize("month", ["2026-13", "26-10", "2026/10", "", "1999-01", "x" * 500])
def test_R_AUD_5_a_bad_month_is_a_clear_message(session, world, month):
    with pytest.raises(ValidationFailed) as exc:
        svc.monthly_report(session, world.secauditor, month)
    assert exc.value.field == "month"


def test_R_AUD_5_csv_has_every_section_and_neutralises_formula_text(session, world, at):
    at(IN_MONTH)
    audit.record(session, None, "auth.login", "User", outcome="denied", detail="wrong password",
                 actor_name="=HYPERLINK(1)")
    session.commit()
    r = svc.monthly_report(session, world.secauditor, "2026-10")
    text = svc.to_csv(r)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    flat = [c for row in rows for c in row]
    for s in r.sections:
        assert s.title in flat
    assert "'=HYPERLINK(1)" in flat and "=HYPERLINK(1)" not in flat


def test_R_AUD_5_the_application_never_deletes_audit_entries():
    """Retention (网络安全法 第二十一条, ≥ 6 months): no code of the application deletes or
    updates audit entries (the database refuses it too: tests/audit/test_append_only.py)."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for folder in ("portal", "admin_views", "graphql_api", "models"):
        for path in (root / folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                    args = " ".join(ast.unparse(a) for a in node.args)
                    if name in ("delete", "update") and "AuditEntry" in args:
                        offenders.append(f"{path.relative_to(root)}:{node.lineno}")
            lowered = source.lower()
            for verb in ("delete from audit_entries", "update audit_entries",
                         "truncate audit_entries", "truncate table audit_entries"):
                if verb in lowered:
                    offenders.append(f"{path.relative_to(root)}: {verb}")
    assert offenders == []
