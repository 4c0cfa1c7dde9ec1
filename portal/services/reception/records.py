"""Reception: registering and updating a visit or call (来人来电登记, R-RECV-2)."""

from __future__ import annotations

from collections.abc import Mapping
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
            owner_by_rule=assigned, first_contact_at=arrived, grant="reception.add")

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
