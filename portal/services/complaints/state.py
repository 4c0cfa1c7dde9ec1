"""Complaints: idempotent inserts for the scheduled parts, derived state (overdue, major,
who acts next) and the transitions the doors offer (R-COMP-3, R-COMP-6)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import ColumnElement

from models import Complaint, ComplaintCounter, ComplaintEvent, User
from models.enums import ComplaintType
from portal import audit, clock, policy, settings
from portal.services import calendar, notifications
from portal.services.complaints._common import OPEN_STATUSES, TRANSITIONS, S
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import check_version, load

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
    """Not yet closed or rejected (R-COMP-3): still in the workflow."""
    return complaint.status in OPEN_STATUSES


def proposer(session: Session, complaint: Complaint) -> User | None:
    """Who proposed the resolution now waiting for approval (R-COMP-3), else None."""
    from models.enums import ComplaintStatus
    from portal.services import timeline

    if complaint.status != ComplaintStatus.PROPOSED.value:
        return None
    events = [e for e in timeline.complaint_events(session, complaint)
              if e.step == ComplaintStatus.PROPOSED.value and e.actor is not None]
    return events[-1].actor if events else None


def open_sql() -> ColumnElement[bool]:
    """SQL twin of ``is_open`` (the 未结案 list)."""
    return Complaint.status.in_(OPEN_STATUSES)


def is_overdue(complaint: Complaint, now: datetime | None = None) -> bool:
    """R-COMP-7: an open complaint past its deadline."""
    now = now or clock.now()
    return is_open(complaint) and complaint.deadline_at is not None and now > complaint.deadline_at


def overdue_clause(now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``is_overdue`` for lists and counts."""
    now = now or clock.now()
    return and_(open_sql(), Complaint.deadline_at < now)


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
