"""Customer archives, owner changes: reassign, claim, close, redistribute (R-CUST-2..7)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import Customer, CustomerCorrection, OwnerChange
from models.enums import CustomerStatus, Scope
from models.org import Branch, User
from portal import audit, clock, policy
from portal.services.customers import lapse
from portal.services.customers.derived import is_void, ownership_expired, service_lapsed
from portal.services.customers.owners import (
    _as_owned_by,
    _change_owner,
    _is_candidate,
    _owner_user,
    _wins_first_visit,
)
from portal.services.customers.update import _refuse_closed
from portal.services.customers.validation import _int_id
from portal.services.errors import (
    N_,
    NotFound,
    OutOfScope,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from portal.services.unit import check_version, load, verb


def _reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed(N_("Give a reason."), field="reason")
    if len(text) > 300:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."),
                               field="reason", label="reason", max=300)
    return text


def reassign_grounds(session: Session, actor: User, customer: Customer, new_owner_id: int,
                     now: datetime) -> list[str]:
    """The rule grounds on which ``actor`` may move the archive to ``new_owner_id`` now."""
    grounds: list[str] = []
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    if owner is None:
        grounds.append("no owner")
    elif not owner.is_active or owner.on_leave:
        grounds.append("R-CUST-6 owner left or on leave")
    if ownership_expired(customer, now):
        grounds.append("R-CUST-2 ownership expired")
    if is_void(customer, now):
        grounds.append("R-CUST-4 void card")
    scopes = policy.scopes_for(actor, "customer.reassign")
    if service_lapsed(customer, now) and scopes & {Scope.DEPARTMENT.value, Scope.ALL.value}:
        grounds.append("R-CUST-5 service lapse")
    if _wins_first_visit(session, customer, new_owner_id):
        grounds.append("R-CUST-3 first visit")
    return grounds


@verb
def reassign_owner(session: Session, actor: User, customer_id: int, new_owner_id: int,
                   reason: str, expected_version: int | None = None) -> Customer:
    """客户移交: a supervisor or manager moves an archive to another salesperson, on a rule
    ground (void card, expiry, lapse, owner gone, first visit); recorded (R-CUST-7)."""
    if not policy.can(actor, "customer.reassign"):
        raise PermissionDenied("customer.reassign", Customer)
    customer = load(session, actor, Customer, customer_id, "customer.reassign")
    check_version(customer, expected_version)
    new_id = _int_id(new_owner_id, "new_owner_id")
    if new_id is None:
        raise ValidationFailed(N_("Choose the new owner."), field="new_owner_id")
    text = _reason(reason)
    _refuse_closed(customer)
    if new_id == customer.owner_id:
        raise ValidationFailed(N_("%(user)s already owns this archive."), field="new_owner_id",
                               user=customer.owner.full_name if customer.owner else new_id)
    new_owner = _owner_user(session, new_id, "new_owner_id")
    branch = session.get(Branch, new_owner.branch_id)
    now = clock.now()
    # R-CUST-5: the company may hand a lapsed archive to other departments or staff
    elsewhere = not policy.can(actor, "customer.reassign",
                               _as_owned_by(customer, new_id, branch.id, branch.department_id))
    if elsewhere and not lapse.may_hand_lapsed(actor, customer, now):
        raise PermissionDenied("customer.reassign", customer,
                               N_("You may not hand archives to that salesperson."))
    grounds = reassign_grounds(session, actor, customer, new_id, now)
    if not grounds:
        raise RuleViolation(
            N_("The archive %(code)s is protected: its owner's registration is valid, it is "
               "followed up on time and served. It can be handed over only when the ownership "
               "expired, the card is void, service lapsed, the owner left, or by the "
               "first-visit rule."), rule="R-CUST-2", field="new_owner_id", code=customer.code)
    if elsewhere and not any(g.startswith("R-CUST-5") for g in grounds):
        raise PermissionDenied("customer.reassign", customer,
                               N_("You may not hand archives to that salesperson."))
    old_owner_id, old_department_id = customer.owner_id, customer.department_id
    _change_owner(session, actor, customer, new_id, f"[{'; '.join(grounds)}] {text}", now=now)
    if new_owner.department_id != old_department_id:
        lapse.tell_receiving_department(session, customer, old_owner_id, new_owner, now)
    return customer


@verb
def claim_customer(session: Session, actor: User, customer_id: int,
                   expected_version: int | None = None) -> Customer:
    """A salesperson claims an archive of their branch that is unowned or whose ownership
    expired (R-CUST-2), or where their first visit is earlier than the owner's (R-CUST-3)."""
    if not policy.can(actor, "customer.claim"):
        raise PermissionDenied("customer.claim", Customer)
    ident = _int_id(customer_id, "customer_id")
    customer = session.get(Customer, ident) if ident is not None else None
    if customer is None:
        raise NotFound()
    if actor.branch_id != customer.branch_id or not _is_candidate(session, actor.id,
                                                                   customer.branch_id):
        raise OutOfScope("customer.claim", customer)
    if not policy.can(actor, "customer.claim", _as_owned_by(customer, actor.id)):
        raise OutOfScope("customer.claim", customer)
    check_version(customer, expected_version)
    _refuse_closed(customer)
    if customer.owner_id == actor.id:
        raise ValidationFailed(N_("You already own this archive."), field="customer_id")
    now = clock.now()
    if customer.owner_id is None:
        ground = "no owner"
    elif ownership_expired(customer, now):
        ground = "R-CUST-2 ownership expired"
    elif _wins_first_visit(session, customer, actor.id):
        ground = "R-CUST-3 first visit"
    else:
        raise RuleViolation(
            N_("The archive %(code)s %(name)s is owned and its registration is still valid; "
               "it cannot be claimed (首访原则: the earlier reception owns it)."),
            rule="R-CUST-3", field="customer_id", code=customer.code,
            # R-CUST-1: a customer the claimant may not see is named by its code only
            name=customer.name if policy.can(actor, "customer.view", customer) else "",
            audit_action="customer.claim", audit_target=customer)
    _change_owner(session, actor, customer, actor.id, f"claim [{ground}]", now=now,
                  action="customer.claim")
    return customer


