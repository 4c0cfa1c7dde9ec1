"""Complaints (客户投诉): numbering, deadlines, escalation, the workflow and its reminders.

Rules: R-COMP-1 .. R-COMP-10 of domain.md. State that time decides (overdue) is derived at read
time by ``is_overdue`` / ``overdue_clause``; ``tick`` only records reminders and notifications.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import ColumnElement

from models import (
    Complaint,
    ComplaintCounter,
    ComplaintEvent,
    ComplaintReminder,
    Customer,
    Department,
    User,
)
from models.enums import (
    ComplaintCause,
    ComplaintChannel,
    ComplaintStatus,
    ComplaintType,
    Severity,
)
from portal import audit, clock, policy, settings
from portal.services import calendar, notifications
from portal.services.errors import (
    N_,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from portal.services.unit import check_version, load, verb

S = ComplaintStatus
OPEN_STATUSES = (S.REGISTERED.value, S.ASSIGNED.value, S.INVESTIGATING.value, S.PROPOSED.value,
                 S.APPROVED.value, S.REPLIED.value)
TERMINAL_STATUSES = (S.CLOSED.value, S.REJECTED.value)

# R-COMP-6: the only allowed transitions. Re-assignment (to another handler, e.g. after the
# R-COMP-7 transfer suggestion) goes back to "assigned"; a refused approval goes back to
# "investigating".
TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.REGISTERED.value: (S.ASSIGNED.value, S.REJECTED.value),
    S.ASSIGNED.value: (S.ASSIGNED.value, S.INVESTIGATING.value),
    S.INVESTIGATING.value: (S.ASSIGNED.value, S.PROPOSED.value),
    S.PROPOSED.value: (S.APPROVED.value, S.INVESTIGATING.value),
    S.APPROVED.value: (S.REPLIED.value,),
    S.REPLIED.value: (S.CLOSED.value,),
    S.CLOSED.value: (),
    S.REJECTED.value: (),
}

# R-COMP-3: registration flags that make a complaint major, with their reason text.
MAJOR_FLAGS: dict[str, str] = {
    "repeat": N_("repeat complaint"),
    "to_manufacturer_or_media": N_("complained to the manufacturer or the media"),
    "collective": N_("collective complaint (3 or more customers)"),
    "refund_or_exchange": N_("refund or exchange demanded"),
    "threats_or_disturbance": N_("threats or disturbances"),
}
COLLECTIVE_MIN_CUSTOMERS = 3


# ---------------------------------------------------------------------------------------------
# Idempotent inserts (used by the scheduled parts)
# ---------------------------------------------------------------------------------------------


def _insert_ignore(session: Session, model: type, values: dict[str, Any], key: list[str]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on both databases; True when the row was inserted.
    Under concurrency the second inserter waits for the first and then inserts nothing."""
    dialect = session.connection().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other databases are not supported
        exists = session.scalar(select(func.count()).select_from(model).where(
            and_(*[getattr(model, k) == values[k] for k in key])))
        if exists:
            return False
        session.add(model(**values))
        session.flush()
        return True
    table = model.__table__  # type: ignore[attr-defined]
    stmt = (insert(table).values(**values).on_conflict_do_nothing(index_elements=key)
            .returning(*table.primary_key.columns))
    return session.execute(stmt).first() is not None


# ---------------------------------------------------------------------------------------------
# Derived state and helpers
# ---------------------------------------------------------------------------------------------


def allowed_transitions(complaint: Complaint) -> tuple[str, ...]:
    """R-COMP-6: statuses the complaint may move to next."""
    return TRANSITIONS.get(complaint.status, ())


# The verb that makes each transition (for the doors' buttons).
VERB_FOR_STATUS: dict[str, str] = {
    S.ASSIGNED.value: "assign", S.INVESTIGATING.value: "start_investigation",
    S.PROPOSED.value: "propose_resolution", S.APPROVED.value: "approve",
    S.REPLIED.value: "reply", S.CLOSED.value: "close", S.REJECTED.value: "reject",
}


