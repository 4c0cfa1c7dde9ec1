"""Helpers for the audit-log tests: a chain of entries, and switching the append-only triggers
off to play an attacker with direct database access."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from portal import audit


def dialect(session) -> str:
    return session.get_bind().dialect.name


def disable_append_only(session) -> None:
    """What an attacker with DDL rights on the database would do first."""
    if dialect(session) == "postgresql":
        session.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER "
                             "audit_entries_no_update_delete"))
    else:
        session.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_update"))
        session.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_delete"))
    session.commit()


@pytest.fixture
def chain(session):
    """Ten committed entries; returns their count."""
    for i in range(10):
        audit.record(session, None, "test.event", ("Thing", i), after={"n": i},
                     detail=f"event {i}", actor_name="tester")
        session.commit()
    report = audit.verify(session)
    assert report.ok and report.verified >= 10
    return report.verified