@verb
def close_customer(session: Session, actor: User, customer_id: int, reason: str,
                   expected_version: int | None = None) -> Customer:
    """Close an archive; it is kept with its whole history (R-CUST-8: no deletion)."""
    if not policy.can(actor, "customer.close"):
        raise PermissionDenied("customer.close", Customer)
    customer = load(session, actor, Customer, customer_id, "customer.close")
    check_version(customer, expected_version)
    text = _reason(reason)
    _refuse_closed(customer)
    before = audit.snapshot(customer, ["status", "closed_at"])
    customer.status = CustomerStatus.CLOSED.value
    customer.closed_at = clock.now()
    session.add(CustomerCorrection(customer_id=customer.id, field="status",
                                   old_value=before["status"], new_value=customer.status,
                                   changed_by_id=actor.id, changed_at=customer.closed_at))
    session.flush()
    audit.record(session, actor, "customer.close", customer, before=before,
                 after=audit.snapshot(customer, ["status", "closed_at"]), detail=text)
    return customer


def redistribute_inner(session: Session, actor: User | None, user_id: int,
                       reason: str) -> list[OwnerChange]:
    """``redistribute_customers_of`` without the transaction boundary (deactivate_user)."""
    leaving = session.get(User, _int_id(user_id, "user_id") or 0)
    if leaving is None:
        raise NotFound()
    text = _reason(reason)
    may_reassign = leaving.branch_id is not None and policy.can(
        actor, "customer.reassign",
        Customer(owner_id=None, branch_id=leaving.branch_id,
                 department_id=leaving.department_id))
    may_deactivate = policy.can(actor, "user.deactivate", leaving)
    if not (may_reassign or may_deactivate):
        raise PermissionDenied("customer.reassign", leaving)
    if leaving.is_active and not leaving.on_leave and not may_deactivate:
        raise RuleViolation(N_("%(user)s is neither leaving nor on leave; their archives stay "
                               "with them."), rule="R-CUST-6", field="user_id",
                            user=leaving.full_name)
    return _redistribute(session, actor, leaving, text)


def _redistribute(session: Session, actor: User | None, leaving: User,
                  text: str) -> list[OwnerChange]:
    customers = session.scalars(
        select(Customer).where(Customer.owner_id == leaving.id, Customer.closed_at.is_(None),
                               Customer.status != CustomerStatus.CLOSED.value)
        .order_by(Customer.id)).all()
    rng = secrets.SystemRandom()
    by_branch: dict[int, list[Customer]] = {}
    for c in customers:
        by_branch.setdefault(c.branch_id, []).append(c)
    now = clock.now()
    changes: list[OwnerChange] = []
    for branch_id, group in by_branch.items():
        candidates = [u.id for u in session.scalars(policy.owner_candidates_stmt(branch_id))
                      if u.id != leaving.id]
        rng.shuffle(candidates)
        rng.shuffle(group)
        for i, customer in enumerate(group):
            to = candidates[i % len(candidates)] if candidates else None
            changes.append(_change_owner(
                session, actor, customer, to,
                f"[R-CUST-6 随机抽数分配 {leaving.username}] {text}", now=now,
                action="customer.redistribute"))
    return changes


def redistribute_on_departure(session: Session, actor: User | None, user: User,
                              reason: str) -> list[OwnerChange]:
    """Called by ``users`` inside the deactivation / long-leave verb the actor was allowed to
    make (R-ROLE-4): redistributes without a second permission check, in that transaction."""
    text = (reason.strip() if isinstance(reason, str) else "") or "R-ROLE-4"
    return _redistribute(session, actor, user, text[:250])


@verb
def redistribute_customers_of(session: Session, actor: User, user_id: int,
                              reason: str) -> list[OwnerChange]:
    """R-CUST-6: the archives of a leaving or on-leave owner go, at random, to the remaining
    salespeople of their branch; every move is an OwnerChange (R-CUST-7)."""
    return redistribute_inner(session, actor, user_id, reason)
