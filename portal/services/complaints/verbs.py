"""Complaints: the write verbs (R-COMP-1..7, R-COMP-10): register, assign, investigate,
propose, approve, reply, close, reject, extend, remind, delete."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Complaint, ComplaintReminder, Customer, Department, User
from models.enums import ComplaintCause, ComplaintChannel, ComplaintType, Severity
from portal import audit, clock, policy, settings
from portal.services import notifications
from portal.services.accepts import accepts
from portal.services.complaints._common import COLLECTIVE_MIN_CUSTOMERS, MAJOR_FLAGS, S
from portal.services.complaints.state import (
    _choice,
    _event,
    _ids,
    _money,
    _not_accused,
    _notify_step,
    _require_handler,
    _snap,
    _step_check,
    _text,
    compute_deadline,
    is_open,
    next_number,
)
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import check_version, load, verb

# ---------------------------------------------------------------------------------------------
# Verbs
# ---------------------------------------------------------------------------------------------


def major_reasons(session: Session, data: dict[str, Any], customer_id: int,
                  now: datetime) -> list[str]:
    """R-COMP-3: which major-complaint criteria the registration data meets."""
    reasons: list[str] = []
    window = now - timedelta(days=int(settings.get(session, "complaint.repeat_days")))
    earlier = session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.customer_id == customer_id,
        Complaint.type == ComplaintType.COMPLAINT.value,
        Complaint.registered_at >= window))
    if earlier and data.get("type") == ComplaintType.COMPLAINT.value:
        reasons.append("repeat")
    if data.get("to_manufacturer_or_media"):
        reasons.append("to_manufacturer_or_media")
    try:
        collective = int(data.get("collective_customers") or 0)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Enter a number of customers."),
                               field="collective_customers") from None
    if collective >= COLLECTIVE_MIN_CUSTOMERS or data.get("collective"):
        reasons.append("collective")
    if data.get("refund_or_exchange"):
        reasons.append("refund_or_exchange")
    if data.get("threats_or_disturbance"):
        reasons.append("threats_or_disturbance")
    return reasons


def _escalate(session: Session, c: Complaint, now: datetime) -> int:
    """R-COMP-3: tell the department manager(s) and the general manager at once."""
    approvers = policy.users_with(session, "complaint.approve", c) + policy.users_with(
        session, "complaint.approve_major", c)
    sent = 0
    for uid in dict.fromkeys([*_ids(approvers), c.received_by_id]):
        sent += notifications.notify(
            session, user_ids=[uid], kind="complaint.major",
            message=N_("Major complaint %(number)s: escalated, the resolution needs the "
                       "general manager's approval."),
            params={"number": c.number}, target=c, dedupe_key=f"complaint.major:{c.id}",
            now=now)
    return sent


# What a registration reads: the form's fields and the R-COMP-3 facts of ``major_reasons``.
REGISTRATION_FIELDS = ("customer_id", "channel", "type", "cause", "severity", "major_reason",
                       "description", "accused_user_id", "responsible_department_id",
                       "to_manufacturer_or_media", "collective_customers", "collective",
                       "refund_or_exchange", "threats_or_disturbance")


@verb
@accepts(*REGISTRATION_FIELDS)
def register_complaint(session: Session, actor: User, data: dict[str, Any]) -> Complaint:
    """Register a complaint, inquiry or suggestion; the actor is the first responder."""
    if not policy.can(actor, "complaint.add", Complaint):
        raise PermissionDenied("complaint.add", Complaint)
    customer = load(session, actor, Customer, data.get("customer_id"), "customer.view")
    channel = _choice(data, "channel", ComplaintChannel)
    ctype = _choice(data, "type", ComplaintType)
    cause = _choice(data, "cause", ComplaintCause, ComplaintCause.OTHER.value)
    description = _text(data.get("description"), "description",
                        N_("Describe what the customer complains about."))
    accused_id = data.get("accused_user_id") or None
    if accused_id is not None:
        accused = session.get(User, int(accused_id))
        if accused is None:
            raise ValidationFailed(N_("Unknown staff member."), field="accused_user_id")
        if accused.id == actor.id:
            raise RuleViolation(N_("You are named in this complaint: hand the customer to a "
                                   "colleague to register it."), rule="R-COMP-5",
                                field="accused_user_id")
    dept_id = data.get("responsible_department_id") or customer.department_id
    if session.get(Department, int(dept_id)) is None:
        raise ValidationFailed(N_("Unknown department."), field="responsible_department_id")
    severity = data.get("severity") or Severity.GENERAL.value
    if severity not in [s.value for s in Severity]:
        raise ValidationFailed(N_("Choose one of %(allowed)s."), field="severity",
                               allowed="general, major")
    now = clock.now()
    reasons = major_reasons(session, {**data, "type": ctype}, customer.id, now)
    if reasons:
        severity = Severity.MAJOR.value
    major_reason = "; ".join(MAJOR_FLAGS[r] for r in reasons) or (
        (data.get("major_reason") or "").strip() or None)
    if severity == Severity.MAJOR.value and not major_reason:
        raise ValidationFailed(N_("Say why this complaint is major."), field="major_reason")

    number = next_number(session, now)
    c = Complaint(number=number, customer_id=customer.id, channel=channel, type=ctype,
                  cause=cause, severity=severity,
                  major_reason=major_reason[:200] if major_reason else None,
                  description=description, accused_user_id=accused_id,
                  received_by_id=actor.id, responsible_department_id=int(dept_id),
                  status=S.REGISTERED.value, registered_at=now,
                  deadline_at=compute_deadline(session, ctype, now),
                  compensation_amount=Decimal("0"), created_at=now, updated_at=now)
    session.add(c)
    session.flush()
    _event(session, c, actor, S.REGISTERED.value, initial=True)
    if c.severity == Severity.MAJOR.value:
        c.escalated_at = now
        _escalate(session, c, now)
    session.flush()
    audit.record(session, actor, "complaint.add", c, after=_snap(c))
    return c


@verb
def assign(session: Session, actor: User, complaint_id: int, handler_id: int,
           expected_version: int | None = None, note: str | None = None) -> Complaint:
    """Assign (or re-assign) a handler. The accused may neither assign nor be assigned."""
    c = _step_check(session, actor, complaint_id, "complaint.assign", expected_version,
                    S.ASSIGNED.value)
    handler = session.get(User, int(handler_id)) if handler_id else None
    if handler is None or not handler.is_active:
        raise ValidationFailed(N_("Choose an active staff member."), field="handler_id")
    if handler.id == c.accused_user_id:
        raise RuleViolation(N_("The staff member complained about cannot handle the complaint."),
                            rule="R-COMP-5", field="handler_id")
    before = _snap(c)
    previous = c.handler_id
    c.handler_id = handler.id
    if not policy.can(handler, "complaint.handle", c):
        raise ValidationFailed(N_("%(user)s cannot handle complaints."), field="handler_id",
                               user=handler.full_name)
    return _advance(session, actor, c, S.ASSIGNED.value, note, before=before,
                    action="complaint.assign", users=[handler.id, previous],
                    message=N_("Complaint %(number)s was assigned to %(handler)s."),
                    params={"handler": handler.full_name}, kind="complaint.assigned")


def _handle_step(session: Session, actor: User, complaint_id: int, to_status: str,
                 expected_version: int | None, note: str | None) -> tuple[Complaint, dict]:
    c = _step_check(session, actor, complaint_id, "complaint.handle", expected_version,
                    to_status)
    _require_handler(actor, c, "complaint.handle")
    return c, _snap(c)


def _advance(session: Session, actor: User, c: Complaint, to_status: str, note: str | None, *,
             before: dict, action: str, users: list[int | None], message: str,
             params: dict[str, Any] | None = None, kind: str = "complaint.step",
             changes: dict[str, Any] | None = None, now: datetime | None = None) -> Complaint:
    """Record the step event, move ``c`` to ``to_status`` (plus ``changes``), tell the first
    responder and ``users``, and audit ``action``."""
    ev = _event(session, c, actor, to_status, note)
    c.status = to_status
    for name, value in (changes or {}).items():
        setattr(c, name, value)
    c.updated_at = now if now is not None else clock.now()
    session.flush()
    _notify_step(session, c, ev, users, message, params, kind)
    audit.record(session, actor, action, c, before=before, after=_snap(c))
    return c


@verb
def start_investigation(session: Session, actor: User, complaint_id: int,
                        note: str | None = None,
                        expected_version: int | None = None) -> Complaint:
    c, before = _handle_step(session, actor, complaint_id, S.INVESTIGATING.value,
                             expected_version, note)
    return _advance(session, actor, c, S.INVESTIGATING.value, note, before=before,
                    action="complaint.handle", users=[],
                    message=N_("Complaint %(number)s: investigation started."))


def approval_actions(session: Session, c: Complaint) -> list[str]:
    """The actions whose holder must approve this resolution: always ``complaint.approve``;
    ``approve_major`` for major complaints (R-COMP-3); ``approve_compensation`` above the
    threshold (R-COMP-10)."""
    needed = ["complaint.approve"]
    if c.severity == Severity.MAJOR.value:
        needed.append("complaint.approve_major")
    threshold = Decimal(str(settings.get(session, "complaint.compensation_gm_threshold")))
    if (c.compensation_amount or Decimal("0")) > threshold:
        needed.append("complaint.approve_compensation")
    return needed


@verb
def propose_resolution(session: Session, actor: User, complaint_id: int, resolution: str,
                       compensation_amount: Any = 0,
                       expected_version: int | None = None) -> Complaint:
    c, before = _handle_step(session, actor, complaint_id, S.PROPOSED.value, expected_version,
                             None)
    c.resolution = _text(resolution, "resolution", N_("Describe the proposed resolution."))
    c.compensation_amount = _money(compensation_amount, "compensation_amount")
    ev = _event(session, c, actor, S.PROPOSED.value, c.resolution)
    c.status = S.PROPOSED.value
    c.updated_at = clock.now()
    session.flush()
    approvers: list[int] = []
    for action in approval_actions(session, c):
        approvers += _ids(policy.users_with(session, action, c))
    _notify_step(session, c, ev, [u for u in approvers if u != c.accused_user_id],
                 N_("Complaint %(number)s: a resolution awaits your approval."),
                 kind="complaint.awaiting_approval")
    audit.record(session, actor, "complaint.handle", c, before=before, after=_snap(c))
    return c


@verb
def approve(session: Session, actor: User, complaint_id: int, accept: bool = True,
            note: str | None = None, expected_version: int | None = None) -> Complaint:
    """Approve the proposed resolution (or send it back to investigation with a note)."""
    to_status = S.APPROVED.value if accept else S.INVESTIGATING.value
    c = _step_check(session, actor, complaint_id, "complaint.approve", expected_version,
                    to_status)
    for action in approval_actions(session, c)[1:]:
        if not policy.can(actor, action, c):
            if action == "complaint.approve_major":
                raise PermissionDenied(action, c, rule="R-COMP-3", message=N_(
                    "The resolution of a major complaint needs the general manager's "
                    "approval."))
            raise PermissionDenied(action, c, rule="R-COMP-10", message=N_(
                "Compensation above %(threshold)s needs the general manager's approval."),
                threshold=settings.get(session, "complaint.compensation_gm_threshold"))
    if not accept:
        note = _text(note, "note", N_("Say why the resolution is sent back."))
    changes = {}
    if accept and c.compensation_amount and c.compensation_amount > 0:
        changes["compensation_approved_by_id"] = actor.id
    return _advance(
        session, actor, c, to_status, note, before=_snap(c), action="complaint.approve",
        users=[c.handler_id], changes=changes,
        message=N_("Complaint %(number)s: the resolution was approved.") if accept
        else N_("Complaint %(number)s: the resolution was sent back."))


@verb
def reply(session: Session, actor: User, complaint_id: int, note: str | None = None,
          expected_version: int | None = None) -> Complaint:
    """The approved resolution was communicated to the customer."""
    c, before = _handle_step(session, actor, complaint_id, S.REPLIED.value, expected_version,
                             note)
    return _advance(session, actor, c, S.REPLIED.value, note, before=before,
                    action="complaint.handle", users=[],
                    message=N_("Complaint %(number)s: the customer has the answer."))


def _ended(session: Session, now: datetime) -> dict[str, Any]:
    """The columns a closed or rejected complaint gets: closed now, kept for the retention
    period (R-COMP-9)."""
    return {"closed_at": now, "retain_until": now + timedelta(
        days=int(settings.get(session, "complaint.retention_days")))}


@verb
def close(session: Session, actor: User, complaint_id: int, satisfaction: Any,
          note: str | None = None, expected_version: int | None = None,
          responsibility: dict[str, Any] | None = None, fault_department_id: Any = None,
          fault_cause: str | None = None, fault_team: str | None = None,
          fault_user_id: Any = None) -> Complaint:
    """Close after the satisfaction revisit (1 = very dissatisfied … 5 = very satisfied).
    A complaint (投诉) closed is substantiated: ``responsibility`` is required (R-COMP-11:
    ``department_id``, ``cause`` quality / non_quality, optional ``team`` and ``user_id``), and
    a penalty notice is drafted when the company's penalty table applies. The ``fault_*``
    keywords are the same fields given one by one (the portal's form)."""
    from portal.services import penalties

    c = _step_check(session, actor, complaint_id, "complaint.close", expected_version,
                    S.CLOSED.value)
    try:
        score = int(satisfaction)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise ValidationFailed(N_("Record the customer's satisfaction (1 to 5)."),
                               field="satisfaction")
    fault: dict[str, Any] = {}
    if penalties.needs_responsibility(c):
        given = dict(responsibility or {})
        for key, value in (("department_id", fault_department_id), ("cause", fault_cause),
                           ("team", fault_team), ("user_id", fault_user_id)):
            if value not in (None, ""):
                given[key] = getattr(value, "id", value)
        r = penalties.clean_responsibility(session, given)
        fault = {"fault_department_id": r.department_id, "fault_cause": r.cause,
                 "fault_team": r.team, "fault_user_id": r.user_id}
    before = _snap(c)
    now = clock.now()
    c = _advance(session, actor, c, S.CLOSED.value, note, before=before,
                 action="complaint.close", users=[c.handler_id],
                 message=N_("Complaint %(number)s was closed."), now=now,
                 changes={"satisfaction": score, **fault, **_ended(session, now)})
    if fault:
        penalties.draft_notice(session, c, now)
    return c


@verb
def reject(session: Session, actor: User, complaint_id: int, reason: str,
           expected_version: int | None = None) -> Complaint:
    """Reject a registered complaint as unfounded; the reason is required."""
    c = _step_check(session, actor, complaint_id, "complaint.reject", expected_version,
                    S.REJECTED.value)
    text = _text(reason, "reason", N_("Say why the complaint is unfounded."))
    before = _snap(c)
    now = clock.now()
    return _advance(session, actor, c, S.REJECTED.value, text, before=before,
                    action="complaint.reject", users=[c.handler_id],
                    message=N_("Complaint %(number)s was rejected as unfounded."), now=now,
                    changes={"rejection_reason": text, **_ended(session, now)})


@verb
def extend(session: Session, actor: User, complaint_id: int, reason: str, working_days: Any,
           expected_version: int | None = None) -> Complaint:
    """R-COMP-2: one documented extension, to at most N working days after registration."""
    c = load(session, actor, Complaint, complaint_id, "complaint.view")
    if not policy.can(actor, "complaint.extend", c):
        raise PermissionDenied("complaint.extend", c)
    check_version(c, expected_version)
    _not_accused(actor, c, "complaint.extend")
    if not is_open(c):
        raise RuleViolation(N_("Only an open complaint can be extended."), rule="R-COMP-2")
    if c.extended:
        raise RuleViolation(N_("This complaint was already extended once."), rule="R-COMP-2")
    text = _text(reason, "reason", N_("Document why the deadline is extended."))
    limit = int(settings.get(session, "complaint.max_extension_working_days"))
    try:
        days = int(working_days)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Enter a number of working days."),
                               field="working_days") from None
    if not 1 <= days <= limit:
        raise RuleViolation(N_("An extension reaches at most %(limit)s working days."),
                            rule="R-COMP-2", field="working_days", limit=limit)
    deadline = compute_deadline(session, c.type, c.registered_at, days)
    if deadline <= c.deadline_at:
        raise ValidationFailed(N_("The new deadline must be later than the current one."),
                               field="working_days")
    before = _snap(c)
    ev = _event(session, c, actor, c.status, f"extended to {days} working days: {text}")
    c.extended = True
    c.extension_reason = text
    c.deadline_at = deadline
    c.updated_at = clock.now()
    session.flush()
    _notify_step(session, c, ev, [c.handler_id],
                 N_("Complaint %(number)s: the deadline was extended to %(deadline)s."),
                 {"deadline": deadline.isoformat()})
    audit.record(session, actor, "complaint.extend", c, before=before, after=_snap(c))
    return c


