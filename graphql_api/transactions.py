"""End a read-only GraphQL request with COMMIT instead of the teardown's ROLLBACK.

psycopg 3 forgets every server-side prepared statement of a connection when it sees a ROLLBACK,
so a request that only read ended by re-planning each of its SELECTs on the next request
(issue 21). A COMMIT of a transaction that wrote nothing has the same effect on the data as a
ROLLBACK, and keeps the statements prepared. A request that flushed anything, or still holds
pending changes, is left alone: its fate stays with the service that wrote (or with the
teardown's rollback). Switched by ``GRAPHQL_COMMIT_READ_ONLY`` (default on).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

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
