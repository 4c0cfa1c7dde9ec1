"""End a read-only GraphQL request with COMMIT instead of the teardown's ROLLBACK.

psycopg 3 forgets every server-side prepared statement of a connection when it sees a ROLLBACK,
so a request that only read ended by re-planning each of its SELECTs on the next request
(issue 21). A COMMIT of a transaction that wrote nothing has the same effect on the data as a
ROLLBACK, and keeps the statements prepared. A request that flushed anything, or still holds
pending changes, is left alone: its fate stays with the service that wrote (or with the
teardown's rollback). Switched by ``GRAPHQL_COMMIT_READ_ONLY`` (default on).
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.pool import Pool

from portal.transaction_state import WROTE as _WROTE


@event.listens_for(Session, "after_flush")
def _mark_written(session: Session, _flush_context: Any) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _mark_dml(state: ORMExecuteState) -> None:
    """An INSERT/UPDATE/DELETE run through the session without a flush (the audit append is
    plain Core, portal/audit.py; a bulk update) is a write too."""
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _clear_after_commit(session: Session) -> None:
    session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_soft_rollback")
def _clear_after_rollback(session: Session, _previous_transaction: Any) -> None:
    session.info.pop(_WROTE, None)


def commit_if_read_only(session: Session) -> bool:
    """COMMIT the open transaction when it provably wrote nothing; True when it did."""
    if not session.in_transaction():
        return False
    if session.new or session.dirty or session.deleted or session.info.get(_WROTE):
        return False
    session.commit()
    return True


# ---------------------------------------------------------------------------------------------
# BEGIN at the first write (PostgreSQL; GRAPHQL_LAZY_BEGIN, default on)
#
# psycopg sends BEGIN as a round trip of its own before a transaction's first statement, and a
# read-only request then ends with a COMMIT round trip: two of a plain list's four. A GraphQL
# request's connection starts in autocommit instead; its reads each run as their own
# statement-level transaction, which under READ COMMITTED sees exactly what it would have seen
# inside one (each statement takes a fresh snapshot there). Before the first statement that is
# not a plain read (any INSERT/UPDATE/DELETE/WITH …, SAVEPOINT, a locking or advisory-lock
# SELECT) the connection leaves autocommit, so psycopg sends BEGIN first: everything from the
# first write to the COMMIT is one transaction, as before (the credit-read audit entry's head
# lock and insert, a mutation's service). The pool hands every connection out of autocommit.
# ---------------------------------------------------------------------------------------------

_LOCKING = ("FOR UPDATE", "FOR SHARE", "FOR NO KEY", "FOR KEY SHARE", "ADVISORY", "NEXTVAL",
            "SETVAL", "SET_CONFIG", "TXID_CURRENT", "PG_NOTIFY")


def is_plain_read(statement: str) -> bool:
    """A SELECT that takes no lock and changes nothing (conservative: when in doubt, not)."""
    head = statement.lstrip()[:6].upper()
    if head != "SELECT":
        return False
    upper = statement.upper()
    return not any(word in upper for word in _LOCKING)


def reads_commit_each(engine: Any) -> bool:
    """READ COMMITTED (PostgreSQL's default, the app's): every statement reads its own
    snapshot, so reads outside a transaction block see what they would inside one. Under a
    stricter default the reads keep their one transaction. Known from the engine's first
    connection on (before it, False)."""
    return getattr(engine.dialect, "default_isolation_level", None) == "READ COMMITTED"


# set by the GraphQL view around a request: connections checked out meanwhile begin lazily
lazy_begin: ContextVar[bool] = ContextVar("graphql_lazy_begin", default=False)


_LAZY = "graphql_api.lazy_begin"  # pool record info: this module put it in autocommit


@event.listens_for(Pool, "checkout")
def _autocommit_until_a_write(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """During a GraphQL request (``lazy_begin``) a psycopg connection leaves the pool in
    autocommit (also the fresh one a dead connection is replaced with); otherwise out of the
    autocommit this module put it in. Connections in autocommit by their engine's own
    configuration are left alone."""
    if lazy_begin.get():
        if (dbapi_connection.__class__.__module__.startswith("psycopg")
                and dbapi_connection.autocommit is False
                and dbapi_connection.info.transaction_status == 0):  # IDLE: may switch
            dbapi_connection.autocommit = True
            record.info[_LAZY] = True
    elif record.info.pop(_LAZY, False) and dbapi_connection.autocommit is True:
        dbapi_connection.autocommit = False


@event.listens_for(Engine, "before_cursor_execute")
def _begin_before_a_write(conn: Any, _cursor: Any, statement: str, _parameters: Any,
                          _context: Any, _executemany: bool) -> None:
    proxied = conn.connection
    if proxied.info.get(_LAZY) and proxied.dbapi_connection.autocommit is True \
            and not is_plain_read(statement):
        proxied.dbapi_connection.autocommit = False  # psycopg sends BEGIN before it
