"""Customer archives, scheduled events (notifications only; the state itself is derived)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.customer import Customer
from models.enums import Scope
from models.settings import Notification
from portal import clock, policy
from portal.services import notifications
from portal.services.customers.derived import (
    cadence_baseline,
    follow_up_due,
    is_void_sql,
    ownership_expired_sql,
    service_lapsed_sql,
)
from portal.services.errors import N_


def _notify(session: Session, existing: set[str], user_id: int | None, kind: str,
            customer: Customer, message: str, key: str, now: datetime) -> bool:
    """One notification through ``notifications.notify``; ``existing`` (the keys already
    recorded, read once per run) spares a statement per card already notified."""
    if f"{key}:{user_id}"[:200] in existing:
        return False
    existing.add(f"{key}:{user_id}"[:200])
    return bool(notifications.notify(
        session, user_ids=[user_id], kind=kind, message=message,
        params={"code": customer.code, "customer": customer.name}, target=customer,
        dedupe_key=key, now=now))


def _managers(session: Session, cache: dict, customer: Customer, wide: bool) -> list[int]:
    """Who may hand this archive over: branch-scope reassigners, or department-scope ones
    (for lapses); company-wide holders are not paged for every card."""
    key = (customer.branch_id, customer.department_id, wide)
    if key not in cache:
        probe = Customer(owner_id=None, branch_id=customer.branch_id,
                         department_id=customer.department_id)
        wanted = {Scope.DEPARTMENT.value} if wide else {Scope.BRANCH.value}
        cache[key] = [u.id for u in policy.users_with(session, "customer.reassign", probe)
                      if policy.scopes_for(u, "customer.reassign") & wanted]
    return cache[key]


def tick(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Record notifications for void cards, expired ownerships and service lapses (idempotent
    through ``dedupe_key``); commits. Returns how many were recorded per kind. A concurrent
    run that recorded the same events first makes this one start over once."""
    now = now or clock.now()
    try:
        counts = _tick_once(session, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        counts = _tick_once(session, now)
        session.commit()
    return counts


def _tick_once(session: Session, now: datetime) -> dict[str, int]:
    counts = {"customer.void": 0, "customer.ownership_expired": 0,
              "customer.service_lapsed": 0}
    existing = set(session.scalars(select(Notification.dedupe_key)
                                   .where(Notification.kind.in_(list(counts)))))
    cache: dict = {}
    for c in session.scalars(select(Customer).where(is_void_sql(session, now))
                             .order_by(Customer.id)):
        due = follow_up_due(c)
        msg = N_("Void card: %(code)s %(customer)s was not followed up in time.")
        for uid in dict.fromkeys([c.owner_id, *_managers(session, cache, c, wide=False)]):
            if _notify(session, existing, uid, "customer.void", c, msg,
                       f"customer.void:{c.id}:{due:%Y%m%d%H%M%S}", now):
                counts["customer.void"] += 1
    for c in session.scalars(select(Customer).where(ownership_expired_sql(session, now))
                             .order_by(Customer.id)):
        exp = c.ownership_expires_at
        msg = N_("The ownership of %(code)s %(customer)s has expired: the archive may be "
                 "claimed.")
        for uid in dict.fromkeys([c.owner_id, *_managers(session, cache, c, wide=False)]):
            if _notify(session, existing, uid, "customer.ownership_expired", c, msg,
                       f"customer.expired:{c.id}:{exp:%Y%m%d%H%M%S}", now):
                counts["customer.ownership_expired"] += 1
    for c in session.scalars(select(Customer).where(service_lapsed_sql(session, now))
                             .order_by(Customer.id)):
        last = max(c.last_service_at or c.registered_at, cadence_baseline(c))
        msg = N_("Service lapse: %(code)s %(customer)s has had no service for too long.")
        for uid in dict.fromkeys([c.owner_id, *_managers(session, cache, c, wide=True)]):
            if _notify(session, existing, uid, "customer.service_lapsed", c, msg,
                       f"customer.lapsed:{c.id}:{last:%Y%m%d%H%M%S}", now):
                counts["customer.service_lapsed"] += 1
    session.flush()
    return counts
