"""Helpers for the portal tests: one logged-in client per role, a fingerprint of every table
(audit log excluded) and the audit entries added since a mark."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from models import AuditEntry
from portal.extensions import db

EXCLUDED_TABLES = {"audit_entries", "audit_chain_head", "alembic_version"}


def fingerprint() -> str:
    """A hash of all rows of all tables except the audit log."""
    digest = hashlib.sha256()
    session = db.session
    session.expire_all()
    for table in db.metadata.sorted_tables:
        if table.name in EXCLUDED_TABLES:
            continue
        order = list(table.primary_key.columns) or list(table.columns)
        for row in session.execute(select(table).order_by(*order)):
            digest.update(repr((table.name, tuple(row))).encode())
    return digest.hexdigest()


def audit_seq() -> int:
    return db.session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0


def entries_since(seq: int) -> list[AuditEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.seq > seq)
                                   .order_by(AuditEntry.seq)))


@pytest.fixture
def clients(world, login):
    """``clients[role]`` → a test client logged in as that role's user (cached)."""
    cache: dict = {}

    class _Clients(dict):
        def __missing__(self, role: str):
            cache[role] = login(world.roles[role])
            self[role] = cache[role]
            return cache[role]

    return _Clients()
