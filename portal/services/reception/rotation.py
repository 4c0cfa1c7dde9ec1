"""Reception: the daily rotation (轮流接待, R-RECV-1) and who is present or busy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.enums import (
    ReceptionKind,
)
from models.org import Branch, User
from models.reception import ReceptionRecord, RotationSlot
from portal import audit, clock, policy
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.reception._common import _day_start_utc, _id, _truthy, company_day
from portal.services.unit import verb

# ---------------------------------------------------------------------------------------------


def _candidate_ids(session: Session, branch_id: int) -> list[int]:
    return [u.id for u in session.scalars(policy.owner_candidates_stmt(branch_id))]


def _ensure_slots(session: Session, branch_id: int, day: date, *, lock: bool = False
                  ) -> list[RotationSlot]:
    """The day's slots of a branch, creating missing ones for present salespeople."""
    stmt = select(RotationSlot).where(RotationSlot.branch_id == branch_id,
                                      RotationSlot.day == day).order_by(RotationSlot.position)
    if lock:
        stmt = stmt.with_for_update()
    slots = list(session.scalars(stmt))
    have = {s.user_id for s in slots}
    missing = [uid for uid in _candidate_ids(session, branch_id) if uid not in have]
    if missing:
        if not slots:
            shift = day.toordinal() % len(missing)
            missing = missing[shift:] + missing[:shift]
        start = max((s.position for s in slots), default=0)
        joined_at = min((s.turns_taken for s in slots), default=0)
        for i, uid in enumerate(missing, start=1):
            slot = RotationSlot(branch_id=branch_id, day=day, user_id=uid, position=start + i,
                                available=True, turns_taken=joined_at, owed_turns=0)
            session.add(slot)
            slots.append(slot)
        session.flush()
    return slots


def busy_user_ids(session: Session, branch_id: int, now: datetime | None = None) -> set[int]:
    """R-RECV-1 "busy with a visitor": receiving a walk-in visitor of today who has arrived
    and not left yet (no departure time recorded)."""
    now = now or clock.now()
    start = _day_start_utc(company_day(now))
    return set(session.scalars(select(ReceptionRecord.assigned_to_id).where(
        ReceptionRecord.branch_id == branch_id, ReceptionRecord.kind == ReceptionKind.VISIT.value,
        ReceptionRecord.assigned_to_id.is_not(None), ReceptionRecord.arrived_at >= start,
        ReceptionRecord.arrived_at <= now, ReceptionRecord.departed_at.is_(None))))


def _order(slots: list[RotationSlot], present: set[int], busy: set[int] = frozenset()
           ) -> list[RotationSlot]:
    live = [s for s in slots if s.user_id in present]
    free = [s for s in live if s.available and s.user_id not in busy]
    owed = sorted((s for s in free if s.owed_turns > 0), key=lambda s: s.position)
    rest = sorted((s for s in free if s.owed_turns == 0),
                  key=lambda s: (s.turns_taken, s.position))
    occupied = sorted((s for s in live if s.available and s.user_id in busy),
                      key=lambda s: (s.turns_taken, s.position))
    away = sorted((s for s in live if not s.available), key=lambda s: s.position)
    return owed + rest + occupied + away


def rotation_queue(session: Session, branch_id: int, day: date | None = None
                   ) -> list[RotationSlot]:
    """Today's rotation of a branch in serving order: owed make-up turns first, then the
    round robin, then those who are out. Creates the day's slots on first use (flushes; the
    calling verb or request commits)."""
    day = day or clock.today()
    slots = _ensure_slots(session, branch_id, day)
    return _order(slots, set(_candidate_ids(session, branch_id)),
                  busy_user_ids(session, branch_id))


@dataclass(frozen=True)
class RotationPlace:
    """One line of the rotation the front desk sees (R-RECV-1 "always sees who is next")."""

    user_id: int
    name: str
    available: bool
    busy: bool
    approved_go_out: bool
    turns_taken: int
    owed_turns: int


@verb
def rotation_today(session: Session, actor: User, branch_id: Any) -> list[RotationPlace]:
    """Today's rotation of a branch in serving order, for the desk and the supervisor:
    who is next first, then those busy with a visitor, then those who are out."""
    bid = _id(branch_id, "branch_id")
    branch = session.get(Branch, bid) if bid is not None else None
    if branch is None:
        raise ValidationFailed(N_("Choose the branch (showroom)."), field="branch_id")
    probe = RotationSlot(branch_id=branch.id, user_id=0)
    if not policy.can(actor, "reception.manage_rotation", probe):
        raise PermissionDenied("reception.manage_rotation", ("Branch", branch.id))
    busy = busy_user_ids(session, branch.id)
    slots = rotation_queue(session, branch.id)
    names = dict(session.execute(select(User.id, User.full_name).where(
        User.id.in_([s.user_id for s in slots]))).all()) if slots else {}
    return [RotationPlace(s.user_id, names.get(s.user_id, ""), s.available,
                          s.user_id in busy, s.approved_go_out, s.turns_taken, s.owed_turns)
            for s in slots]


