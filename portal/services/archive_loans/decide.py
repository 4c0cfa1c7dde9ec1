"""Archive loans: deciding a request, returning and revoking a loan."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from models import ArchiveLoan, User
from models.enums import LoanStatus
from portal import audit, clock, policy
from portal.services import notifications
from portal.services.archive_loans.common import APPROVE, REQUEST, RULE, _reason
from portal.services.archive_loans.state import is_in_force, loan_end
from portal.services.errors import (
    N_,
    Conflict,
    NotFound,
    OutOfScope,
    PermissionDenied,
    RuleViolation,
)
from portal.services.unit import check_version, load, verb


def _load_for_approver(session: Session, actor: User, loan_id: Any,
                       verb_action: str = APPROVE) -> ArchiveLoan:
    """A loan the actor may decide or revoke (missing and out of scope answer alike); their
    own request is refused by name (they know it exists)."""
    try:
        ident = int(loan_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not -(2**31) <= ident < 2**31:
        raise NotFound()
    loan = session.get(ArchiveLoan, ident)
    if loan is None:
        raise NotFound()
    if loan.borrower_id == actor.id:
        raise RuleViolation(N_("Nobody decides their own request."), rule=RULE,
                            audit_action=verb_action, audit_target=loan)
    if not policy.can(actor, APPROVE, loan.customer):
        raise OutOfScope(verb_action, loan)
    return loan


def may_decide(actor: Any, loan: ArchiveLoan) -> bool:
    """For the doors: whether to offer approve/refuse on this loan."""
    return loan.status == LoanStatus.REQUESTED.value \
        and loan.borrower_id != getattr(actor, "id", None) \
        and policy.can(actor, APPROVE, loan.customer)


def may_revoke(actor: Any, loan: ArchiveLoan) -> bool:
    return is_in_force(loan) and policy.can(actor, APPROVE, loan.customer)


def may_return(actor: Any, loan: ArchiveLoan) -> bool:
    return is_in_force(loan) and loan.borrower_id == getattr(actor, "id", None)


def _tell(session: Session, loan: ArchiveLoan, kind: str, message: str,
          to_owner: bool = True) -> None:
    """The borrower and the archive's owner are told (title and link only)."""
    customer = loan.customer
    ids = [loan.borrower_id]
    if to_owner and customer.owner_id and customer.owner_id != loan.borrower_id:
        ids.append(customer.owner_id)
    borrower = loan.borrower
    notifications.notify(
        session, user_ids=ids, kind=kind, message=message,
        params={"loan": loan.id, "code": customer.code,
                "borrower": borrower.full_name if borrower else "",
                "until": loan.ends_at},
        target=loan, dedupe_key=f"{kind}:{loan.id}")


@verb
def decide_access(session: Session, actor: User, loan_id: Any, approve: bool,
                  reason: Any = None, expected_version: int | None = None) -> ArchiveLoan:
    """Approve (the loan runs from now for the working days asked) or refuse (a reason is
    required)."""
    if not policy.can(actor, APPROVE):
        raise PermissionDenied(APPROVE, ArchiveLoan)
    loan = _load_for_approver(session, actor, loan_id)
    check_version(loan, expected_version)
    if loan.status != LoanStatus.REQUESTED.value:
        raise Conflict(N_("This request was already decided."))
    note = _reason(reason, "reason") if not approve or (isinstance(reason, str)
                                                        and reason.strip()) else None
    now = clock.now()
    loan.decided_by_id, loan.decided_at, loan.decision_reason = actor.id, now, note
    if approve:
        loan.status = LoanStatus.APPROVED.value
        loan.starts_at = now
        loan.ends_at = loan_end(session, now, loan.requested_days)
    else:
        loan.status = LoanStatus.REFUSED.value
    session.flush()
    audit.record(session, actor, APPROVE if approve else "archive_loan.refuse", loan,
                 after={"status": loan.status, "ends_at": loan.ends_at}, detail=note)
    if approve:
        _tell(session, loan, "archive_loan.approved",
              N_("Loan #%(loan)s: %(borrower)s may read archive %(code)s until %(until)s."))
    else:
        _tell(session, loan, "archive_loan.refused",
              N_("Loan #%(loan)s: the request of %(borrower)s to read archive %(code)s was "
                 "refused."))
    _done_for_deciders(session, loan)
    return loan


def _done_for_deciders(session: Session, loan: ArchiveLoan) -> None:
    """The request leaves every decider's 待办 once decided."""
    from sqlalchemy import update

    from models import Notification

    session.execute(update(Notification).where(
        Notification.kind == "archive_loan.awaiting_decision",
        Notification.target_type == "ArchiveLoan", Notification.target_id == str(loan.id),
        Notification.read_at.is_(None)).values(read_at=clock.now())
        .execution_options(synchronize_session=False))


@verb
def return_loan(session: Session, actor: User, loan_id: Any,
                expected_version: int | None = None) -> ArchiveLoan:
    """The borrower gives the archive back before the loan's end."""
    if not policy.can(actor, REQUEST):
        raise PermissionDenied("archive_loan.return", ArchiveLoan)
    loan = load(session, actor, ArchiveLoan, loan_id, "archive_loan.view")
    if loan.borrower_id != actor.id:
        raise RuleViolation(N_("Only the borrower returns a loan."), rule=RULE,
                            audit_action="archive_loan.return", audit_target=loan)
    check_version(loan, expected_version)
    if not is_in_force(loan):
        raise Conflict(N_("This loan is not in force."))
    now = clock.now()
    loan.status, loan.returned_at, loan.ended_by_id = LoanStatus.RETURNED.value, now, actor.id
    session.flush()
    audit.record(session, actor, "archive_loan.return", loan, after={"status": loan.status})
    return loan


@verb
def revoke_loan(session: Session, actor: User, loan_id: Any, reason: Any,
                expected_version: int | None = None) -> ArchiveLoan:
    """Who may approve a loan ends it before its time, with a reason; the borrower is told."""
    if not policy.can(actor, APPROVE):
        raise PermissionDenied("archive_loan.revoke", ArchiveLoan)
    loan = _load_for_approver(session, actor, loan_id, "archive_loan.revoke")
    check_version(loan, expected_version)
    if not is_in_force(loan):
        raise Conflict(N_("This loan is not in force."))
    why = _reason(reason)
    now = clock.now()
    loan.status, loan.returned_at, loan.ended_by_id = LoanStatus.REVOKED.value, now, actor.id
    loan.end_reason = why
    session.flush()
    audit.record(session, actor, "archive_loan.revoke", loan, after={"status": loan.status},
                 detail=why)
    _tell(session, loan, "archive_loan.revoked",
          N_("Loan #%(loan)s of archive %(code)s was revoked."))
    return loan
