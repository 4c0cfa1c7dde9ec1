"""Archive loans in the one policy (R-CUST-9, 档案查阅/借阅).

An approved loan whose time has not run out lets its borrower READ one archive and what hangs
off it, for the areas their role may read at all: the loan widens the row scope of ``view``
only, never a write, an export or a download, and never another archive. It is part of the
same code path as every other row scope — ``policy.scope`` ORs ``widening`` into the SQL
condition, ``policy.can`` and ``policy.group_visible`` ask ``on_loan`` (the Python twin) — so
both doors, lists, detail pages, relationships and field groups follow it alike.

The end time is compared at read time (in SQL with the clock's ``now``), so a loan ends by
itself without a job. The borrower's loans in force are read once per transaction (like the
grants); a user without one pays nothing more than that one small query.
Split out of ``portal/policy.py``; import these names from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import ColumnElement

from models import (
    ArchiveLoan,
    Complaint,
    ComplaintEvent,
    ComplaintReminder,
    ConfidentialFile,
    CreditApproval,
    CreditEvaluation,
    CreditLine,
    CreditUsageReview,
    Customer,
    CustomerContact,
    CustomerCorrection,
    CustomerTransaction,
    FollowUp,
    OverLimitApproval,
    OwnerChange,
    Receivable,
    ReceivableSettlement,
)
from models.enums import LoanStatus
from portal import clock

# the verbs a loan gives (reading the page or the answer; not export, not download)
LOAN_VERBS = frozenset({"view"})

_CACHE_KEY = "policy_loans"

# what hangs off an archive, by the column naming its customer
_DIRECT: dict[type, Any] = {
    Customer: Customer.id,
    CustomerContact: CustomerContact.customer_id,
    FollowUp: FollowUp.customer_id,
    OwnerChange: OwnerChange.customer_id,
    CustomerCorrection: CustomerCorrection.customer_id,
    CustomerTransaction: CustomerTransaction.customer_id,
    CreditEvaluation: CreditEvaluation.customer_id,
    CreditLine: CreditLine.customer_id,
    OverLimitApproval: OverLimitApproval.customer_id,
    CreditUsageReview: CreditUsageReview.customer_id,
    Receivable: Receivable.customer_id,
    Complaint: Complaint.customer_id,
    # classified files stay under clearance and knowledge scope (``file_read_filter``)
    ConfidentialFile: ConfidentialFile.customer_id,
}
# rows one step further: (their parent's key column, the parent model, the attribute)
_CHILD: dict[type, tuple[Any, type, str]] = {
    ComplaintEvent: (ComplaintEvent.complaint_id, Complaint, "complaint"),
    ComplaintReminder: (ComplaintReminder.complaint_id, Complaint, "complaint"),
    CreditApproval: (CreditApproval.credit_line_id, CreditLine, "credit_line"),
    ReceivableSettlement: (ReceivableSettlement.receivable_id, Receivable, "receivable"),
}
COVERED = frozenset(_DIRECT) | frozenset(_CHILD)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_loans(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


def loans_in_force(user: Any) -> dict[int, list[tuple[int, datetime, datetime]]]:
    """``{customer id: [(loan id, starts_at, ends_at), …]}`` of the user's approved loans not
    yet ended, read once per transaction."""
    ident: int | None = getattr(user, "id", None)
    session = object_session(user) if ident is not None else None
    if session is None or ident is None:
        return {}
    cache: dict[int, dict] = session.info.setdefault(_CACHE_KEY, {})
    hit = cache.get(ident)
    if hit is not None:
        return hit
    rows = session.execute(
        select(ArchiveLoan.id, ArchiveLoan.customer_id, ArchiveLoan.starts_at,
               ArchiveLoan.ends_at)
        .where(ArchiveLoan.borrower_id == ident,
               ArchiveLoan.status == LoanStatus.APPROVED.value,
               ArchiveLoan.ends_at > clock.now())).all()
    found: dict[int, list[tuple[int, datetime, datetime]]] = {}
    for loan_id, customer_id, starts, ends in rows:
        if starts is not None and ends is not None:
            found.setdefault(customer_id, []).append((loan_id, starts, ends))
    cache[ident] = found
    return found


def prime_loans(session: Session, user: Any, rows: Any, read_at: datetime) -> None:
    """File ``(loan id, customer id, starts_at, ends_at)`` rows of the user's approved loans
    not ended at ``read_at`` (read with the API token, services/tokens.py) as this
    transaction's ``loans_in_force``. Only when ``read_at`` is the clock's now or earlier:
    the set then holds every loan ``loans_in_force`` would read now (a loan that has ended
    since is still refused by the comparison with the clock at each use)."""
    ident = getattr(user, "id", None)
    if ident is None or read_at > clock.now():
        return
    found: dict[int, list[tuple[int, datetime, datetime]]] = {}
    for loan_id, customer_id, starts, ends in sorted(set(rows)):
        if starts is not None and ends is not None:
            found.setdefault(customer_id, []).append((loan_id, starts, ends))
    session.info.setdefault(_CACHE_KEY, {})[ident] = found


def loan_for(user: Any, customer_id: int | None, at: datetime | None = None) -> int | None:
    """The id of the user's loan of that archive in force at ``at`` (default now), or None."""
    if customer_id is None:
        return None
    now = at or clock.now()
    for loan_id, starts, ends in loans_in_force(user).get(customer_id, ()):
        if starts <= now < ends:
            return loan_id
    return None


