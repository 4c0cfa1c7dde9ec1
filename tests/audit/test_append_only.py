"""R-AUD-2/R-AUD-3: the database itself refuses UPDATE and DELETE on the audit log (on SQLite and
PostgreSQL); 50 concurrent writers keep one unbroken chain (R-AUD-2)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from models.audit import AuditEntry
from portal import audit
from portal.extensions import db
from tests.audit.conftest import dialect


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET detail = 'rewritten' WHERE seq = 2",
    "UPDATE audit_entries SET outcome = 'ok'",
    "DELETE FROM audit_entries WHERE seq = 2",
    "DELETE FROM audit_entries",
])
def test_R_AUD_3_database_refuses_update_and_delete(session, chain, statement):
    before = [(e.seq, e.hash, e.detail) for e in session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq))]
    with pytest.raises(DBAPIError) as exc:
        session.execute(text(statement))
        session.commit()
    session.rollback()
    assert "append-only" in str(exc.value)
    after = [(e.seq, e.hash, e.detail) for e in session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq).execution_options(populate_existing=True))]
    assert after == before
    assert audit.verify(session).ok


def test_R_AUD_3_postgres_refuses_truncate(session, chain):
    if dialect(session) != "postgresql":
        pytest.skip("TRUNCATE exists on PostgreSQL only")
    with pytest.raises(DBAPIError):
        session.execute(text("TRUNCATE audit_entries"))
        session.commit()
    session.rollback()
    assert audit.verify(session).verified == chain


def test_R_AUD_2_concurrent_writers_keep_one_chain(app, session, chain):
    writers = 50
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            with Session(engine) as s:
                barrier.wait(timeout=30)
                audit.record(s, None, "test.concurrent", ("Writer", i), detail=f"writer {i}",
                             actor_name=f"writer{i}")
                s.commit()
        except BaseException as exc:
            errors.append(exc)

    # one connection per writer (the app's pool is smaller than 50), separate sessions
    options = {} if dialect(session) == "postgresql" else {"connect_args": {"timeout": 60}}
    engine = create_engine(db.engine.url, pool_size=writers, max_overflow=0, **options)
    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    engine.dispose()
    assert not errors, errors[:3]
    session.expire_all()
    report = audit.verify(session)
    assert report.ok, report
    assert report.verified == chain + writers
    seqs = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)).all()
    assert seqs == list(range(1, chain + writers + 1))
    assert session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.action == "test.concurrent")) == writers
    print(f"\naudit concurrency: {writers} writers, chain of {report.verified} entries intact "
          f"({dialect(session)})")
