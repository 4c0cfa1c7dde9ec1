"""R-AUD-1: every write through the file services, every read of classified content and every
refused attempt leaves exactly one entry: who, what, target, when (UTC), from where, outcome —
and no secrets (the copy token never appears)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEntry
from models.enums import Level
from portal import clock
from portal.services import files
from portal.services.errors import DomainError
from tests.files.conftest import TEXT


@pytest.fixture
def cleared(world, session):
    world.sales1.clearance = Level.SECRET
    world.manager.clearance = Level.TOP_SECRET
    session.commit()
    return world


def _mark(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))


def _new(session, mark: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.seq > mark)
                                .order_by(AuditEntry.seq)))


def test_R_AUD_1_every_file_service_write_records_one_entry(cleared, session):
    w = cleared
    customer = w.customers["sales1"][0]
    steps = [
        ("file.upload", w.sales1, lambda: files.upload_file(
            session, w.sales1, {"level": Level.SECRET, "customer_id": customer.id,
                                "title": "合同"}, TEXT, "合同.txt")),
    ]
    mark = _mark(session)
    f = steps[0][2]()
    tokens: list[str] = []
    requests: list = []
    calls = [
        ("file.view", w.sales1, lambda: files.view_file(session, w.sales1, f.id)),
        ("file.add_scope_member", w.sales1,
         lambda: files.add_scope_member(session, w.sales1, f.id, w.manager.id)),
        ("file.request_copy", w.sales1,
         lambda: requests.append(files.request_copy(session, w.sales1, f.id, "签约"))),
        ("file.approve_copy", w.manager,
         lambda: tokens.append(files.decide_copy(session, w.manager, requests[0].id, True))),
        ("file.download", w.sales1,
         lambda: files.open_download(session, w.sales1, f.id, token=tokens[0])),
        ("file.extend_secrecy", w.secadmin,
         lambda: files.extend_secrecy(session, w.secadmin, f.id,
                                      f.secrecy_until + timedelta(days=365), "延期")),
        ("file.reclassify", w.secadmin,
         lambda: files.reclassify(session, w.secadmin, f.id, Level.CONFIDENTIAL, "升密")),
    ]
    for _action, _who, call in calls:
        call()
    entries = _new(session, mark)
    assert [(e.action, e.actor_id, e.outcome) for e in entries] == \
        [("file.upload", w.sales1.id, "ok")] + [(a, who.id, "ok") for a, who, _ in calls]
    for e in entries:
        assert e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0)
        assert e.target_type in ("ConfidentialFile", "CopyRequest") and e.target_id
        assert tokens[0] not in " ".join(filter(None, (e.before, e.after, e.detail)))
    assert audit_ok(session)


def audit_ok(session) -> bool:
    from portal import audit

    return audit.verify(session).ok


def test_R_AUD_1_refused_attempts_are_recorded_after_rollback(cleared, session):
    w = cleared
    f = files.upload_file(session, w.gm, {"level": Level.TOP_SECRET}, TEXT, "plan.txt")
    attempts = [
        ("file.download", lambda: files.open_download(session, w.sales1, f.id)),
        ("file.view", lambda: files.view_file(session, w.manager, f.id)),
        ("file.classify", lambda: files.reclassify(session, w.manager, f.id, 0, "降密")),
        ("file.manage_scope", lambda: files.add_scope_member(session, w.manager, f.id,
                                                             w.manager.id)),
        ("file.upload", lambda: files.upload_file(session, w.auditor, {"level": 0}, TEXT,
                                                  "a.txt")),
    ]
    for action, attempt in attempts:
        mark = _mark(session)
        with pytest.raises(DomainError):
            attempt()
        entries = _new(session, mark)
        assert [(e.action, e.outcome) for e in entries] == [(action, "denied")], action
    session.refresh(f)
    assert f.level == Level.TOP_SECRET and not f.scope_members


def test_R_AUD_1_scheduled_declassification_is_recorded_as_the_scheduler(cleared, session):
    w = cleared
    f = files.upload_file(session, w.gm, {"level": Level.SECRET,
                                          "secrecy_until": clock.today() + timedelta(days=1)},
                          TEXT, "a.txt")
    mark = _mark(session)
    files.tick(session, clock.now() + timedelta(days=3))
    [entry] = _new(session, mark)
    assert (entry.action, entry.actor_id, entry.actor_name, entry.target_id) == (
        "file.declassify", None, "scheduler", str(f.id))
