"""What a transaction's statements run directly on its connection need from the session
(issue 21): the retry of a transaction's first statement on a dead pooled connection, and the
mark that the transaction wrote (graphql_api/transactions.py then leaves its end to the
writer). No Flask here: portal/audit.py uses it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, scoped_session

T = TypeVar("T")

WROTE = "graphql_api.wrote"  # session.info key: this transaction wrote something


def mark_written(session: Session) -> None:
    session.info[WROTE] = True


def run_first_statement(session: Session, run: Callable[[], T]) -> T:
    """``run()`` the transaction's statement; when nothing could have been lost (no transaction
    open on ``session`` before it, nothing waiting to be flushed) and its connection turns out
    dead, once more on a fresh one. For statements run on ``session.connection()`` directly
    (the API token's, the audit head's); the ORM's go through the listener in
    portal/extensions.py."""
    if isinstance(session, scoped_session):
        session = session()
    if session.in_transaction() or session.new or session.dirty or session.deleted:
        return run()  # the usual path: no retry possible
    try:
        return run()
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        session.rollback()  # the failed transaction only; it held nothing
        return run()
