"""Customer archives: owners and first-visit evidence (R-CUST-3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models.customer import Customer, OwnerChange
from models.org import Branch, User
from models.reception import ReceptionRecord
from portal import audit, policy
from portal.services.customers.derived import _setting_days
from portal.services.errors import N_, ValidationFailed


def _as_owned_by(customer: Customer, owner_id: int | None, branch_id: int | None = None,
                 department_id: int | None = None) -> Customer:
    """A transient stand-in with the chain the archive would have (for scope checks)."""
    return Customer(owner_id=owner_id, branch_id=branch_id or customer.branch_id,
                    department_id=department_id or customer.department_id)


def _is_candidate(session: Session, user_id: int, branch_id: int) -> bool:
    stmt = policy.owner_candidates_stmt(branch_id).where(User.id == user_id)
    return session.scalar(stmt) is not None


def _owner_user(session: Session, user_id: int, field: str = "owner_id") -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.on_leave or user.branch_id is None \
            or not _is_candidate(session, user.id, user.branch_id):
        raise ValidationFailed(N_("The chosen owner is not an active salesperson."),
                               field=field)
    return user


def _change_owner(session: Session, actor: User | None, customer: Customer,
                  new_owner_id: int | None, reason: str, *, now: datetime,
                  action: str = "customer.reassign") -> OwnerChange:
    """Move the archive, renew a prospect's validity, record the move (R-CUST-7) and audit."""
    before = {"owner_id": customer.owner_id, "branch_id": customer.branch_id,
              "department_id": customer.department_id,
              "ownership_expires_at": customer.ownership_expires_at}
    change = OwnerChange(customer_id=customer.id, from_user_id=customer.owner_id,
                         to_user_id=new_owner_id, changed_by_id=getattr(actor, "id", None),
                         changed_at=now, reason=reason[:300])
    customer.owner_id = new_owner_id
    if new_owner_id is not None:
        owner = session.get(User, new_owner_id)
        if owner is not None and owner.branch_id and owner.branch_id != customer.branch_id:
            branch = session.get(Branch, owner.branch_id)
            customer.branch_id = branch.id
            customer.department_id = branch.department_id
        if customer.deal_at is None:
            customer.ownership_expires_at = now + _setting_days(
                session, "customer.ownership_validity_days")
    session.add(change)
    customer.owner_changes.append(change)
    session.flush()
    session.expire(customer, ["owner", "branch", "department"])
    after = {"owner_id": customer.owner_id, "branch_id": customer.branch_id,
             "department_id": customer.department_id,
             "ownership_expires_at": customer.ownership_expires_at}
    audit.record(session, actor, action, customer, before=before, after=after, detail=reason)
    return change


def first_visit_at(session: Session, customer: Customer, user_id: int,
                   valid_since: datetime | None = None) -> datetime | None:
    """R-CUST-3 evidence: the earliest reception record of the customer served by ``user_id``
    that counts as evidence (``portal.services.evidence``; still valid when ``valid_since``),
    or the registration that made them its first owner."""
    from portal.services import evidence

    served = session.scalar(
        select(func.min(ReceptionRecord.arrived_at)).where(
            ReceptionRecord.customer_id == customer.id,
            evidence.evidence_condition(valid_since),
            or_(ReceptionRecord.assigned_to_id == user_id,
                and_(ReceptionRecord.assigned_to_id.is_(None),
                     ReceptionRecord.received_by_id == user_id))))
    times = [served] if served is not None else []
    changes = sorted(customer.owner_changes, key=lambda oc: (oc.changed_at, oc.id or 0))
    first_owner = changes[0].to_user_id if changes else customer.owner_id
    if first_owner == user_id:
        times.append(customer.first_contact_at or customer.registered_at)
    return min(times) if times else None


def _owner_evidence(session: Session, customer: Customer) -> datetime | None:
    """When the current owner's claim starts: their first visit, else the move that gave
    them the archive."""
    if customer.owner_id is None:
        return None
    own = first_visit_at(session, customer, customer.owner_id)
    moves = [oc.changed_at for oc in customer.owner_changes if oc.to_user_id == customer.owner_id]
    candidates = [t for t in [own, min(moves) if moves else None] if t is not None]
    return min(candidates) if candidates else customer.registered_at


def _wins_first_visit(session: Session, customer: Customer, user_id: int) -> bool:
    if customer.owner_id is None or customer.owner_id == user_id:
        return False
    if any(oc.from_user_id == user_id for oc in customer.owner_changes):
        return False  # a former owner who lost the archive cannot take it back this way
    from portal.services import evidence

    mine = first_visit_at(session, customer, user_id, evidence.validity_start(session))
    theirs = _owner_evidence(session, customer)
    return mine is not None and theirs is not None and mine < theirs
