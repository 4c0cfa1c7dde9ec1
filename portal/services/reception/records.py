"""Reception: registering and updating a visit or call (来人来电登记, R-RECV-2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
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
from portal.services import customers, evidence, reception_lookup
from portal.services.accepts import accepts
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.reception._common import (
    CREATE_FIELDS,
    DEFAULT_VENUE,
    UPDATE_FIELDS,
    _choice,
    _id,
    _moment,
    _phone,
    _text,
    _truthy,
    company_day,
)
from portal.services.reception.rotation import _candidate_ids, _take_turn, next_colleague
from portal.services.unit import check_version, load, verb

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


@dataclass(frozen=True)
class _Visit:
    """The visit or call as the front desk described it, checked field by field."""
    kind: str
    visitor_class: str | None
    venue: str | None
    name: str | None
    company: str | None
    phone: str | None
    purpose: str | None
    outcome: str | None
    arrived: datetime
    departed: datetime | None


def _read_visit(actor: User, data: Mapping[str, Any], now: datetime) -> _Visit:
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
    arrived = _moment(data, "arrived_at", future_ok=True) or now
    evidence.check_arrival(actor, arrived, now)
    departed = _moment(data, "departed_at")
    if departed is not None and departed < arrived:
        raise ValidationFailed(N_("The departure cannot be before the arrival."),
                               field="departed_at")
    return _Visit(kind, visitor_class, venue, name, company, phone, purpose, outcome,
                  arrived, departed)


def _reception_branch(session: Session, actor: User, data: Mapping[str, Any]) -> Branch:
    """The showroom the visit is registered in: the actor's own unless another is named and
    the actor may register there."""
    bid = _id(data.get("branch_id"), "branch_id") or actor.branch_id
    branch = session.get(Branch, bid) if bid is not None else None
    if branch is None:
        raise ValidationFailed(N_("Choose the branch (showroom)."), field="branch_id")
    probe = ReceptionRecord(branch_id=branch.id, department_id=branch.department_id)
    if not policy.can(actor, "reception.add", probe) and branch.id != actor.branch_id:
        raise PermissionDenied("reception.add", ("Branch", branch.id))
    return branch


def _designated_staff(session: Session, actor: User, data: Mapping[str, Any],
                      branch: Branch) -> int | None:
    """The salesperson the visitor asked for, who must be working in the branch now."""
    designated = _id(data.get("designated_staff_id"), "designated_staff_id")
    evidence.check_designation(actor, designated)
    if designated is not None and designated not in set(_candidate_ids(session, branch.id)):
        raise ValidationFailed(N_("The named salesperson is not working in this branch now."),
                               field="designated_staff_id")
    return designated


def _visitor_archive(session: Session, actor: User, data: Mapping[str, Any],
                     visit: _Visit) -> Customer | None:
    """The archive of a returning visitor (R-RECV-2): the one the front desk looked up, or a
    match on name/company and phone that the actor may link."""
    cid = _id(data.get("customer_id"), "customer_id")
    if cid is not None:  # the front desk: the archive it looked up (reception_lookup)
        return reception_lookup.linkable(session, actor, cid)
    customer = _match_archive(session, visit.name, visit.company, visit.phone)
    if customer is not None and not evidence.may_link(actor, customer):
        return None  # another person's archive: neither linked nor revealed
    return customer


def _serving_salesperson(session: Session, branch: Branch, visit: _Visit,
                         customer: Customer | None, designated: int | None
                         ) -> tuple[int | None, bool]:
    """Who serves the visitor, and whether that used a rotation turn (R-RECV-1/2)."""
    day = company_day(visit.arrived)
    visit_in_person = visit.kind == ReceptionKind.VISIT.value
    if designated is not None:
        return designated, False
    if customer is not None and _present_in_branch(session, customer.owner_id, branch.id):
        return customer.owner_id, False
    if customer is not None and customer.owner_id is not None and visit_in_person:
        # R-RECV-2: the owner is not there; a colleague assists without using a turn and
        # the archive stays with its owner.
        return next_colleague(session, branch.id, day, exclude=customer.owner_id), False
    if visit_in_person:  # a new visitor, or a returning one whose archive is unowned
        slot = _take_turn(session, branch.id, day)
        if slot is not None:
            return slot.user_id, True
    return None, False


def _update_returning_archive(session: Session, actor: User, customer: Customer,
                              visit: _Visit, assigned: int | None, now: datetime) -> None:
    """R-RECV-2: an unowned archive goes to whoever serves its returning visitor; a visit
    counts as service (R-CUST-5)."""
    if customer.owner_id is None and assigned is not None and customer.closed_at is None:
        customers._change_owner(session, actor, customer, assigned,
                                "R-RECV-2 returning visitor of an unowned archive",
                                now=now, action="customer.claim")
    if visit.kind == ReceptionKind.VISIT.value and (customer.last_service_at is None
                                                    or customer.last_service_at < visit.arrived):
        customer.last_service_at = visit.arrived  # a visit is service (R-CUST-5)


def _new_visitor_archive(session: Session, actor: User, branch: Branch, visit: _Visit,
                         assigned: int | None) -> Customer:
    """A prospect archive for a new visitor, owned by the salesperson who serves them."""
    source = CustomerSource.WALK_IN.value if visit.kind == ReceptionKind.VISIT.value \
        else CustomerSource.CALL.value
    return customers.create_customer_inner(
        session, actor, {"name": visit.company or visit.name, "phone": visit.phone,
                         "source": source, "branch_id": branch.id},
        owner_by_rule=assigned, first_contact_at=visit.arrived, grant="reception.add")


@verb
@accepts(*CREATE_FIELDS)
def register_reception(session: Session, actor: User, data: Mapping[str, Any]
                       ) -> ReceptionRecord:
    """Register a visit or call (来人来电登记). Walk-ins who name nobody get the next
    salesperson of the rotation (R-RECV-1); returning visitors are linked to their archive
    (R-RECV-2); with ``create_customer`` a new visitor gets a prospect archive owned by the
    salesperson who serves them."""
    if not policy.can(actor, "reception.add"):
        raise PermissionDenied("reception.add", ReceptionRecord)
    now = clock.now()
    visit = _read_visit(actor, data, now)
    branch = _reception_branch(session, actor, data)
    designated = _designated_staff(session, actor, data, branch)
    customer = _visitor_archive(session, actor, data, visit)
    returning = customer is not None
    assigned, used_turn = _serving_salesperson(session, branch, visit, customer, designated)
    if customer is not None:
        _update_returning_archive(session, actor, customer, visit, assigned, now)
    elif _truthy(data.get("create_customer")):
        customer = _new_visitor_archive(session, actor, branch, visit, assigned)

    record = ReceptionRecord(
        kind=visit.kind, visitor_class=visit.visitor_class, venue=visit.venue,
        visitor_name=visit.name, visitor_company=visit.company, visitor_phone=visit.phone,
        purpose=visit.purpose, arrived_at=visit.arrived, departed_at=visit.departed,
        branch_id=branch.id, department_id=branch.department_id,
        received_by_id=actor.id, assigned_to_id=assigned, designated_staff_id=designated,
        customer_id=customer.id if customer is not None else None, is_returning=returning,
        used_rotation_turn=used_turn, outcome=visit.outcome,
        counts_as_evidence=evidence.counts(actor, visit.arrived, now))
    session.add(record)
    session.flush()
    audit.record(session, actor, "reception.add", record, after=audit.snapshot(record))
    return record


@verb
@accepts(*UPDATE_FIELDS)
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