def customer_id_of(obj: Any) -> int | None:
    """The archive a covered row hangs off (Python twin of the SQL paths)."""
    model = type(obj)
    if model is Customer:
        return obj.id
    if model in _DIRECT:
        return getattr(obj, "customer_id", None)
    if model in _CHILD:
        parent = getattr(obj, _CHILD[model][2], None)
        return getattr(parent, "customer_id", None) if parent is not None else None
    return None


def on_loan(user: Any, obj: Any) -> bool:
    """Whether ``obj`` is readable to ``user`` through a loan in force (read verbs only: the
    caller asks only for those)."""
    if type(obj) not in COVERED:
        return False
    return loan_for(user, customer_id_of(obj)) is not None


def _borrowed_now(user: Any) -> Any:
    now = clock.now()
    return select(ArchiveLoan.customer_id).where(
        ArchiveLoan.borrower_id == user.id,
        ArchiveLoan.status == LoanStatus.APPROVED.value,
        ArchiveLoan.starts_at <= now, ArchiveLoan.ends_at > now)


def widening_applies(user: Any, model: type) -> bool:
    """Whether ``widening(user, model)`` adds a condition (reads the loans as it does)."""
    return model in COVERED and bool(loans_in_force(user))


def widening(user: Any, model: type) -> ColumnElement[bool] | None:
    """The SQL condition of the rows of ``model`` a loan in force lets ``user`` read, or None
    (not a covered model, or no loan at all: the scope stays as it was)."""
    if not widening_applies(user, model):
        return None
    borrowed = _borrowed_now(user)
    if model in _DIRECT:
        return _DIRECT[model].in_(borrowed)
    fk, parent, _attr = _CHILD[model]
    parent_table: Any = parent
    return fk.in_(select(parent_table.id).where(parent_table.customer_id.in_(borrowed)))


def archives_of(model: type, ids: Any) -> Any:
    """The statement selecting the archives (customer ids) rows ``ids`` of ``model`` hang off
    (SQL twin of ``customer_id_of``, for rows loaded without their customer column)."""
    if model is Customer:
        return select(Customer.id).where(Customer.id.in_(ids))
    if model in _DIRECT:
        return select(_DIRECT[model]).where(model.id.in_(ids))  # type: ignore[attr-defined]
    fk, parent, _attr = _CHILD[model]
    parent_table: Any = parent
    return select(parent_table.customer_id).where(
        parent_table.id.in_(select(fk).where(model.id.in_(ids))))  # type: ignore[attr-defined]
