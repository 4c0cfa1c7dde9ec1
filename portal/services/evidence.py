"""First-visit evidence (R-CUST-3, 首访原则): which reception records may decide who owns a
customer, and the checks a new record passes so that nobody manufactures evidence.

- Only records the front desk or a supervisor entered on the day of the visit count; a
  supervisor's entry for another day is the confirmation such a record needs.
- An arrival in the future or before the day of entry is refused unless a supervisor enters it.
- A salesperson cannot name themselves as the designated staff on a record they enter.
- Matching a walk-in to an archive stays inside the service: an archive the person entering
  the record may not link to is neither linked nor revealed.
- The 2-month validity (R-CUST-2) applies to the evidence: a claimant's record older than the
  ownership validity counts only if it led to a deal.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models.customer import Customer
from models.enums import ReceptionOutcome
from models.org import User
from models.reception import ReceptionRecord
from portal import clock, policy, settings
from portal.services.errors import N_, RuleViolation

FUTURE_TOLERANCE = timedelta(minutes=5)  # clocks of the desk PCs drift a little


def _day(moment: datetime) -> Any:
    return moment.astimezone(clock.COMPANY_TZ).date()


def check_arrival(actor: User, arrived: datetime, now: datetime) -> None:
    """Refuse an arrival in the future or before today unless a supervisor enters it."""
    if policy.records_other_day_arrivals(actor):
        return
    if arrived > now + FUTURE_TOLERANCE or _day(arrived) < _day(now):
        raise RuleViolation(
            N_("首访原则: only a supervisor records an arrival in the future or before today."),
            rule="R-CUST-3", field="arrived_at", audit_action="reception.add",
            audit_target=ReceptionRecord)


def check_designation(actor: User, designated_id: int | None) -> None:
    """A salesperson does not name themselves as the visitor's designated staff."""
    if designated_id is not None and designated_id == actor.id \
            and not policy.enters_first_visit_evidence(actor):
        raise RuleViolation(
            N_("首访原则: you cannot name yourself as the designated staff on a record you "
               "enter; the front desk or the supervisor records it."),
            rule="R-CUST-3", field="designated_staff_id", audit_action="reception.add",
            audit_target=ReceptionRecord)


def counts(actor: User, arrived: datetime, now: datetime) -> bool:
    """Whether a record the actor enters now for this arrival is first-visit evidence."""
    if policy.records_other_day_arrivals(actor):
        return True
    return policy.enters_first_visit_evidence(actor) and _day(arrived) == _day(now)


def may_link(actor: User, customer: Customer) -> bool:
    """Whether a matched archive may be linked to (and so shown on) the actor's record."""
    return policy.can(actor, "customer.view", customer) \
        or policy.can(actor, "customer.lookup", customer)


def validity_start(session: Session, now: datetime | None = None) -> datetime:
    days = int(settings.get(session, "customer.ownership_validity_days"))
    return (now or clock.now()) - timedelta(days=days)


def evidence_condition(valid_since: datetime | None = None) -> ColumnElement[bool]:
    """SQL: the reception records that count as first-visit evidence (still valid, or led to a
    deal, when ``valid_since`` is given)."""
    cond = ReceptionRecord.counts_as_evidence.is_(True)
    if valid_since is not None:
        cond = and_(cond, or_(ReceptionRecord.arrived_at >= valid_since,
                              ReceptionRecord.outcome == ReceptionOutcome.DEAL.value))
    return cond