def _free(session: Session, branch_id: int, live: list[RotationSlot]) -> list[RotationSlot]:
    """Those in today's rotation who can take a visitor now: in, and not busy with another
    one (when all who are in are busy, the visitor waits for the next of them)."""
    busy = busy_user_ids(session, branch_id)
    free = [s for s in live if s.available and s.user_id not in busy]
    return free or [s for s in live if s.available]


def next_colleague(session: Session, branch_id: int, day: date,
                   exclude: int | None = None) -> int | None:
    """R-RECV-2: who assists a returning visitor whose owner is not there — the next in the
    rotation, without using a turn."""
    slots = _ensure_slots(session, branch_id, day)
    present = set(_candidate_ids(session, branch_id))
    live = [s for s in slots if s.user_id in present and s.user_id != exclude]
    free = {s.user_id for s in _free(session, branch_id, live)}
    for slot in _order(slots, present):
        if slot.user_id in free:
            return slot.user_id
    return None


def _take_turn(session: Session, branch_id: int, day: date) -> RotationSlot | None:
    """Give the next walk-in to the rotation (R-RECV-1). A salesperson busy with a visitor is
    skipped and keeps their place; one who is out loses the turn, and is owed it back only
    when the go-out was approved and registered by the supervisor (外出申请)."""
    slots = _ensure_slots(session, branch_id, day, lock=True)
    present = set(_candidate_ids(session, branch_id))
    live = [s for s in slots if s.user_id in present]
    free = _free(session, branch_id, live)
    if not free:
        return None
    owed = [s for s in free if s.owed_turns > 0]
    if owed:
        slot = min(owed, key=lambda s: s.position)
        slot.owed_turns -= 1
        return slot
    free_ids = {s.user_id for s in free}
    turning = [s for s in live if s.user_id in free_ids or not s.available]
    while True:
        slot = min(turning, key=lambda s: (s.turns_taken, s.position))
        slot.turns_taken += 1
        if slot.available:
            return slot
        if slot.approved_go_out:
            slot.owed_turns += 1  # their turn came while out on approved business


@verb
def set_availability(session: Session, actor: User, branch_id: int, user_id: int,
                     available: bool, approved_go_out: bool = False) -> RotationSlot:
    """Mark a salesperson out of (or back in) today's rotation. Supervisors and the desk
    manage the rotation; a salesperson may set their own availability. ``approved_go_out``:
    the absence is an approved business go-out (外出申请), registered by someone holding
    ``reception.approve_go_out`` (the supervisor) for somebody else: only such an absence
    earns the missed turns back (R-RECV-1)."""
    go_out = _truthy(approved_go_out) and not _truthy(available)
    if go_out:
        probe_uid = _id(user_id, "user_id")
        probe_bid = _id(branch_id, "branch_id")
        go_probe = RotationSlot(branch_id=probe_bid or 0, user_id=probe_uid or 0)
        if not policy.can(actor, "reception.approve_go_out", go_probe):
            raise PermissionDenied("reception.approve_go_out", RotationSlot)
        if probe_uid == actor.id:
            raise PermissionDenied("reception.approve_go_out", RotationSlot, N_(
                "Nobody approves their own go-out."))
    uid = _id(user_id, "user_id")
    bid = _id(branch_id, "branch_id")
    own = uid is not None and uid == actor.id and policy.can(actor, "reception.take_turns")
    if not (policy.can(actor, "reception.manage_rotation") or own):
        raise PermissionDenied("reception.manage_rotation", RotationSlot)
    branch = session.get(Branch, bid) if bid is not None else None
    if branch is None:
        raise ValidationFailed(N_("Choose the branch (showroom)."), field="branch_id")
    probe = RotationSlot(branch_id=branch.id, user_id=uid or 0)
    if not (policy.can(actor, "reception.manage_rotation", probe)
            or (own and policy.can(actor, "reception.take_turns", probe))):
        raise PermissionDenied("reception.manage_rotation", ("Branch", branch.id))
    day = clock.today()
    slots = _ensure_slots(session, branch.id, day, lock=True)
    slot = next((s for s in slots if s.user_id == uid), None)
    if slot is None or uid not in set(_candidate_ids(session, branch.id)):
        raise ValidationFailed(N_("This person is not in today's rotation of the branch."),
                               field="user_id")
    before = {"available": slot.available, "owed_turns": slot.owed_turns,
              "approved_go_out": slot.approved_go_out}
    slot.available = _truthy(available)
    slot.approved_go_out = go_out
    session.flush()
    audit.record(session, actor, "reception.set_availability", slot, before=before,
                 after={"available": slot.available, "owed_turns": slot.owed_turns,
                        "approved_go_out": slot.approved_go_out,
                        "user_id": uid, "branch_id": branch.id, "day": day.isoformat()})
    return slot
