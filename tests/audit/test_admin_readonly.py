"""R-AUD-3: auditors and the security auditor read the audit log in the portal; nobody can edit
or delete it through any admin URL (the database would refuse too)."""

from __future__ import annotations

from sqlalchemy import select

from models.audit import AuditEntry
from portal import audit


def _snapshot(session) -> list[tuple]:
    session.expire_all()
    return [(e.seq, e.hash, e.detail, e.outcome) for e in
            session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def test_R_AUD_3_nobody_edits_or_deletes_the_log_through_the_portal(world, session, chain,
                                                                    login):
    for user in (world.secauditor, world.auditor, world.sysadmin, world.secadmin, world.gm):
        client = login(user)
        before = _snapshot(session)
        attempts = [
            client.post("/admin/auditentry/edit/?id=1", data={"detail": "rewritten"}),
            client.get("/admin/auditentry/edit/?id=1"),
            client.post("/admin/auditentry/delete/", data={"id": "1"}),
            client.post("/admin/auditentry/new/", data={"action": "forged"}),
            client.post("/admin/auditentry/ajax/update/",
                        data={"list_form_pk": "1", "detail": "rewritten"}),
            client.post("/admin/auditentry/action/", data={"action": "delete", "rowid": "1"}),
        ]
        for resp in attempts:
            assert resp.status_code in (302, 403, 404, 405), (user.username, resp.status_code)
        assert _snapshot(session)[:len(before)] == before
    # the menu entry opens the log for people (issue 15); the raw rows stay at ?rows=1
    reader = login(world.secauditor)
    assert reader.get("/admin/auditentry/", follow_redirects=True).status_code == 200
    assert reader.get("/admin/auditentry/?rows=1").status_code == 200
    assert login(world.auditor).get("/admin/auditentry/", follow_redirects=True).status_code == 200
    assert login(world.sysadmin).get("/admin/auditentry/", follow_redirects=True).status_code == 403
    assert audit.verify(session).ok
