"""The audit log: ``record`` appends one entry chained to the previous by HMAC-SHA256;
``verify`` walks the chain and reports the first broken link (R-AUD-1, R-AUD-2).

No Flask here: the web edge fills ``request_context`` (request id, remote address) per request,
and the app factory sets the key from ``AUDIT_HMAC_KEY``.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.base import manager_of_class

from models.audit import AuditChainHead, AuditEntry
from models.base import utcnow
from models.enums import AuditOutcome
from portal.transaction_state import mark_written, run_first_statement

GENESIS = "0" * 64
GENESIS_MAC = "genesis"  # the unsigned head seeded by the migration, before any entry
request_context: contextvars.ContextVar[dict[str, str | None] | None] = contextvars.ContextVar(
    "audit_request_context", default=None)
_key: bytes = b""

# Columns never copied into an entry's before/after: secrets stay out of the log.
SECRET_FIELDS = frozenset({"password_hash", "token_hash", "password", "token", "mac", "secret",
                           "code_hash"})


def set_key(key: str) -> None:
    global _key
    _key = key.encode()


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def to_json(data: dict[str, Any] | None) -> str | None:
    if data is None:
        return None
    clean = {k: v for k, v in data.items() if k not in SECRET_FIELDS}
    return json.dumps(clean, ensure_ascii=False, sort_keys=True, default=_json_default)


def snapshot(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """Column values of a model instance, for before/after."""
    columns = fields or [c.key for c in obj.__table__.columns]
    return {c: getattr(obj, c) for c in columns if c not in SECRET_FIELDS}


@dataclass(frozen=True)
class _Target:
    type: str | None
    id: str | None


def _target(target: Any) -> _Target:
    if target is None:
        return _Target(None, None)
    if isinstance(target, str):
        return _Target(target, None)
    if isinstance(target, type):
        return _Target(target.__name__, None)
    if isinstance(target, tuple):
        return _Target(str(target[0]), None if target[1] is None else str(target[1]))
    ident = getattr(target, "id", None)
    if ident is None:
        ident = getattr(target, "key", None)
    return _Target(type(target).__name__, None if ident is None else str(ident))


# the fields an entry's hash covers, in the order of its payload
_HASHED = ("seq", "at", "actor_id", "actor_name", "action", "target_type", "target_id",
           "outcome", "before", "after", "detail", "remote_addr", "request_id", "prev_hash")


def _payload_of(values: dict[str, Any]) -> bytes:
    fields = [values[name] for name in _HASHED]
    fields[1] = fields[1].isoformat()  # at
    return json.dumps(fields, ensure_ascii=False, default=str).encode()


def _payload(entry: AuditEntry) -> bytes:
    return _payload_of({name: getattr(entry, name) for name in _HASHED})


def entry_hash(entry: AuditEntry) -> str:
    return hmac.new(_key, _payload(entry), hashlib.sha256).hexdigest()


def head_mac(seq: int, last_hash: str) -> str:
    return hmac.new(_key, f"head:{seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


_HEAD = cast(Table, AuditChainHead.__table__)
_ENTRIES = cast(Table, AuditEntry.__table__)
# One statement takes the chain head under a write lock AND reads it: an UPDATE takes SQLite's
# write lock and a PostgreSQL row lock, so concurrent appenders queue here and the chain stays
# linear; RETURNING (PostgreSQL, SQLite ≥ 3.35) gives the head as it is under that lock. Plain
# Core on the tables: no ORM bulk-update or unit-of-work work per append (issue 21).
_LOCK_AND_READ_HEAD = (update(_HEAD).where(_HEAD.c.id == 1).values(seq=_HEAD.c.seq)
                       .returning(_HEAD.c.seq, _HEAD.c.last_hash))
_ENTRY_COLUMNS = ("seq", "at", "actor_id", "actor_name", "action", "target_type", "target_id",
                  "outcome", "before", "after", "detail", "remote_addr", "request_id",
                  "prev_hash", "hash")
_INSERT_ENTRY = insert(_ENTRIES).returning(_ENTRIES.c.id)
_ENTRY_MANAGER = manager_of_class(AuditEntry)
_MOVE_HEAD = update(_HEAD).where(_HEAD.c.id == 1).values(
    seq=bindparam("seq"), last_hash=bindparam("hash"), mac=bindparam("head_mac"))
# PostgreSQL: the insert and the head's move in ONE statement (a data-modifying CTE runs
# exactly once, in the same snapshot, under the lock taken above); SQLite has no such CTE.
_NEW_ENTRY = (insert(_ENTRIES).values({c: bindparam(c) for c in _ENTRY_COLUMNS})
              .returning(_ENTRIES.c.id, _ENTRIES.c.seq).cte("new_entry"))
_INSERT_AND_MOVE_HEAD = (update(_HEAD).where(_HEAD.c.id == 1)
                         .where(_HEAD.c.seq == _NEW_ENTRY.c.seq - 1)  # the entry follows it
                         .values(seq=bindparam("seq"), last_hash=bindparam("hash"),
                                 mac=bindparam("head_mac"))
                         .add_cte(_NEW_ENTRY).returning(_NEW_ENTRY.c.id))


def _lock_head(session: Session) -> tuple[int, str]:
    """(seq, last_hash) of the chain head, locked for the rest of the transaction."""
    # on the connection (no ORM execution around a plain UPDATE); it may be the transaction's
    # first statement (a refusal's entry after a rollback): retried on a dead connection
    row = run_first_statement(session,
                              lambda: session.connection().execute(_LOCK_AND_READ_HEAD).first())
    mark_written(session)
    if row is None:  # a database created without the migration's seed row
        session.execute(insert(_HEAD).values(id=1, seq=0, last_hash=GENESIS, mac=GENESIS_MAC))
        return 0, GENESIS
    return row[0], row[1]


# Called with (entry, seconds) after every append; portal/observability.py times appends.
append_observers: list[Callable[[AuditEntry, float], None]] = []


def record(session: Session, actor: Any, action: str, target: Any = None, *,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
           outcome: str = AuditOutcome.OK.value, detail: str | None = None,
           actor_name: str | None = None) -> AuditEntry:
    """Append one entry in the caller's transaction. ``actor`` is a User or None (system).

    Statements: lock and read the head, then insert the entry and move the head (one statement
    on PostgreSQL, two on SQLite). Pending changes of the caller are flushed first, so the
    entry follows what it describes."""
    started = time.perf_counter()
    ctx = request_context.get() or {}
    tgt = _target(target)
    session.flush()
    seq, last_hash = _lock_head(session)
    values: dict[str, Any] = {
        "seq": seq + 1,
        "at": utcnow(),
        "actor_id": getattr(actor, "id", None),
        "actor_name": (actor_name or getattr(actor, "username", None) or ctx.get("actor")
                       or "system")[:64],
        "action": action,
        "target_type": tgt.type,
        "target_id": tgt.id,
        "outcome": str(outcome),
        "before": to_json(before),
        "after": to_json(after),
        "detail": detail,
        "remote_addr": ctx.get("remote_addr"),
        "request_id": ctx.get("request_id"),
        "prev_hash": last_hash,
    }
    values["hash"] = hmac.new(_key, _payload_of(values), hashlib.sha256).hexdigest()
    values["head_mac"] = head_mac(values["seq"], values["hash"])
    # the second statement runs on the transaction's connection directly: the head's lock
    # above already began the transaction and marked it as written (graphql_api/transactions)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        entry_id = connection.execute(_INSERT_AND_MOVE_HEAD, values).scalar_one()
    else:
        entry_id = connection.execute(_INSERT_ENTRY, values).scalar_one()
        connection.execute(_MOVE_HEAD, values)
    # the entry as a persistent object of the session, as if loaded (nothing left to flush):
    # its column values filed directly, without the attribute events of a new object
    entry: AuditEntry = _ENTRY_MANAGER.new_instance()
    entry.__dict__.update({name: values[name] for name in _ENTRY_COLUMNS}, id=entry_id)
    make_transient_to_detached(entry)
    session.add(entry)
    for observe in append_observers:
        observe(entry, time.perf_counter() - started)
    return entry


@dataclass
class VerifyReport:
    verified: int
    broken_at: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify(session: Session, batch: int = 5000) -> VerifyReport:
    """Walk the chain in ``seq`` order; report the first entry whose link or hash is wrong,
    a gap in the sequence, or a head that does not match the last entry."""
    prev_hash = GENESIS
    expected_seq = 1
    verified = 0
    last_seq = 0
    stmt = select(AuditEntry).order_by(AuditEntry.seq).execution_options(yield_per=batch)
    for entry in session.scalars(stmt):
        if entry.seq != expected_seq:
            return VerifyReport(verified, entry.seq,
                                f"sequence gap: expected {expected_seq}, found {entry.seq}")
        if entry.prev_hash != prev_hash:
            return VerifyReport(verified, entry.seq, "link to the previous entry is broken")
        if not hmac.compare_digest(entry.hash, entry_hash(entry)):
            return VerifyReport(verified, entry.seq, "entry content does not match its hash")
        prev_hash = entry.hash
        last_seq = entry.seq
        expected_seq += 1
        verified += 1
    head = session.get(AuditChainHead, 1, populate_existing=True)  # as stored now
    if head is None:
        if verified:
            return VerifyReport(verified, last_seq, "chain head is missing")
        return VerifyReport(0, None, None)
    if head.seq == 0 and head.mac == GENESIS_MAC and verified == 0:
        return VerifyReport(0, None, None)
    if not hmac.compare_digest(head.mac, head_mac(head.seq, head.last_hash)):
        return VerifyReport(verified, head.seq, "chain head was forged")
    if head.seq != last_seq or head.last_hash != prev_hash:
        return VerifyReport(verified, last_seq + 1,
                            f"entries after #{last_seq} are missing (head says #{head.seq})")
    return VerifyReport(verified, None, None)