def _record_reminder(session: Session, c: Complaint, actor: User | None, note: str,
                     now: datetime) -> ComplaintReminder:
    r = ComplaintReminder(complaint_id=c.id, created_by_id=getattr(actor, "id", None), at=now,
                          note=note)
    session.add(r)
    session.flush()
    return r


@verb
def remind(session: Session, actor: User, complaint_id: int, note: str | None = None,
           expected_version: int | None = None) -> ComplaintReminder:
    """A reminder (催办单) written by a person, addressed to the handler and first responder.
    The version says the reminder is about the complaint as the person saw it (a reminder
    does not change the complaint itself)."""
    c = load(session, actor, Complaint, complaint_id, "complaint.view")
    if not policy.can(actor, "complaint.remind", c):
        raise PermissionDenied("complaint.remind", c)
    check_version(c, expected_version)
    if not is_open(c):
        raise RuleViolation(N_("Only an open complaint can be reminded."), rule="R-COMP-7")
    now = clock.now()
    r = _record_reminder(session, c, actor, (note or "").strip() or "催办", now)
    notifications.notify(
        session, user_ids=[u for u in (c.handler_id, c.received_by_id) if u is not None],
        kind="complaint.reminder",
        message=N_("Reminder for complaint %(number)s from %(actor)s: please finish it."),
        params={"number": c.number, "actor": actor.full_name}, target=c,
        dedupe_key=f"complaint.reminder.manual:{r.id}", now=now)
    audit.record(session, actor, "complaint.remind", c, after=audit.snapshot(r))
    return r


@verb
def delete_complaint(session: Session, actor: User, complaint_id: int) -> None:
    """R-COMP-9: complaint records are never deleted by the application. Before the retention
    date the rule refuses; after it, no role holds a delete grant (archival purging is an
    operator task outside the portal)."""
    c = load(session, actor, Complaint, complaint_id, "complaint.view")
    now = clock.now()
    if c.retain_until is None or now < c.retain_until:
        raise RuleViolation(N_("Complaint records are kept until %(until)s and cannot be "
                               "deleted before."), rule="R-COMP-9",
                            until=(c.retain_until or "the complaint is closed"))
    raise PermissionDenied("complaint.delete", c)
