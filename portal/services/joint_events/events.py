"""Creating a joint event and reading the events a user may see (R-CUST-10)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.enums import EventSession
from models.joint_event import JointEvent
from models.org import Department, User
from portal import audit, clock, policy
from portal.services import notifications
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.joint_events._common import text
from portal.services.unit import verb


def visible_events(session: Session, actor: User) -> list[JointEvent]:
    """The events the user's department takes part in, those they coordinate, or all."""
    stmt = policy.scope(select(JointEvent), actor, JointEvent, "joint_event.view")
    return list(session.scalars(stmt.order_by(JointEvent.event_date.desc(), JointEvent.id)))


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(N_("Give the date as YYYY-MM-DD."), field="event_date") from None


@verb
def create_event(session: Session, actor: User, *, name: str, event_date: Any, session_kind: str,
                 venue: str, department_ids: Iterable[Any],
                 coordinator_id: Any = None) -> JointEvent:
    """A joint event with at least two departments; their heads are told to submit lists."""
    if not policy.can(actor, "joint_event.add"):
        raise PermissionDenied("joint_event.add", JointEvent)
    title = text(name, "name", required=True, limit=120)
    place = text(venue, "venue", required=True, limit=200)
    if not title:
        raise ValidationFailed(N_("Give the event a name."), field="name")
    if not place:
        raise ValidationFailed(N_("Give the venue."), field="venue")
    day = _date(event_date)
    if day < clock.today():
        raise ValidationFailed(N_("The event date is in the past."), field="event_date")
    if session_kind not in {s.value for s in EventSession}:
        raise ValidationFailed(N_("Choose afternoon or evening."), field="session")
    ids = sorted({int(d) for d in department_ids if str(d).strip().isdigit()})
    departments = list(session.scalars(select(Department).where(Department.id.in_(ids))))
    if len(departments) < 2 or len(departments) != len(ids):
        raise ValidationFailed(N_("A joint event needs at least two departments."),
                               field="department_ids")
    coordinator = None
    if coordinator_id not in (None, ""):
        coordinator = session.get(User, int(coordinator_id)) \
            if str(coordinator_id).isdigit() else None
        if coordinator is None or not coordinator.is_active:
            raise ValidationFailed(N_("Choose an active user as coordinator."),
                                   field="coordinator_id")
    event = JointEvent(name=title, event_date=day, session=session_kind, venue=place,
                       coordinator_id=coordinator.id if coordinator else None,
                       created_by_id=actor.id, departments=departments)
    session.add(event)
    session.flush()
    audit.record(session, actor, "joint_event.add", event,
                 after={"name": title, "date": day.isoformat(), "session": session_kind,
                        "venue": place, "departments": ids,
                        "coordinator": event.coordinator_id})
    heads = policy.users_with(session, "joint_event.submit", event)
    notifications.notify(
        session, user_ids=[u.id for u in heads if u.department_id in event.department_ids],
        kind="joint_event.submit_list",
        message=N_("Joint event %(event)s on %(date)s: submit your department's "
                   "confirmed-invitation list by the cut-offs."),
        params={"event": title, "date": day.isoformat()}, target=event,
        dedupe_key=f"joint_event.submit_list:{event.id}")
    return event