def allowed_operations(complaint: Complaint) -> set[str]:
    """Names of the service verbs that apply to the complaint now (R-COMP-6, R-COMP-2):
    the verbs of the allowed transitions, plus ``extend`` (once) and ``remind`` while open.
    A refused approval (proposed → investigating) is ``approve`` with ``accept=False``."""
    ops = set()
    for to_status in allowed_transitions(complaint):
        if complaint.status == S.PROPOSED.value and to_status == S.INVESTIGATING.value:
            continue
        ops.add(VERB_FOR_STATUS[to_status])
    if is_open(complaint):
        ops.add("remind")
        if not complaint.extended:
            ops.add("extend")
    session = object_session(complaint)
    if session is not None:  # R-COMP-3 re-grade, R-COMP-7 hand-over (issue 16)
        from portal.services import complaint_escalation

        ops |= complaint_escalation.extra_operations(session, complaint)
    return ops


def handler_candidates(session: Session, complaint: Complaint) -> list[User]:
    """Whom the complaint may be assigned to: active, present staff the policy lets handle it,
    never the staff member complained about (R-COMP-5) nor its current handler."""
    excluded = {complaint.accused_user_id, complaint.handler_id}
    return [u for u in policy.users_with(session, "complaint.handle", complaint)
            if u.id not in excluded and not u.on_leave]


def is_open(complaint: Complaint) -> bool:
    return complaint.status in OPEN_STATUSES


def is_overdue(complaint: Complaint, now: datetime | None = None) -> bool:
    """R-COMP-7: an open complaint past its deadline."""
    now = now or clock.now()
    return is_open(complaint) and complaint.deadline_at is not None and now > complaint.deadline_at


