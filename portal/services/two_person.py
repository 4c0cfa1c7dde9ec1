"""Two-person actions (R-ROLE-2, 三员相互制约): an action on an administrator's account is
requested by one administrator and carried out only when a second of the three confirms it.

A small general mechanism: an action ``kind`` + a target + parameters. Each kind registers
what it checks when requested (``prepare``: the requester's right and the parameters, turned
into what is stored) and what it does when confirmed (``perform``). A request can be refused
by another administrator or cancelled by its requester, and expires unconfirmed after
``two_person.expiry_hours`` (derived at read time). Every step is audited and the three
administrators are notified (title and link only).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.org import RoleAssignment, User
from models.pending import PendingAction
from portal import audit, clock, policy, settings
from portal.services.errors import N_, NotFound, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import load, verb

STATES = ("pending", "confirmed", "refused", "cancelled", "expired")


@dataclass(frozen=True)
class Kind:
    """One kind of two-person action."""

    action: str  # the policy action the requester needs on the target
    label: str  # English msgid, translated where shown
    target_model: type
    prepare: Callable[[Session, User, Any, dict[str, Any]], dict[str, Any]]
    perform: Callable[[Session, User, Any, dict[str, Any], PendingAction], None]
    needed: Callable[[Any], bool]  # whether this target needs a second person at all


KINDS: dict[str, Kind] = {}


def register(name: str, kind: Kind) -> None:
    KINDS[name] = kind


def state(p: PendingAction, now: datetime | None = None) -> str:
    """pending, confirmed, refused, cancelled or expired (derived)."""
    now = now or clock.now()
    if p.status == "pending" and p.expires_at <= now:
        return "expired"
    return p.status


def is_pending(p: PendingAction, now: datetime | None = None) -> bool:
    """Waiting for the second administrator (not decided, not expired)."""
    return state(p, now) == "pending"


def needed(kind: str, target: Any) -> bool:
    """Whether ``kind`` on ``target`` needs a second administrator (both doors ask this)."""
    _load_kinds()
    k = KINDS.get(kind)
    return bool(k and k.needed(target))


def _load_kinds() -> None:
    from portal.services import two_factor, users  # noqa: F401 - register the account kinds


def _kind(name: str) -> Kind:
    _load_kinds()
    k = KINDS.get(name)
    if k is None:
        raise ValidationFailed(N_("Unknown action %(action)s."), field="kind", action=name)
    return k


def administrators(session: Session) -> list[User]:
    """The active holders of the three administrator roles: who is told and who confirms."""
    return list(session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role.in_(policy.TWO_PERSON_ROLES),
               RoleAssignment.revoked_at.is_(None), User.is_active.is_(True))
        .distinct().order_by(User.id)).all())


def _notify(session: Session, p: PendingAction, kind: str, message: str,
            params: dict[str, Any]) -> None:
    ids = [u.id for u in administrators(session)]
    if not ids:
        return
    from portal.services import notifications

    notifications.notify(session, user_ids=ids, kind=kind, message=message, params=params,
                         target=p, dedupe_key=f"{kind}:{p.id}", translate=("action",))


def _label_params(session: Session, p: PendingAction) -> dict[str, Any]:
    target = session.get(User, p.target_id) if p.target_type == "User" else None
    k = KINDS.get(p.kind)
    return {"action": k.label if k else p.kind, "target": target.username if target else str(p.target_id),
            "id": p.id}


@verb
def request_action(session: Session, actor: User, kind: str, target_id: Any,
                   params: dict[str, Any] | None, reason: str) -> PendingAction:
    """Record a request; nothing happens to the target until a second administrator
    confirms it."""
    k = _kind(kind)
    target = load(session, actor, k.target_model, target_id,
                  f"{policy.MODEL_AREA[k.target_model]}.view")
    if not policy.can(actor, k.action, target):
        raise PermissionDenied(k.action, target)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(N_("Give a reason."), field="reason")
    if not k.needed(target):
        raise ValidationFailed(N_("This account needs no second administrator: do it "
                                  "directly."), field="kind")
    if getattr(target, "id", None) == actor.id:
        raise RuleViolation(N_("三员分立: nobody requests this for their own account."),
                            rule="R-ROLE-2", field="kind", audit_action=kind, audit_target=target)
    stored = k.prepare(session, actor, target, dict(params or {}))
    now = clock.now()
    open_ones = session.scalars(select(PendingAction).where(
        PendingAction.kind == kind, PendingAction.target_type == type(target).__name__,
        PendingAction.target_id == target.id, PendingAction.status == "pending")).all()
    if any(state(o, now) == "pending" for o in open_ones):
        raise ValidationFailed(N_("The same request is already waiting for confirmation."),
                               field="kind")
    p = PendingAction(kind=kind, target_type=type(target).__name__, target_id=target.id,
                      params=json.dumps(stored, sort_keys=True), reason=reason,
                      status="pending", requested_by_id=actor.id, requested_at=now,
                      expires_at=now + timedelta(
                          hours=int(settings.get(session, "two_person.expiry_hours"))))
    session.add(p)
    session.flush()
    audit.record(session, actor, "two_person.request", p, detail=reason,
                 after={"kind": kind, "target": f"{p.target_type}:{p.target_id}"})
    _notify(session, p, "two_person.requested",
            N_("%(action)s for %(target)s is waiting for a second administrator (#%(id)s)"),
            _label_params(session, p))
    return p


def _decidable(session: Session, actor: User, pending_id: Any) -> PendingAction:
    if not policy.can(actor, "two_person.confirm", PendingAction):
        # only the three administrators decide; anyone else is refused (and audited) before
        # learning whether the request exists (R-ROLE-3)
        raise PermissionDenied("two_person.confirm", PendingAction)
    p = load(session, actor, PendingAction, pending_id, "two_person.view")
    if state(p) != "pending":
        raise ValidationFailed(N_("This request is no longer waiting (%(state)s)."),
                               field="id", state=state(p))
    return p


@verb
def confirm_action(session: Session, actor: User, pending_id: Any) -> PendingAction:
    """A second administrator confirms: the action is carried out now, in this transaction."""
    p = _decidable(session, actor, pending_id)
    if not policy.can(actor, "two_person.confirm", p):
        raise PermissionDenied("two_person.confirm", p)
    if actor.id == p.requested_by_id:
        raise RuleViolation(N_("三员分立: the requester cannot confirm their own request."),
                            rule="R-ROLE-2", audit_action="two_person.confirm", audit_target=p)
    if actor.id == p.target_id and p.target_type == "User":
        raise RuleViolation(N_("三员分立: nobody confirms an action on their own account."),
                            rule="R-ROLE-2", audit_action="two_person.confirm", audit_target=p)
    k = _kind(p.kind)
    target = session.get(k.target_model, p.target_id)
    if target is None:
        raise NotFound()
    k.perform(session, actor, target, json.loads(p.params or "{}"), p)
    p.status, p.decided_by_id, p.decided_at = "confirmed", actor.id, clock.now()
    session.flush()
    audit.record(session, actor, "two_person.confirm", p,
                 before={"status": "pending"}, after={"status": "confirmed"})
    _notify(session, p, "two_person.confirmed",
            N_("%(action)s for %(target)s was confirmed and carried out (#%(id)s)"),
            _label_params(session, p))
    return p


@verb
def refuse_action(session: Session, actor: User, pending_id: Any, note: str) -> PendingAction:
    """Another administrator refuses, or the requester withdraws (cancelled)."""
    p = _decidable(session, actor, pending_id)
    own = actor.id == p.requested_by_id
    if not own and not policy.can(actor, "two_person.confirm", p):
        raise PermissionDenied("two_person.confirm", p)
    note = (note or "").strip()
    if not note:
        raise ValidationFailed(N_("Give a reason."), field="note")
    p.status = "cancelled" if own else "refused"
    p.decided_by_id, p.decided_at, p.decision_note = actor.id, clock.now(), note
    session.flush()
    audit.record(session, actor, f"two_person.{'cancel' if own else 'refuse'}", p,
                 detail=note, before={"status": "pending"}, after={"status": p.status})
    _notify(session, p, "two_person.refused",
            N_("%(action)s for %(target)s was not carried out (#%(id)s)"),
            _label_params(session, p))
    return p


def pending_stmt(session: Session, actor: User, *, waiting_only: bool = True) -> Any:
    """The requests the actor may see, newest first; ``waiting_only``: still to decide."""
    stmt = policy.scope(select(PendingAction), actor, PendingAction, "two_person.view")
    if waiting_only:
        stmt = stmt.where(PendingAction.status == "pending",
                          PendingAction.expires_at > clock.now())
    return stmt.order_by(PendingAction.id.desc())
