"""R-AUD-1: the append writes its entry without building it as a new ORM object (issue 21);
the entry it returns is exactly the stored row, persistent in the session with nothing left
to flush, and the chain still verifies."""

from __future__ import annotations

from sqlalchemy import select

from models.audit import AuditEntry
from portal import audit

COLUMNS = ("id", "seq", "at", "actor_id", "actor_name", "action", "target_type", "target_id",
           "outcome", "before", "after", "detail", "remote_addr", "request_id", "prev_hash",
           "hash")


def test_R_AUD_1_the_returned_entry_is_the_stored_row(world, session) -> None:
    first = audit.record(session, world.gm, "credit.view", ("CreditLine", 3),
                         detail="graphql: CreditLine 3", after={"limit": 5, "token": "x"})
    second = audit.record(session, None, "test.event", "Thing", actor_name="tester")
    assert not (session.new or session.dirty)  # nothing waiting to be flushed
    assert session.get(AuditEntry, first.id) is first  # in the identity map, as if loaded
    returned = {e.id: {c: getattr(e, c) for c in COLUMNS} for e in (first, second)}
    session.commit()
    session.expire_all()
    stored = {e.id: {c: getattr(e, c) for c in COLUMNS}
              for e in session.scalars(select(AuditEntry).where(
                  AuditEntry.id.in_([first.id, second.id])))}
    for ident, values in returned.items():
        row = stored[ident]
        assert {c: v for c, v in row.items() if c != "at"} \
            == {c: v for c, v in values.items() if c != "at"}
        assert row["at"].replace(tzinfo=None) == values["at"].replace(tzinfo=None)
    assert second.prev_hash == first.hash and second.seq == first.seq + 1
    assert first.after == '{"limit": 5}'  # secrets stay out of the log
    assert first.hash == audit.entry_hash(session.get(AuditEntry, first.id))
    assert audit.verify(session).ok
