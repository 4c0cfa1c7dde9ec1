"""Reception records (接待 / 来人来电登记) and the daily rotation (轮流接待): R-RECV-1..3.

Decisions where domain.md is silent (also in the helper's report):

- Rotation (R-RECV-1) is a round robin per branch per company day over the branch's present
  salespeople (``policy.owner_candidates_stmt``). Slots are created on first use of the day;
  the starting position rotates with the date so nobody is always first. The next salesperson
  is: an available one who is owed turns (lowest position first), else the one with the fewest
  turns (then position). A salesperson whose turn comes while they are out is skipped: the
  turn counts as theirs and is added to ``owed_turns``, served first when they are back.
  Only walk-in visits use the rotation; calls go to the named person or stay with the desk.
- A visitor naming a salesperson goes to them without consuming a turn; so does a returning
  visitor, who goes to the archive's owner when present (R-RECV-2, first-visit rule); when
  the owner is not there, the next colleague of the rotation assists without using a turn
  and the archive stays with its owner.
- Busy (R-RECV-1): receiving a walk-in of today who has not left (no departure time). A busy
  salesperson is skipped and keeps their place; when everyone in is busy, the visitor waits
  for the next of them. Out: only an approved go-out (外出申请, registered by the supervisor,
  grant ``reception.approve_go_out``) earns the missed turns back; an unapproved absence
  (e.g. marking oneself out) loses them.
- Returning visitors are matched like duplicates (R-CUST-1): normalised phone, or the
  normalised company name (or the visitor's name when no company is given). Their record is
  linked, flagged ``is_returning`` and not counted as a new reception; a visit counts as
  service for R-CUST-5. An unowned archive goes to the person who serves the visitor.
- Statistics (R-RECV-3): counts per bucket (company day, ISO week starting Monday, month) and
  by class, staff (who served, else who received), branch and outcome. ``visits`` and
  ``calls`` count new receptions only; ``returning`` counts the others; ``deals`` counts new
  receptions that converted (outcome "deal", or the linked archive closed a deal at or after
  the arrival); conversion = deals / new receptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from models.customer import Customer
from models.enums import (
    CustomerSource,
    ReceptionKind,
    ReceptionOutcome,
    Venue,
    VisitorClass,
)
from models.org import Branch, User
from models.reception import ReceptionRecord, RotationSlot
from portal import audit, clock, policy
from portal.normalize import normalize_phone
from portal.services import customers, evidence, reception_lookup
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.unit import check_version, load, verb

FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_STAT_DAYS = 400
DEFAULT_VENUE = {VisitorClass.VIP.value: Venue.VIP_ROOM.value,
                 VisitorClass.BUSINESS.value: Venue.BUSINESS_ROOM.value,
                 VisitorClass.GENERAL.value: Venue.LOUNGE.value}
CREATE_FIELDS = ("kind", "visitor_class", "venue", "visitor_name", "visitor_company",
                 "visitor_phone", "purpose", "arrived_at", "departed_at", "branch_id",
                 "designated_staff_id", "customer_id", "create_customer", "outcome")
UPDATE_FIELDS = ("visitor_class", "venue", "visitor_name", "visitor_company", "visitor_phone",
                 "purpose", "departed_at", "outcome")
_TEXT_LIMITS = {"visitor_name": 100, "visitor_company": 200, "visitor_phone": 32,
                "purpose": 2000}


# ---------------------------------------------------------------------------------------------
# Validation helpers
# ---------------------------------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(N_("%(label)s must be text."), field=key, label=key)
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed(N_("%(label)s is required."), field=key, label=key)
        return None
    if len(text) > _TEXT_LIMITS.get(key, 200):
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."), field=key, label=key,
                               max=_TEXT_LIMITS.get(key, 200))
    return text


def _choice(data: Mapping[str, Any], key: str, allowed: list[str], default: str | None
            ) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    text = str(value).strip().lower()
    if text not in allowed:
        raise ValidationFailed(N_("%(value)s is not a valid %(label)s (choose one of "
                                  "%(choices)s)."), field=key, label=key, value=str(value)[:40],
                               choices=", ".join(allowed))
    return text


def _moment(data: Mapping[str, Any], key: str, *, future_ok: bool = False
            ) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(N_("%(label)s must be a date and time."), field=key, label=key) from None
    if not isinstance(value, datetime):
        raise ValidationFailed(N_("%(label)s must be a date and time."), field=key, label=key)
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.COMPANY_TZ)  # typed at the desk: company time
    if not future_ok and value > clock.now() + FUTURE_TOLERANCE:
        raise ValidationFailed(N_("%(label)s cannot be in the future."), field=key, label=key)
    return value


def _phone(data: Mapping[str, Any]) -> str | None:
    phone = _text(data, "visitor_phone")
    if phone is not None and not 5 <= len(normalize_phone(phone) or "") <= 15:
        raise ValidationFailed(N_("%(value)s is not a phone number."), field="visitor_phone",
                               value=phone[:32])
    return phone


def _id(value: Any, key: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("%(label)s must be an id."), field=key, label=key) from None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def company_day(moment: datetime) -> date:
    return moment.astimezone(clock.COMPANY_TZ).date()


def _day_start_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.COMPANY_TZ).astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# Rotation (R-RECV-1)
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


# ---------------------------------------------------------------------------------------------
# Reception records
# ---------------------------------------------------------------------------------------------


def _match_archive(session: Session, name: str, company: str | None,
                   phone: str | None) -> Customer | None:
    """R-RECV-2: the existing archive of a returning visitor (earliest registration wins)."""
    found = customers.find_duplicates(session, company or name, phone, None,
                                      organisation=True if company else None)
    return found[0] if found else None


def _present_in_branch(session: Session, user_id: int | None, branch_id: int) -> bool:
    if user_id is None:
        return False
    if user_id not in set(_candidate_ids(session, branch_id)):
        return False
    slot = session.scalar(select(RotationSlot).where(
        RotationSlot.branch_id == branch_id, RotationSlot.day == clock.today(),
        RotationSlot.user_id == user_id))
    return slot is None or slot.available


@verb
def register_reception(session: Session, actor: User, data: Mapping[str, Any]
                       ) -> ReceptionRecord:
    """Register a visit or call (来人来电登记). Walk-ins who name nobody get the next
    salesperson of the rotation (R-RECV-1); returning visitors are linked to their archive
    (R-RECV-2); with ``create_customer`` a new visitor gets a prospect archive owned by the
    salesperson who serves them."""
    if not policy.can(actor, "reception.add"):
        raise PermissionDenied("reception.add", ReceptionRecord)
    for key in data:
        if key not in CREATE_FIELDS:
            raise ValidationFailed(N_("%(label)s cannot be set here."), field=str(key), label=str(key))
    kind = _choice(data, "kind", [k.value for k in ReceptionKind], None)
    if kind is None:
        raise ValidationFailed(N_("%(label)s is required."), field="kind", label="kind")
    visitor_class = _choice(data, "visitor_class", [c.value for c in VisitorClass],
                            VisitorClass.GENERAL.value)
    default_venue = Venue.PHONE.value if kind == ReceptionKind.CALL.value \
        else DEFAULT_VENUE[visitor_class]
    venue = _choice(data, "venue", [v.value for v in Venue], default_venue)
    name = _text(data, "visitor_name", required=True)
    company = _text(data, "visitor_company")
    phone = _phone(data)
    purpose = _text(data, "purpose")
    outcome = _choice(data, "outcome", [o.value for o in ReceptionOutcome],
                      ReceptionOutcome.PENDING.value)
    now = clock.now()
    arrived = _moment(data, "arrived_at", future_ok=True) or now
    evidence.check_arrival(actor, arrived, now)
    departed = _moment(data, "departed_at")
    if departed is not None and departed < arrived:
        raise ValidationFailed(N_("The departure cannot be before the arrival."),
                               field="departed_at")
    bid = _id(data.get("branch_id"), "branch_id") or actor.branch_id
    branch = session.get(Branch, bid) if bid is not None else None
    if branch is None:
        raise ValidationFailed(N_("Choose the branch (showroom)."), field="branch_id")
    probe = ReceptionRecord(branch_id=branch.id, department_id=branch.department_id)
    if not policy.can(actor, "reception.add", probe) and branch.id != actor.branch_id:
        raise PermissionDenied("reception.add", ("Branch", branch.id))
    designated = _id(data.get("designated_staff_id"), "designated_staff_id")
    evidence.check_designation(actor, designated)
    if designated is not None and designated not in set(_candidate_ids(session, branch.id)):
        raise ValidationFailed(N_("The named salesperson is not working in this branch now."),
                               field="designated_staff_id")

    customer: Customer | None = None
    cid = _id(data.get("customer_id"), "customer_id")
    if cid is not None:  # the front desk: the archive it looked up (reception_lookup)
        customer = reception_lookup.linkable(session, actor, cid)
    else:
        customer = _match_archive(session, name, company, phone)
        if customer is not None and not evidence.may_link(actor, customer):
            customer = None  # another person's archive: neither linked nor revealed
    returning = customer is not None

    day = company_day(arrived)
    assigned: int | None = None
    used_turn = False
    if designated is not None:
        assigned = designated
    elif returning and _present_in_branch(session, customer.owner_id, branch.id):
        assigned = customer.owner_id
    elif returning and customer.owner_id is not None and kind == ReceptionKind.VISIT.value:
        # R-RECV-2: the owner is not there; a colleague assists without using a turn and
        # the archive stays with its owner.
        assigned = next_colleague(session, branch.id, day, exclude=customer.owner_id)
    elif kind == ReceptionKind.VISIT.value:
        slot = _take_turn(session, branch.id, day)
        if slot is not None:
            assigned, used_turn = slot.user_id, True

    if returning:
        if customer.owner_id is None and assigned is not None \
                and customer.closed_at is None:
            customers._change_owner(session, actor, customer, assigned,
                                    "R-RECV-2 returning visitor of an unowned archive",
                                    now=now, action="customer.claim")
        if kind == ReceptionKind.VISIT.value and (customer.last_service_at is None
                                                  or customer.last_service_at < arrived):
            customer.last_service_at = arrived  # a visit is service (R-CUST-5)
    elif _truthy(data.get("create_customer")):
        source = CustomerSource.WALK_IN.value if kind == ReceptionKind.VISIT.value \
            else CustomerSource.CALL.value
        customer = customers.create_customer_inner(
            session, actor, {"name": company or name, "phone": phone, "source": source,
                             "branch_id": branch.id},
            owner_by_rule=assigned, first_contact_at=arrived)

    record = ReceptionRecord(
        kind=kind, visitor_class=visitor_class, venue=venue, visitor_name=name,
        visitor_company=company, visitor_phone=phone, purpose=purpose, arrived_at=arrived,
        departed_at=departed, branch_id=branch.id, department_id=branch.department_id,
        received_by_id=actor.id, assigned_to_id=assigned, designated_staff_id=designated,
        customer_id=customer.id if customer is not None else None, is_returning=returning,
        used_rotation_turn=used_turn, outcome=outcome,
        counts_as_evidence=evidence.counts(actor, arrived, now))
    session.add(record)
    session.flush()
    audit.record(session, actor, "reception.add", record, after=audit.snapshot(record))
    return record


@verb
def update_reception(session: Session, actor: User, record_id: int, data: Mapping[str, Any],
                     expected_version: int | None = None) -> ReceptionRecord:
    """Complete a record (departure, outcome, corrections). Who received and served the
    visitor, the branch and the link to the archive are facts and do not change here."""
    if not policy.can(actor, "reception.change"):
        raise PermissionDenied("reception.change", ReceptionRecord)
    record = load(session, actor, ReceptionRecord, record_id, "reception.change")
    check_version(record, expected_version)
    for key in data:
        if key not in UPDATE_FIELDS:
            raise ValidationFailed(N_("%(label)s cannot be changed here."), field=str(key), label=str(key))
    values: dict[str, Any] = {}
    if "visitor_class" in data:
        values["visitor_class"] = _choice(data, "visitor_class",
                                          [c.value for c in VisitorClass], record.visitor_class)
    if "venue" in data:
        values["venue"] = _choice(data, "venue", [v.value for v in Venue], record.venue)
    if "visitor_name" in data:
        values["visitor_name"] = _text(data, "visitor_name", required=True)
    if "visitor_company" in data:
        values["visitor_company"] = _text(data, "visitor_company")
    if "visitor_phone" in data:
        values["visitor_phone"] = _phone(data)
    if "purpose" in data:
        values["purpose"] = _text(data, "purpose")
    if "outcome" in data:
        values["outcome"] = _choice(data, "outcome", [o.value for o in ReceptionOutcome],
                                    record.outcome)
    if "departed_at" in data:
        departed = _moment(data, "departed_at")
        if departed is not None and departed < record.arrived_at:
            raise ValidationFailed(N_("The departure cannot be before the arrival."),
                                   field="departed_at")
        values["departed_at"] = departed
    changed = {k: v for k, v in values.items() if getattr(record, k) != v}
    if not changed:
        return record
    before = {k: getattr(record, k) for k in changed}
    for key, value in changed.items():
        setattr(record, key, value)
    session.flush()
    audit.record(session, actor, "reception.change", record, before=before, after=changed)
    return record


# ---------------------------------------------------------------------------------------------
# Statistics (R-RECV-3)
# ---------------------------------------------------------------------------------------------


@dataclass
class Counts:
    visits: int = 0
    calls: int = 0
    returning: int = 0
    deals: int = 0

    @property
    def receptions(self) -> int:
        """New receptions (returning visitors excluded, R-RECV-2)."""
        return self.visits + self.calls

    @property
    def conversion(self) -> float:
        return self.deals / self.receptions if self.receptions else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"visits": self.visits, "calls": self.calls, "returning": self.returning,
                "receptions": self.receptions, "deals": self.deals,
                "conversion": round(self.conversion, 4)}


@dataclass
class ReceptionStatistics:
    """来人来电统计表 for one period grain over [start, end] (company dates, inclusive)."""

    period: str
    start: date
    end: date
    total: Counts = field(default_factory=Counts)
    by_bucket: dict[date, Counts] = field(default_factory=dict)
    by_class: dict[str, Counts] = field(default_factory=dict)
    by_staff: dict[int | None, Counts] = field(default_factory=dict)
    by_branch: dict[int, Counts] = field(default_factory=dict)
    by_outcome: dict[str, Counts] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def table(d: dict) -> list[dict[str, Any]]:
            return [{"key": (k.isoformat() if isinstance(k, date) else k), **v.as_dict()}
                    for k, v in d.items()]
        return {"period": self.period, "start": self.start.isoformat(),
                "end": self.end.isoformat(), "total": self.total.as_dict(),
                "by_bucket": table(self.by_bucket), "by_class": table(self.by_class),
                "by_staff": table(self.by_staff), "by_branch": table(self.by_branch),
                "by_outcome": table(self.by_outcome)}


PERIODS = ("day", "week", "month")


def bucket_of(day: date, period: str) -> date:
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def _as_date(value: Any, key: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValidationFailed(N_("%(label)s must be a date."), field=key, label=key)


def statistics(session: Session, actor: User, period: str = "day", start: Any = None,
               end: Any = None) -> ReceptionStatistics:
    """R-RECV-3 counts of the records ``actor`` may see (policy scope), bucketed by day, week
    or month. A read: nothing is written (a refusal is audited by the caller's door).

    Holders of ``report.view`` (company reports: aggregates only) count the records in their
    report scope; others need ``reception.view`` and count the records they may see."""
    if policy.can(actor, "report.view"):
        scope_action = "report.view"
    elif policy.can(actor, "reception.view"):
        scope_action = "reception.view"
    else:
        raise PermissionDenied("reception.view", ReceptionRecord)
    if period not in PERIODS:
        raise ValidationFailed(N_("%(value)s is not a valid %(label)s (choose one of "
                                  "%(choices)s)."), field="period", label="period", value=str(period)[:20],
                               choices=", ".join(PERIODS))
    today = clock.today()
    end_d = _as_date(end, "end") if end is not None else today
    start_d = _as_date(start, "start") if start is not None else bucket_of(end_d, period)
    if end_d < start_d:
        raise ValidationFailed(N_("The end is before the start."), field="end")
    if (end_d - start_d).days > MAX_STAT_DAYS:
        raise ValidationFailed(N_("Choose at most %(days)s days."), field="end",
                               days=MAX_STAT_DAYS)
    lo = _day_start_utc(start_d)
    hi = _day_start_utc(end_d + timedelta(days=1))
    stmt = (select(ReceptionRecord.kind, ReceptionRecord.visitor_class,
                   ReceptionRecord.branch_id, ReceptionRecord.assigned_to_id,
                   ReceptionRecord.received_by_id, ReceptionRecord.outcome,
                   ReceptionRecord.is_returning, ReceptionRecord.arrived_at, Customer.deal_at)
            .outerjoin(Customer, Customer.id == ReceptionRecord.customer_id)
            .where(ReceptionRecord.arrived_at >= lo, ReceptionRecord.arrived_at < hi))
    stmt = policy.scope(stmt, actor, ReceptionRecord, scope_action)
    stats = ReceptionStatistics(period=period, start=start_d, end=end_d)
    # buckets start at the chosen start date: a week or month that began before it is
    # labelled (and counted) from the start date, never from the days before it
    day = bucket_of(start_d, period)
    while day <= end_d:
        stats.by_bucket[max(day, start_d)] = Counts()
        day = (day + timedelta(days=1 if period == "day" else 7)) if period != "month" \
            else (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    for (kind, vclass, branch_id, assigned, received, outcome, returning, arrived,
         deal_at) in session.execute(stmt):
        bucket = max(bucket_of(company_day(arrived), period), start_d)
        keys = [stats.total, stats.by_bucket.setdefault(bucket, Counts()),
                stats.by_class.setdefault(vclass, Counts()),
                stats.by_staff.setdefault(assigned or received, Counts()),
                stats.by_branch.setdefault(branch_id, Counts()),
                stats.by_outcome.setdefault(outcome, Counts())]
        converted = outcome == ReceptionOutcome.DEAL.value or (
            deal_at is not None and deal_at >= arrived)
        for counts in keys:
            if returning:
                counts.returning += 1
                continue
            if kind == ReceptionKind.VISIT.value:
                counts.visits += 1
            else:
                counts.calls += 1
            if converted:
                counts.deals += 1
    return stats


def arrived_today_sql(now: datetime | None = None) -> Any:
    """Records that arrived on the company's calendar day (China time), compared in UTC: the
    portal's 今日接待 preset (one definition for every door)."""
    day = (now or clock.now()).astimezone(clock.COMPANY_TZ).date()
    start = datetime.combine(day, time.min, tzinfo=clock.COMPANY_TZ)
    return and_(ReceptionRecord.arrived_at >= start,
                ReceptionRecord.arrived_at < start + timedelta(days=1))
