"""服务不到位 (R-CUST-5): who may take a lapsed archive, and the hand-over to another department.

The policy text: a customer with no follow-up, no visit, or whom an invitation did not bring
(邀不来) for the lapse period is not served; *the company* may hand it to other departments or
staff. The department manager (a department-wide ``customer.reassign``) or the general manager
(company-wide) may therefore move a lapsed archive to any active salesperson, also outside
their own scope; every other reassignment stays inside the actor's scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import Customer
from models.enums import Scope
from models.org import User
from portal import clock, policy
from portal.services import notifications
from portal.services.customers.derived import service_lapsed
from portal.services.customers.owners import _is_candidate
from portal.services.errors import N_

COMPANY_SCOPES = frozenset({Scope.DEPARTMENT.value, Scope.ALL.value})


def may_hand_lapsed(actor: User, customer: Customer, now: datetime | None = None) -> bool:
    """The actor may move this lapsed archive to staff of any department (R-CUST-5)."""
    return bool(policy.scopes_for(actor, "customer.reassign") & COMPANY_SCOPES) \
        and policy.can(actor, "customer.reassign", customer) \
        and service_lapsed(customer, now or clock.now())


def reassign_candidates(session: Session, actor: User, customers: Iterable[Customer],
                        now: datetime | None = None) -> list[User]:
    """The people the actor may pick as the new owner of ``customers``: the salespeople of the
    archives' branches in the actor's scope; when every archive is lapsed and the actor may hand
    it on, the active salespeople of every department (grouped by department, by name)."""
    rows = list(customers)
    now = now or clock.now()
    seen: dict[int, User] = {}
    for branch_id in sorted({c.branch_id for c in rows}):
        stmt = policy.scope(policy.owner_candidates_stmt(branch_id), actor, User)
        for u in session.scalars(stmt):
            seen.setdefault(u.id, u)
    if rows and all(may_hand_lapsed(actor, c, now) for c in rows):
        others = session.scalars(select(User).where(
            User.is_active.is_(True), User.on_leave.is_(False), User.branch_id.is_not(None))
            .order_by(User.department_id, User.full_name)).all()
        for u in others:
            if u.id not in seen and u.branch_id is not None \
                    and _is_candidate(session, u.id, u.branch_id):
                seen[u.id] = u
    return list(seen.values())


def tell_receiving_department(session: Session, customer: Customer, old_owner_id: int | None,
                              new_owner: User, now: datetime) -> None:
    """The former owner, the new owner and the receiving department's managers are told."""
    managers = [u.id for u in policy.department_managers(session, new_owner.department_id)] \
        if new_owner.department_id else []
    notifications.notify(
        session, user_ids=[u for u in (old_owner_id, new_owner.id, *managers) if u],
        kind="customer.lapse_handed_over",
        message=N_("Service lapse: %(code)s was handed to %(user)s of another department."),
        params={"code": customer.code, "user": new_owner.full_name}, target=customer,
        dedupe_key=f"customer.lapse_handed_over:{customer.id}:{new_owner.id}:"
                   f"{now:%Y%m%d%H%M%S}", now=now)


def load_demo_handover(session: Session) -> int:
    """Demo (R-CUST-5): the general manager hands one lapsed archive to a salesperson of
    another department, through ``reassign_owner`` (recorded, audited, the receiving department
    told). Returns how many were handed over (0 or 1)."""
    from portal.services.customers.derived import service_lapsed_sql
    from portal.services.customers.reassign import reassign_owner

    gm = session.scalar(select(User).where(User.username == "gm"))
    if gm is None:
        return 0
    lapsed = session.scalars(select(Customer).where(service_lapsed_sql(session))
                             .order_by(Customer.id).limit(50)).all()
    for customer in lapsed:
        if not may_hand_lapsed(gm, customer):
            continue
        target = next((u for u in reassign_candidates(session, gm, [customer])
                       if u.department_id != customer.department_id), None)
        if target is None:
            continue
        reassign_owner(session, gm, customer.id, target.id,
                       "三个月无服务、邀约未到（服务不到位），公司移交其他部门跟进")
        return 1
    return 0
