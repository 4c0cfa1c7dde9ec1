"""老带新 (R-CUST-3, issue 16): a customer brought by an existing customer belongs to whoever
originally received the referrer (原始接待者), or to the referrer's current owner if that
person has left (inactive, on leave, or no longer a salesperson who may own archives)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Customer, OwnerChange, ReceptionRecord, User
from portal import policy


def original_receiver(session: Session, referrer: Customer) -> int | None:
    """Who first received the referrer: the staff member of its earliest reception record,
    else its first owner (the registration's owner record), else its current owner."""
    first_visit = session.scalar(
        select(ReceptionRecord.assigned_to_id).where(
            ReceptionRecord.customer_id == referrer.id,
            ReceptionRecord.assigned_to_id.is_not(None))
        .order_by(ReceptionRecord.arrived_at, ReceptionRecord.id).limit(1))
    if first_visit is not None:
        return first_visit
    first_owner = session.scalar(
        select(OwnerChange.to_user_id).where(OwnerChange.customer_id == referrer.id,
                                             OwnerChange.to_user_id.is_not(None))
        .order_by(OwnerChange.changed_at, OwnerChange.id).limit(1))
    return first_owner if first_owner is not None else referrer.owner_id


def _still_here(session: Session, user_id: int | None) -> bool:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None or user.branch_id is None:
        return False
    stmt = policy.owner_candidates_stmt(user.branch_id).where(User.id == user.id)
    return session.scalar(stmt) is not None


def referral_owner(session: Session, referrer: Customer) -> tuple[int | None, str]:
    """The owner of a customer the referrer brought, with the ground recorded."""
    original = original_receiver(session, referrer)
    if _still_here(session, original):
        return original, "R-CUST-3 referral: original receiver of the referrer"
    if _still_here(session, referrer.owner_id):
        return referrer.owner_id, ("R-CUST-3 referral: the original receiver left; current "
                                   "owner of the referrer")
    return None, "R-CUST-3 referral: nobody of the referrer's chain is here"
