"""Complaints that turn serious after registration (issue 16):

- R-COMP-3: a complaint can be re-graded major (重大投诉) with a reason at any open step; that
  escalates it at once (department manager and general manager told) and its resolution then
  needs the general manager's approval — a resolution already approved without it goes back
  to "resolution proposed".
- R-COMP-7: a complaint not resolved within 3 working days of its registration
  ("三日之内不能处理好") lets the department manager or the general manager hand the customer to a
  staff member of another department: a real change of owner with that ground, recorded like
  any other (R-CUST-7).
- R-COMP-8: the service lead is reminded on the 1st of each month that last month's statistics
  are due by the 10th.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Complaint, Customer, User
from models.enums import ComplaintStatus, Severity
from portal import audit, clock, policy, settings
from portal.services import calendar, notifications
from portal.services.complaints import (
    _escalate,
    _event,
    _not_accused,
    _snap,
    _text,
    approval_actions,
    is_open,
)
from portal.services.customers.owners import _change_owner, _is_candidate, _owner_user
from portal.services.customers.update import _refuse_closed
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import check_version, load, verb

S = ComplaintStatus

# "Resolved" for R-COMP-7: a resolution was approved (or the complaint ended).
UNRESOLVED_STATUSES = (S.REGISTERED.value, S.ASSIGNED.value, S.INVESTIGATING.value,
                       S.PROPOSED.value)


# ---------------------------------------------------------------------------------------------
# R-COMP-3: re-grade major
# ---------------------------------------------------------------------------------------------


def may_regrade(actor: User, c: Complaint) -> bool:
    """Who triages complaints (``complaint.assign``: service staff, the department manager,
    the general manager by the default grants) may re-grade one."""
    return policy.can(actor, "complaint.assign", c)


def can_regrade(c: Complaint) -> bool:
    return is_open(c) and c.severity != Severity.MAJOR.value


@verb
def regrade_major(session: Session, actor: User, complaint_id: int, reason: str,
                  expected_version: int | None = None) -> Complaint:
    """R-COMP-3: re-grade an open complaint major (repeat, media, collective…) with a reason;
    escalate it at once. A resolution approved without the general manager goes back to
    "resolution proposed" for the general manager's approval."""
    c = load(session, actor, Complaint, complaint_id, "complaint.view")
    if not may_regrade(actor, c):
        raise PermissionDenied("complaint.assign", c)
    check_version(c, expected_version)
    _not_accused(actor, c, "complaint.assign")
    if not is_open(c):
        raise RuleViolation(N_("Only an open complaint can be re-graded."), rule="R-COMP-3")
    if c.severity == Severity.MAJOR.value:
        raise RuleViolation(N_("This complaint is already major."), rule="R-COMP-3")
    text = _text(reason, "reason", N_("Say why this complaint is major."))
    before = _snap(c)
    now = clock.now()
    back_to_proposed = c.status == S.APPROVED.value
    ev = _event(session, c, actor, S.PROPOSED.value if back_to_proposed else c.status,
                f"re-graded major: {text}")
    c.severity = Severity.MAJOR.value
    c.major_reason = text[:200]
    if back_to_proposed:
        c.status = S.PROPOSED.value
    c.escalated_at = now
    c.updated_at = now
    session.flush()
    _escalate(session, c, now)
    audit.record(session, actor, "complaint.regrade", c, before=before, after=_snap(c),
                 detail=f"event {ev.id}")
    return c


# ---------------------------------------------------------------------------------------------
# R-COMP-7: hand the customer to another department
# ---------------------------------------------------------------------------------------------


def transfer_due_at(session: Session, c: Complaint) -> datetime:
    """End of the N-th working day after the registration day (setting, default 3)."""
    n = int(settings.get(session, "complaint.transfer_working_days"))
    day = calendar.add_working_days(session, calendar.company_date(c.registered_at), n)
    return calendar.end_of_company_day(day)


def transfer_allowed(session: Session, c: Complaint, now: datetime | None = None) -> bool:
    """R-COMP-7: not resolved within N working days of registration (whatever the deadline
    or an extension says)."""
    now = now or clock.now()
    return c.status in UNRESOLVED_STATUSES and now > transfer_due_at(session, c)


def may_hand_over(actor: User, c: Complaint) -> bool:
    """The department manager or the general manager: who approves complaints and reassigns
    customers (grants, so no role is named here)."""
    return policy.can(actor, "complaint.approve", c) and policy.can(
        actor, "customer.reassign", c.customer)


