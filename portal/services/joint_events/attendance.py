"""Attendance and sales at a joint event (R-CUST-10): credited to the department and the person
that confirmed the customer; the report of invitations, attendance and sales per department."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.enums import InvitationStatus
from models.joint_event import JointAttendance, JointEvent
from models.org import Department, User
from portal import audit, clock, policy
from portal.services.errors import N_, ValidationFailed
from portal.services.joint_events._common import entries_of, grant_then_load, may_coordinate
from portal.services.unit import load, verb

MAX_AMOUNT = Decimal("999999999999.99")


def _amount(value: Any) -> Decimal:
    if value in (None, ""):
        return Decimal("0")
    try:
        amount = Decimal(str(value).replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        raise ValidationFailed(N_("Give the amount as a number."), field="amount") from None
    if not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
        raise ValidationFailed(N_("Give the amount as a number."), field="amount")
    return amount.quantize(Decimal("0.01"))


@verb
def record_attendance(session: Session, actor: User, event_id: Any, customer_id: Any,
                      attended: bool, amount: Any = None) -> JointAttendance:
    """Record (or correct) whether a customer came and what they bought; credited to the
    department and person whose confirmed line holds the customer."""
    event = grant_then_load(session, actor, event_id, "joint_event.coordinate")
    value = _amount(amount)
    if not attended and value > 0:
        raise ValidationFailed(N_("A customer who did not attend bought nothing at the event."),
                               field="amount")
    try:
        cid = int(customer_id)
    except (TypeError, ValueError):
        cid = -1
    holder = next((e for e in entries_of(session, event.id, cid)
                   if e.status == InvitationStatus.CONFIRMED.value), None)
    if holder is None:
        raise ValidationFailed(N_("This customer is on no department's confirmed list for "
                                  "this event."), field="customer")
    row = session.scalar(select(JointAttendance).where(JointAttendance.event_id == event.id,
                                                       JointAttendance.customer_id == cid))
    before = None if row is None else {"attended": row.attended, "amount": str(row.amount)}
    if row is None:
        row = JointAttendance(event_id=event.id, customer_id=cid)
        session.add(row)
    row.attended, row.amount = bool(attended), value
    row.department_id, row.credited_user_id = holder.department_id, holder.confirmed_by_id
    row.recorded_by_id, row.recorded_at = actor.id, clock.now()
    session.flush()
    audit.record(session, actor, "joint_event.record_attendance", row, before=before,
                 after={"customer": cid, "attended": row.attended, "amount": str(value),
                        "department": row.department_id, "credited": row.credited_user_id})
    return row


@dataclass
class ReportRow:
    department: Department
    invited: int
    attended: int
    sales: Decimal


def report(session: Session, actor: User, event_id: Any) -> list[ReportRow]:
    """Invitations (confirmed lines), attendance and sales per department. The coordinator
    and company-wide readers see every department; a department sees its own row."""
    event = load(session, actor, JointEvent, event_id, "joint_event.view")
    every = may_coordinate(actor, event) or "all" in policy.scopes_for(actor, "joint_event.view")
    rows = []
    entries = entries_of(session, event.id)
    attendance = list(session.scalars(select(JointAttendance)
                                      .where(JointAttendance.event_id == event.id)))
    for department in event.departments:
        if not every and department.id != actor.department_id:
            continue
        mine = [a for a in attendance if a.department_id == department.id]
        rows.append(ReportRow(
            department=department,
            invited=sum(1 for e in entries if e.department_id == department.id
                        and e.status == InvitationStatus.CONFIRMED.value),
            attended=sum(1 for a in mine if a.attended),
            sales=sum((a.amount for a in mine), Decimal("0"))))
    return rows


def attendance_of(session: Session, actor: User, event: JointEvent) -> list[JointAttendance]:
    """The attendance rows of the event the user may see (policy scope)."""
    stmt = policy.scope(select(JointAttendance), actor, JointAttendance, "joint_event.view")
    return list(session.scalars(stmt.where(JointAttendance.event_id == event.id)
                                .order_by(JointAttendance.id)))
