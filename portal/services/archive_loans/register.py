"""Archive loans: the borrowing register, a decider's 待办 and one's own loans."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from models import ArchiveLoan, User
from models.enums import LoanStatus
from portal import policy
from portal.services.archive_loans.common import APPROVE
from portal.services.archive_loans.state import STATES, state_sql


def register_stmt(actor: User, state: str | None = None) -> Any:
    """The borrowing register as the actor may read it: their own loans, those of archives
    in their scope (a manager: the department's; an auditor: all), newest first."""
    stmt = policy.scope(select(ArchiveLoan), actor, ArchiveLoan, "archive_loan.view")
    if state in STATES:
        stmt = stmt.where(state_sql() == state)
    return stmt.order_by(ArchiveLoan.requested_at.desc(), ArchiveLoan.id.desc())


def waiting_for(actor: User) -> Any:
    """Requests the actor may decide (their 待办), oldest first."""
    stmt = policy.scope(select(ArchiveLoan), actor, ArchiveLoan, APPROVE).where(
        ArchiveLoan.status == LoanStatus.REQUESTED.value,
        ArchiveLoan.borrower_id != actor.id)
    return stmt.order_by(ArchiveLoan.requested_at, ArchiveLoan.id)


def mine(actor: User) -> Any:
    """The actor's own loans and requests, newest first."""
    return register_stmt(actor).where(ArchiveLoan.borrower_id == actor.id)
