"""Archive loans: the reads during a loan, audited with the loan's id (``record_reads``),
and how many each loan had (``reads_of``)."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Customer
from models.audit import AuditEntry
from portal import audit, policy, policy_loans
from portal.services.archive_loans.common import READ


class LoanReads:
    """What one answer returned that may hang off a borrowed archive: customer ids, and the
    ids of covered rows by model (contacts, complaints, credit, files, …), resolved to their
    archives only when the reader has a loan in force (the others pay one set insert per
    row and no statement)."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.rows: dict[type, set[int]] = {}

    def __bool__(self) -> bool:
        return bool(self.ids or self.rows)

    def customer_ids(self, session: Session, user: Any) -> set[int]:
        if not _may_borrow_more(user):
            return set()
        found = set(self.ids)
        if self.rows and policy.loans_in_force(user):
            for model, ids in self.rows.items():
                found.update(c for c in session.scalars(policy_loans.archives_of(model, ids))
                             if c is not None)
        return found


_reads: contextvars.ContextVar[LoanReads | None] = contextvars.ContextVar(
    "archive_loan_reads", default=None)


@contextmanager
def collect_reads() -> Iterator[LoanReads]:
    """Gather the archives returned while answering one GraphQL request."""
    found = LoanReads()
    token = _reads.set(found)
    try:
        yield found
    finally:
        _reads.reset(token)


def _may_borrow_more(user: Any) -> bool:
    """Whether a loan can show this user anything their scope does not (not for "all")."""
    scopes = policy.scopes_for(user, "customer.view")
    return bool(scopes) and "all" not in scopes


def note_reads(model: type, ids: Iterable[Any]) -> None:
    """``note_read`` for many rows of ``model`` at once (their ids; None ignored)."""
    found = _reads.get()
    if found is None:
        return
    target = found.ids if model is Customer else found.rows.setdefault(model, set())
    target.update(ids)
    target.discard(None)


def note_read(model: type, row: Any) -> None:
    """A row of ``model`` (the customer, or a record that hangs off one) is being returned;
    outside ``collect_reads`` this does nothing."""
    found = _reads.get()
    ident = getattr(row, "id", None)
    if found is None or ident is None:
        return
    if model is Customer:
        found.ids.add(ident)
    else:
        found.rows.setdefault(model, set()).add(ident)


def archives_read(session: Session, user: Any, rows: Iterable[Any]) -> set[int]:
    """The archives a page's rows hang off, for a reader with a loan in force (else empty:
    nothing to audit, nothing loaded)."""
    if user is None or not _may_borrow_more(user) or not policy.loans_in_force(user):
        return set()
    found = LoanReads()
    for r in rows:
        if type(r) in policy_loans.COVERED:
            found.rows.setdefault(type(r), set()).add(r.id)
    return found.customer_ids(session, user)


def loan_in_force(user: Any, customer_id: int) -> tuple[int, datetime] | None:
    """``(loan id, end)`` of the user's loan of that archive in force now, or None."""
    loan_id = policy.loan_for(user, customer_id)
    if loan_id is None:
        return None
    ends = next(e for i, _s, e in policy.loans_in_force(user)[customer_id] if i == loan_id)
    return loan_id, ends


def record_reads(session: Session, user: Any, customer_ids: Iterable[int | None],
                 where: str) -> int:
    """One ``archive_loan.read`` entry per loan in force whose archive was read (a page, a
    GraphQL answer), naming the loan; part of the caller's transaction. Returns how many."""
    ids = {c for c in customer_ids if c is not None}
    if not ids or user is None or getattr(user, "id", None) is None:
        return 0
    scopes = policy.scopes_for(user, "customer.view")
    if not scopes or "all" in scopes:
        return 0  # a loan reads nothing more for them (and costs no statement)
    recorded = 0
    # only the archives with a loan not yet ended can name one (a page of a hundred
    # customers and no loan: no per-customer look-up)
    for customer_id in sorted(ids & policy.loans_in_force(user).keys()):
        loan_id = policy.loan_for(user, customer_id)
        if loan_id is not None:
            audit.record(session, user, READ, ("ArchiveLoan", loan_id),
                         detail=f"{where}: Customer {customer_id}")
            recorded += 1
    return recorded


def reads_of(session: Session, loan_ids: Iterable[int]) -> dict[int, int]:
    """How many reads each loan had (from the audit log)."""
    keys = [str(i) for i in loan_ids]
    if not keys:
        return {}
    rows = session.execute(
        select(AuditEntry.target_id, func.count()).where(
            AuditEntry.action == READ, AuditEntry.target_type == "ArchiveLoan",
            AuditEntry.target_id.in_(keys)).group_by(AuditEntry.target_id)).all()
    return {int(t): int(n) for t, n in rows if t is not None}