@verb
def hand_to_other_department(session: Session, actor: User, complaint_id: int,
                             new_owner_id: Any, reason: str,
                             expected_version: int | None = None) -> Complaint:
    """R-COMP-7: move the complaint's customer to a salesperson of another department; the
    ownership change is recorded with the ground (R-CUST-7) and both owners are told."""
    c = load(session, actor, Complaint, complaint_id, "complaint.view")
    if not may_hand_over(actor, c):
        raise PermissionDenied("customer.reassign", c)
    check_version(c, expected_version)
    _not_accused(actor, c, "complaint.assign")
    try:
        new_id = int(getattr(new_owner_id, "id", new_owner_id))
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Choose the new owner."), field="new_owner_id") from None
    text = _text(reason, "reason", N_("Give a reason."))
    now = clock.now()
    if not transfer_allowed(session, c, now):
        raise RuleViolation(
            N_("The customer can be handed to another department only when the complaint is "
               "not resolved %(days)s working days after its registration (from %(at)s)."),
            rule="R-COMP-7", days=int(settings.get(session, "complaint.transfer_working_days")),
            at=transfer_due_at(session, c))
    customer = session.get(Customer, c.customer_id)
    _refuse_closed(customer)
    new_owner = _owner_user(session, new_id, "new_owner_id")
    if new_owner.department_id == customer.department_id:
        raise ValidationFailed(N_("Choose a salesperson of another department."),
                               field="new_owner_id")
    old_owner = customer.owner_id
    ground = f"[R-COMP-7 complaint {c.number} not resolved in time] {text}"
    _change_owner(session, actor, customer, new_owner.id, ground, now=now)
    ev = _event(session, c, actor, c.status, f"customer handed to {new_owner.username}: {text}")
    c.updated_at = now
    notifications.notify(
        session, user_ids=[u for u in (old_owner, new_owner.id, c.received_by_id) if u],
        kind="complaint.handed_over",
        message=N_("Complaint %(number)s: customer %(code)s handed to another department."),
        params={"number": c.number, "code": customer.code}, target=c,
        dedupe_key=f"complaint.handed_over:{c.id}:{ev.id}", now=now)
    audit.record(session, actor, "complaint.hand_over", c,
                 detail=f"customer {customer.code} → {new_owner.username}")
    return c


def handover_candidates(session: Session) -> list[User]:
    """Active, present salespeople with a branch (the portal's picker; the verb refuses one of
    the customer's own department)."""
    users = session.scalars(select(User).where(
        User.is_active.is_(True), User.on_leave.is_(False), User.branch_id.is_not(None))
        .order_by(User.department_id, User.full_name)).all()
    return [u for u in users if _is_candidate(session, u.id, u.branch_id)]


def extra_operations(session: Session, c: Complaint) -> set[str]:
    """The re-grade and hand-over buttons that apply now (for ``allowed_operations``)."""
    ops = set()
    if can_regrade(c):
        ops.add("regrade_major")
    if transfer_allowed(session, c):
        ops.add("hand_to_other_department")
    return ops


# ---------------------------------------------------------------------------------------------
# The scheduled part: hand-over suggestion (R-COMP-7), statistics reminder (R-COMP-8)
# ---------------------------------------------------------------------------------------------


def handover_and_statistics(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Tell the first responder and the responsible department's managers when a complaint
    passes N working days unresolved (once per complaint and person); on the 1st of a month,
    remind the service lead(s) that last month's statistics are due by the 10th."""
    now = now or clock.now()
    counts = {"handover_suggestions": 0, "statistics_reminders": 0}
    open_rows = session.scalars(select(Complaint).where(
        Complaint.status.in_(UNRESOLVED_STATUSES)).order_by(Complaint.id)).all()
    for c in open_rows:
        if not transfer_allowed(session, c, now):
            continue
        managers = [u for u in policy.users_with(session, "complaint.approve", c)
                    if u.id != c.accused_user_id
                    and (u.department_id == c.responsible_department_id
                         or "complaint.approve_major" in approval_actions(session, c))]
        counts["handover_suggestions"] += notifications.notify(
            session, user_ids=[u for u in (c.received_by_id, *(m.id for m in managers)) if u],
            kind="complaint.transfer",
            message=N_("Complaint %(number)s is not resolved %(days)s working days after its "
                       "registration: the customer may be handed to staff of another "
                       "department."),
            params={"number": c.number,
                    "days": str(settings.get(session, "complaint.transfer_working_days"))},
            target=c, dedupe_key=f"complaint.transfer:{c.id}", now=now)
    session.commit()
    today = calendar.company_date(now)
    if today.day == 1:
        last = f"{today.year - (today.month == 1):04d}-{(today.month - 2) % 12 + 1:02d}"
        counts["statistics_reminders"] += notifications.notify(
            session, user_ids=[u.id for u in statistics_leads(session)],
            kind="complaint.statistics_due",
            message=N_("Complaint statistics of %(month)s (cases closed and registered) are "
                       "due by the 10th."),
            params={"month": last}, target=None,
            dedupe_key=f"complaint.statistics_due:{last}", now=now)
        session.commit()
    return counts


def statistics_leads(session: Session) -> list[User]:
    """Who compiles the monthly complaint statistics: holders of ``complaint.close`` on every
    complaint (the service staff, by the default grants)."""
    return [u for u in policy.users_with(session, "complaint.close", None)]