def overdue_clause(now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``is_overdue`` for lists and counts."""
    now = now or clock.now()
    return and_(Complaint.status.in_(OPEN_STATUSES), Complaint.deadline_at < now)


def days_overdue(complaint: Complaint, now: datetime | None = None) -> float:
    now = now or clock.now()
    if not is_overdue(complaint, now):
        return 0.0
    return (now - complaint.deadline_at).total_seconds() / 86400


def compute_deadline(session: Session, complaint_type: str, registered_at: datetime,
                     working_days: int | None = None) -> datetime:
    """R-COMP-2: inquiries within 24 hours; everything else by the end of the N-th working day
    after the registration day (company time). ``working_days`` overrides N (extensions)."""
    if complaint_type == ComplaintType.INQUIRY.value and working_days is None:
        return registered_at + timedelta(hours=int(settings.get(session,
                                                                "complaint.inquiry_hours")))
    n = working_days if working_days is not None else int(
        settings.get(session, "complaint.close_working_days"))
    day = calendar.add_working_days(session, calendar.company_date(registered_at), n)
    return calendar.end_of_company_day(day)


def _period(moment: datetime) -> str:
    return moment.astimezone(clock.COMPANY_TZ).strftime("%y%m")


def next_number(session: Session, moment: datetime) -> str:
    """R-COMP-1: ``YYMM`` + serial. The counter row is created if missing and incremented by
    an UPDATE in the caller's transaction: the UPDATE holds the row lock (PostgreSQL) or the
    write lock (SQLite) until commit, so concurrent registrations queue and a rolled-back
    registration gives its serial back: unique and gap-free within the month."""
    period = _period(moment)
    _insert_ignore(session, ComplaintCounter, {"period": period, "last_serial": 0}, ["period"])
    serial = session.execute(
        update(ComplaintCounter).where(ComplaintCounter.period == period)
        .values(last_serial=ComplaintCounter.last_serial + 1)
        .returning(ComplaintCounter.last_serial)).scalar_one()
    digits = int(settings.get(session, "complaint.serial_digits"))
    return f"{period}{serial:0{digits}d}"


def _event(session: Session, c: Complaint, actor: User | None, to_status: str,
           note: str | None = None, initial: bool = False) -> ComplaintEvent:
    ev = ComplaintEvent(complaint_id=c.id, from_status=None if initial else c.status,
                        to_status=to_status, actor_id=getattr(actor, "id", None),
                        at=clock.now(), note=note)
    session.add(ev)
    session.flush()
    return ev


def _notify_step(session: Session, c: Complaint, ev: ComplaintEvent, users: list[int | None],
                 message: str, params: dict[str, Any] | None = None,
                 kind: str = "complaint.step") -> int:
    """Tell the first responder (R-COMP-4) and the given users about a step."""
    return notifications.notify(
        session, user_ids=[u for u in dict.fromkeys([c.received_by_id, *users]) if u is not None],
        kind=kind, message=message, params={"number": c.number, **(params or {})},
        target=c, dedupe_key=f"{kind}:{c.id}:{ev.id}")


def _ids(users: list[User]) -> list[int]:
    return [u.id for u in users]


def _not_accused(actor: User, c: Complaint, action: str) -> None:
    """R-COMP-5: the staff member complained about takes no part in handling it."""
    if c.accused_user_id is not None and actor.id == c.accused_user_id:
        raise RuleViolation(N_("You are named in this complaint and cannot %(step)s it."),
                            rule="R-COMP-5", step=action.split(".")[-1])


def _step_check(session: Session, actor: User, complaint_id: int, action: str,
                expected_version: int | None, to_status: str) -> Complaint:
    c = load(session, actor, Complaint, complaint_id, "complaint.view")
    if not policy.can(actor, action, c):
        raise PermissionDenied(action, c)
    check_version(c, expected_version)
    _not_accused(actor, c, action)
    if to_status not in allowed_transitions(c):
        raise RuleViolation(N_("A complaint that is %(status)s cannot become %(to)s."),
                            rule="R-COMP-6", field="status", status=c.status, to=to_status)
    return c


def _require_handler(actor: User, c: Complaint, action: str) -> None:
    if c.handler_id != actor.id:
        raise PermissionDenied(action, c, message=N_(
            "Only the assigned handler may work on this complaint."))


def _text(value: Any, field: str, message: str) -> str:
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValidationFailed(message, field=field)
    return text


def _choice(data: dict[str, Any], field: str, enum: type, default: str | None = None) -> str:
    value = data.get(field, default)
    allowed = [e.value for e in enum]
    if value not in allowed:
        raise ValidationFailed(N_("Choose one of %(allowed)s."), field=field,
                               allowed=", ".join(allowed))
    return str(value)


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else 0))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(N_("Enter an amount."), field=field) from None
    if amount < 0 or not amount.is_finite():
        raise ValidationFailed(N_("The amount cannot be negative."), field=field)
    return amount.quantize(Decimal("0.01"))


def _snap(c: Complaint) -> dict[str, Any]:
    return audit.snapshot(c)


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


@verb
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
def remind(session: Session, actor: User, complaint_id: int, note: str | None = None
           ) -> ComplaintReminder:
    """A reminder (催办单) written by a person, addressed to the handler and first responder."""
    c = load(session, actor, Complaint, complaint_id, "complaint.view")
    if not policy.can(actor, "complaint.remind", c):
        raise PermissionDenied("complaint.remind", c)
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


# ---------------------------------------------------------------------------------------------
# Statistics (R-COMP-8)
# ---------------------------------------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """UTC bounds of a company-time calendar month."""
    from datetime import date

    start = calendar.start_of_company_day(date(year, month, 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, calendar.start_of_company_day(nxt)


@verb
def monthly_statistics(session: Session, actor: User, year: int, month: int) -> dict[str, Any]:
    """R-COMP-8 (汇总上月份结案的案件), within the actor's scope: the cases registered in the month
    (company time) by type, cause, department, severity and status (``total``, ``by_*``), and
    the cases *closed* in the month whenever they were registered (``closed``,
    ``closed_by_*``), with their on-time rate, average handling time and satisfaction."""
    from portal.services import penalties

    if not policy.can(actor, "report.view"):
        raise PermissionDenied("report.view", "complaint_statistics")
    if not 1 <= int(month) <= 12:
        raise ValidationFailed(N_("Choose a month from 1 to 12."), field="month")
    start, end = month_bounds(int(year), int(month))
    from portal.services.complaint_slices import month_clause

    # the same month conditions the report's click-through lists use (complaint_slices)
    in_month = month_clause("registered", start, end)
    closed_in_month = month_clause("closed", start, end)

    def grouped(column: Any, where: Any = in_month) -> dict[str, int]:
        stmt = policy.scope(select(column, func.count(Complaint.id)), actor, Complaint)
        rows = session.execute(stmt.where(where).group_by(column).order_by(column)).all()
        return {str(k): int(n) for k, n in rows}

    def by_department(where: Any) -> dict[str, int]:
        out: dict[str, int] = {}
        stmt = policy.scope(select(Department.name, func.count(Complaint.id))
                            .select_from(Complaint)
                            .join(Department,
                                  Department.id == Complaint.responsible_department_id),
                            actor, Complaint)
        for name, n in session.execute(stmt.where(where).group_by(Department.name)
                                       .order_by(Department.name)).all():
            out[name] = int(n)
        return out

    closed_rows = session.execute(policy.scope(
        select(Complaint.registered_at, Complaint.closed_at, Complaint.deadline_at,
               Complaint.satisfaction), actor, Complaint)
        .where(closed_in_month)).all()
    hours = [(cl - reg).total_seconds() / 3600 for reg, cl, _, _ in closed_rows]
    on_time = sum(1 for _, cl, dl, _ in closed_rows if cl <= dl)
    scores = [s for *_, s in closed_rows if s is not None]
    now = clock.now()
    total = sum(grouped(Complaint.type).values())
    open_overdue = session.scalar(policy.scope(select(func.count(Complaint.id)), actor,
                                               Complaint).where(in_month, overdue_clause(now)))
    return {
        "year": int(year), "month": int(month), "period": f"{int(year):04d}-{int(month):02d}",
        "total": total,
        "by_type": grouped(Complaint.type),
        "by_cause": grouped(Complaint.cause),
        "by_severity": grouped(Complaint.severity),
        "by_status": grouped(Complaint.status),
        "by_department": by_department(in_month),
        "closed": len(closed_rows),
        "closed_by_type": grouped(Complaint.type, closed_in_month),
        "closed_by_cause": grouped(Complaint.cause, closed_in_month),
        "closed_by_severity": grouped(Complaint.severity, closed_in_month),
        "closed_by_department": by_department(closed_in_month),
        "closed_on_time": on_time,
        "on_time_rate": round(on_time / len(closed_rows), 4) if closed_rows else None,
        "avg_handling_hours": round(sum(hours) / len(hours), 1) if hours else None,
        "avg_satisfaction": round(sum(scores) / len(scores), 2) if scores else None,
        "satisfaction_count": len(scores),
        "open_overdue": int(open_overdue or 0),
        **penalties.statistics(session, actor, start, end),
    }


# ---------------------------------------------------------------------------------------------
# The scheduled command's part (R-COMP-3 escalation, R-COMP-7 reminders and transfer)
# ---------------------------------------------------------------------------------------------


def tick(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Record reminders for overdue complaints (once per company day per complaint), the
    hand-over suggestion (R-COMP-7, once per complaint and person), the statistics reminder on
    the 1st (R-COMP-8), and escalate major complaints
    not yet escalated. Idempotent; safe when two run at once (dedupe keys + row locks)."""
    now = now or clock.now()
    counts = {"escalations": 0, "reminders": 0, "transfer_suggestions": 0}
    pending = session.scalars(select(Complaint).where(
        Complaint.severity == Severity.MAJOR.value, Complaint.escalated_at.is_(None),
        Complaint.status.in_(OPEN_STATUSES))).all()
    for c in pending:
        claimed = session.execute(update(Complaint).where(
            Complaint.id == c.id, Complaint.escalated_at.is_(None))
            .values(escalated_at=now, version=Complaint.version + 1)
            .execution_options(synchronize_session=False)).rowcount
        if claimed:
            session.refresh(c)
            _escalate(session, c, now)
            counts["escalations"] += 1
    session.commit()

    day = calendar.company_date(now).isoformat()
    overdue = session.scalars(select(Complaint).where(overdue_clause(now))
                              .order_by(Complaint.id)).all()
    for c in overdue:
        params = {"number": c.number, "deadline": c.deadline_at}
        gate = notifications.notify(
            session, user_ids=[c.received_by_id], kind="complaint.overdue",
            message=N_("Complaint %(number)s is overdue (deadline %(deadline)s); a reminder "
                       "was recorded."),
            params=params, target=c, dedupe_key=f"complaint.overdue:{c.id}:{day}", now=now)
        if gate:
            r = _record_reminder(session, c, None, f"overdue since {c.deadline_at:%Y-%m-%d}",
                                 now)
            if c.handler_id:
                notifications.notify(
                    session, user_ids=[c.handler_id], kind="complaint.overdue",
                    message=N_("Complaint %(number)s is overdue (deadline %(deadline)s): "
                               "please finish it."),
                    params=params, target=c, dedupe_key=f"complaint.overdue:{c.id}:{day}:h",
                    now=now)
            audit.record(session, None, "complaint.remind", c, after=audit.snapshot(r),
                         detail="scheduled reminder", actor_name="scheduler")
            counts["reminders"] += 1
        session.commit()
    # R-COMP-7 hand-over suggestions (N working days after registration) and the R-COMP-8
    # statistics reminder on the 1st (issue 16)
    from portal.services import complaint_escalation

    more = complaint_escalation.handover_and_statistics(session, now)
    counts["transfer_suggestions"] = more["handover_suggestions"]
    counts["statistics_reminders"] = more["statistics_reminders"]
    return counts

