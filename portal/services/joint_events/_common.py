"""Helpers shared by the joint-event verbs (R-CUST-10)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models.joint_event import JointEvent, JointInvitation
from models.org import User
from portal import policy
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.unit import load


def grant_then_load(session: Session, actor: User, event_id: Any, action: str) -> JointEvent:
    """The grant check before the load (a refusal on any id leaves one denied entry), then the
    event through the policy scope of that action."""
    if not policy.can(actor, action):
        raise PermissionDenied(action, JointEvent)
    return load(session, actor, JointEvent, event_id, action)


def text(value: Any, field: str, *, required: bool, limit: int) -> str | None:
    cleaned = value.strip() if isinstance(value, str) else ""
    if not cleaned:
        if required:
            raise ValidationFailed(N_("Give a reason."), field=field)
        return None
    if len(cleaned) > limit:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."), field=field,
                               label=field, max=limit)
    return cleaned


def entries_of(session: Session, event_id: int, customer_id: int | None = None
               ) -> list[JointInvitation]:
    stmt = select(JointInvitation).where(JointInvitation.event_id == event_id).options(
        *[selectinload(rel) for rel in (JointInvitation.customer, JointInvitation.department,
                                        JointInvitation.confirmed_by,
                                        JointInvitation.conflict_department)])
    if customer_id is not None:
        stmt = stmt.where(JointInvitation.customer_id == customer_id)
    return list(session.scalars(stmt.order_by(JointInvitation.submitted_at,
                                              JointInvitation.id)))


def coordinators(session: Session, event: JointEvent) -> list[int]:
    """Who hears of conflicts: the event's coordinator (协调助理), else whoever coordinates
    every event (the general manager)."""
    if event.coordinator_id:
        return [event.coordinator_id]
    return [u.id for u in policy.users_with(session, "joint_event.coordinate", event)]


def may_coordinate(actor: Any, event: JointEvent) -> bool:
    return policy.can(actor, "joint_event.coordinate", event)
