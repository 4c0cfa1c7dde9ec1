"""Issue 12 (9), R-AUD-3: audit entries show personal and credit values only to those who may
read them on the record. One service function (``audit_log.masked_snapshot``) masks the
before/after snapshots for the raw rows, their export, the log for people and GraphQL."""

from __future__ import annotations

import json

from sqlalchemy import select

from models import AuditEntry
from portal.services import customers
from tests.graphql.conftest import api  # noqa: F401 - the ``api(user)`` fixture


def _change_phone(session, world) -> AuditEntry:
    c = world.customers["sales1"][0]
    customers.update_customer(session, world.sales1, c.id, {"phone": "13912345678"},
                              expected_version=c.version)
    return session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.change")
                           .order_by(AuditEntry.seq.desc())).first()


def test_R_AUD_3_security_auditor_sees_masked_phones_in_graphql(world, session, api):  # noqa: F811
    entry = _change_phone(session, world)
    assert "13912345678" in entry.after  # stored in full: the log is complete
    q = ('{ auditEntries(first: 5, filter: {action: "customer.change"}) '
         '{ nodes { action targetType before after } } }')
    out = api(world.secauditor)(q)
    assert not out.get("errors"), out
    node = out["data"]["auditEntries"]["nodes"][0]
    assert "13912345678" not in node["after"] and json.loads(node["after"])["phone"] == "***"
    # the auditor may read customers' contact data: the value is shown
    out = api(world.auditor)(q)
    assert "13912345678" in out["data"]["auditEntries"]["nodes"][0]["after"]


def test_R_AUD_3_security_auditor_sees_masked_phones_in_the_portal(world, session, login):
    entry = _change_phone(session, world)
    c = login(world.secauditor)
    details = c.get(f"/admin/auditentry/details/?id={entry.seq}").get_data(as_text=True)
    assert "13912345678" not in details and "***" in details
    export = c.get("/admin/auditentry/export/csv/?rows=1").get_data(as_text=True)
    assert "13912345678" not in export
    log = c.get("/admin/auditentry/log/").get_data(as_text=True)
    assert "13912345678" not in log
    details = login(world.auditor).get(f"/admin/auditentry/details/?id={entry.seq}")
    assert "13912345678" in details.get_data(as_text=True)
