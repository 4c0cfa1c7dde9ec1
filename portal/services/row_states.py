"""Derived states lists show as badges (overdue, due today, void, ownership expiring): decided
here, once per page of rows, never in a view. Built on the rule functions of the areas
(``complaints.is_overdue``, ``customers.is_void_sql``, ``customers.ownership_expired_sql``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import and_, case, select
from sqlalchemy.orm import Session

from models import Complaint, Customer
from models.enums import CustomerStatus
from portal import clock
from portal.services import complaints as complaint_rules
from portal.services import customers as customer_rules

# "Ownership expiring soon": the 建档有效期 ends within this many days (issue 14).
EXPIRING_SOON_DAYS = 7

OVERDUE = "overdue"
DUE_TODAY = "due_today"
VOID = "void"
OWNERSHIP_EXPIRED = "ownership_expired"
OWNERSHIP_EXPIRING = "ownership_expiring"


def complaint_deadline_state(complaint: Complaint, now: datetime | None = None) -> str | None:
    """``overdue`` (R-COMP-7: open and past its deadline), ``due_today`` (open, the deadline
    falls on today's company date) or None."""
    now = now or clock.now()
    if complaint_rules.is_overdue(complaint, now):
        return OVERDUE
    if complaint_rules.is_open(complaint) and complaint.deadline_at is not None:
        deadline = complaint.deadline_at
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=now.tzinfo)
        if deadline.astimezone(clock.COMPANY_TZ).date() == now.astimezone(clock.COMPANY_TZ).date():
            return DUE_TODAY
    return None


def ownership_expiring_sql(session: Session, now: datetime | None = None):
    """Open, owned, no deal, and the ownership validity ends within ``EXPIRING_SOON_DAYS``."""
    now = now or clock.now()
    return and_(Customer.owner_id.is_not(None), Customer.closed_at.is_(None),
                Customer.status != CustomerStatus.CLOSED.value, Customer.deal_at.is_(None),
                Customer.ownership_expires_at > now,
                Customer.ownership_expires_at <= now + timedelta(days=EXPIRING_SOON_DAYS))


def is_ownership_expiring(customer: Customer, now: datetime | None = None) -> bool:
    """Python twin of ``ownership_expiring_sql``."""
    now = now or clock.now()
    expires = customer.ownership_expires_at
    if expires is None or customer.owner_id is None or customer.closed_at is not None \
            or customer.status == CustomerStatus.CLOSED.value or customer.deal_at is not None:
        return False
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=now.tzinfo)
    return now < expires <= now + timedelta(days=EXPIRING_SOON_DAYS)


def customer_states(session: Session, customer_ids: Iterable[int],
                    now: datetime | None = None) -> dict[int, frozenset[str]]:
    """customer id → its derived states (``void``, ``ownership_expired``,
    ``ownership_expiring``), for a page of rows in one statement."""
    ids = sorted({i for i in customer_ids if i is not None})
    if not ids:
        return {}
    now = now or clock.now()
    conditions = {
        VOID: customer_rules.is_void_sql(session, now),
        OWNERSHIP_EXPIRED: customer_rules.ownership_expired_sql(session, now),
        OWNERSHIP_EXPIRING: ownership_expiring_sql(session, now),
    }
    stmt = select(Customer.id, *[case((cond, 1), else_=0).label(name)
                                 for name, cond in conditions.items()]
                  ).where(Customer.id.in_(ids))
    states: dict[int, frozenset[str]] = {}
    for row in session.execute(stmt):
        states[row[0]] = frozenset(name for name, flag in zip(conditions, row[1:], strict=True)
                                   if flag)
    return states


def customer_status(customer: Customer, states: frozenset[str]) -> str:
    """The status to show: ``void`` is derived (R-CUST-4), never stored."""
    if VOID in states and customer.status == "prospect":
        return VOID
    return customer.status
