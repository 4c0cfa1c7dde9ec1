"""Customer archives: update, contacts, follow-ups, deals."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.customer import Customer, CustomerContact, CustomerCorrection, FollowUp
from models.enums import CustomerStatus, FollowUpKind, ReceptionKind
from models.org import User
from models.reception import ReceptionRecord
from portal import audit, clock, policy
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone
from portal.services import calendar
from portal.services.accepts import accepts
from portal.services.customers import corrections
from portal.services.customers.derived import (
    _last_counting_service,
    cadence_baseline,
    deadline_in_force,
)
from portal.services.customers.duplicates import _refuse_duplicate
from portal.services.customers.validation import (
    CONTACT_FIELDS,
    EDITABLE_FIELDS,
    FUTURE_TOLERANCE,
    MAX_BACKDATE,
    _check_keys,
    _check_special,
    _choice,
    _text,
    clean_fields,
)
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import check_version, load, verb


def _refuse_closed(customer: Customer) -> None:
    if customer.closed_at is not None or customer.status == CustomerStatus.CLOSED.value:
        raise RuleViolation(N_("The archive %(code)s is closed; it is kept as it is."),
                            rule="R-CUST-8", code=customer.code)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


@verb
@accepts(*EDITABLE_FIELDS)
def update_customer(session: Session, actor: User, customer_id: int, data: Mapping[str, Any],
                    expected_version: int | None = None) -> Customer:
    """Correct fields of an archive; every changed field keeps its previous value as a
    CustomerCorrection (R-CUST-8). Owner, status, branch and dates change only through their
    own verbs."""
    if not policy.can(actor, "customer.change"):
        raise PermissionDenied("customer.change", Customer)
    customer = load(session, actor, Customer, customer_id, "customer.change")
    check_version(customer, expected_version)
    _check_keys(data, EDITABLE_FIELDS)
    values = clean_fields(data, partial=True)
    changed = {k: v for k, v in values.items() if getattr(customer, k) != v}
    if not changed:
        return customer
    corrections.refuse_without_consent(customer, changed)  # R-CUST-8: a correction request
    _refuse_closed(customer)
    if set(changed) & CONTACT_FIELDS and not policy.can(actor, "customer_contact.change",
                                                        customer):
        raise PermissionDenied("customer_contact.change", customer)
    kind = changed.get("kind", customer.kind)
    _check_special(kind, changed.get("special_category", customer.special_category))
    if {"name", "phone", "credit_code"} & set(changed):
        _refuse_duplicate(session, changed.get("name"), changed.get("phone"),
                          changed.get("credit_code"), exclude_id=customer.id, kind=kind,
                          actor=actor)
    now = clock.now()
    before = {k: getattr(customer, k) for k in changed}
    for key, value in changed.items():
        session.add(CustomerCorrection(customer_id=customer.id, field=key,
                                       old_value=_as_text(getattr(customer, key)),
                                       new_value=_as_text(value), changed_by_id=actor.id,
                                       changed_at=now))
        setattr(customer, key, value)
    customer.name_normalized = normalize_name(customer.name)
    customer.phone_normalized = normalize_phone(customer.phone)
    customer.credit_code_normalized = normalize_credit_code(customer.credit_code)
    session.flush()
    audit.record(session, actor, "customer.change", customer, before=before, after=changed)
    return customer


@verb
def add_contact(session: Session, actor: User, customer_id: int,
                data: Mapping[str, Any]) -> CustomerContact:
    """Add a contact person (联系人) to an archive."""
    if not policy.can(actor, "customer_contact.change"):
        raise PermissionDenied("customer_contact.change", CustomerContact)
    customer = load(session, actor, Customer, customer_id, "customer_contact.change")
    _check_keys(data, ("name", "title", "phone", "email", "is_primary"))
    _refuse_closed(customer)
    name = _text(data, "name", required=True)
    title = _text(data, "title")
    phone = _text(data, "phone")
    if phone is not None and not 5 <= len(normalize_phone(phone) or "") <= 15:
        raise ValidationFailed(N_("%(value)s is not a phone number."), field="phone",
                               value=phone[:32])
    email = _text(data, "email")
    if email is not None and (len(email) > 200 or not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
                                                               email)):
        raise ValidationFailed(N_("%(value)s is not an e-mail address."), field="email",
                               value=email[:60])
    if name and len(name) > 100:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."), field="name", label="name",
                               max=100)
    primary = bool(data.get("is_primary")) and str(data.get("is_primary")).lower() not in (
        "0", "false", "no", "")
    if primary:
        for other in customer.contacts:
            other.is_primary = False
    contact = CustomerContact(customer_id=customer.id, name=name, title=title, phone=phone,
                              email=email, is_primary=primary)
    session.add(contact)
    session.flush()
    audit.record(session, actor, "customer_contact.add", customer,
                 after={"contact_id": contact.id, "name": name, "title": title,
                        "phone": phone, "email": email, "is_primary": primary})
    return contact


def _replay(session: Session, customer: Customer) -> None:
    """Recompute the stored deadline of the latest follow-up and the last service time."""
    ordered = sorted(customer.follow_ups, key=lambda f: (f.happened_at, f.id or 0))
    baseline = cadence_baseline(customer)
    since = [(f.happened_at, f.kind) for f in ordered if f.happened_at >= baseline]
    if ordered and ordered[-1].happened_at >= baseline:
        ordered[-1].next_due_at = deadline_in_force(session, baseline, since)
    customer.last_service_at = last_service(session, customer)


def last_service(session: Session, customer: Customer) -> datetime | None:
    """The latest service from the facts (R-CUST-5): a counting follow-up, a visit received
    at a branch, or a deal. Recomputed, so a text-only run that stops counting rolls it back."""
    ordered = sorted(customer.follow_ups, key=lambda f: (f.happened_at, f.id or 0))
    times = [_last_counting_service(session, [(f.happened_at, f.kind) for f in ordered]),
             customer.deal_at]
    if customer.id is not None:
        times.append(session.scalar(select(func.max(ReceptionRecord.arrived_at)).where(
            ReceptionRecord.customer_id == customer.id,
            ReceptionRecord.kind == ReceptionKind.VISIT.value)))
    known = [t for t in times if t is not None]
    return max(known) if known else None


@verb
def record_follow_up(session: Session, actor: User, customer_id: int, kind: str,
                     happened_at: datetime | None = None, notes: str | None = None,
                     planned_next_on: date | str | None = None) -> FollowUp:
    """Record a follow-up (回访 / 跟进); keeps the cadence (R-CUST-4) and service time
    (R-CUST-5) derivable. ``planned_next_on`` (下次回访日期): the day agreed with the customer,
    from today up to the rules' deadline — the customer is 待回访 from that day; it never moves
    the deadline itself."""
    if not policy.can(actor, "customer.follow_up"):
        raise PermissionDenied("customer.follow_up", FollowUp)
    customer = load(session, actor, Customer, customer_id, "customer.follow_up")
    kind_value = _choice({"kind": kind}, "kind", [k.value for k in FollowUpKind], None)
    if kind_value is None:
        raise ValidationFailed(N_("%(label)s is required."), field="kind", label="kind")
    notes_text = _text({"notes": notes}, "notes")
    _refuse_closed(customer)
    now = clock.now()
    at = happened_at or now
    if not isinstance(at, datetime):
        raise ValidationFailed(N_("%(label)s must be a date and time."), field="happened_at", label="happened_at")
    if at.tzinfo is None:
        raise ValidationFailed(N_("%(label)s needs a time zone."), field="happened_at", label="happened_at")
    if at > now + FUTURE_TOLERANCE:
        raise ValidationFailed(N_("A follow-up cannot be in the future."), field="happened_at")
    if at < now - MAX_BACKDATE:
        raise ValidationFailed(N_("A follow-up can be recorded at most %(days)s days late."),
                               field="happened_at", days=MAX_BACKDATE.days)
    latest = max((f.happened_at for f in customer.follow_ups), default=None)
    floor = max([t for t in (latest, cadence_baseline(customer)) if t is not None])
    if at < floor:
        raise ValidationFailed(N_("A follow-up cannot be dated before the last one or before "
                                  "the archive was registered or handed over."),
                               field="happened_at")
    follow_up = FollowUp(customer_id=customer.id, user_id=actor.id, kind=kind_value,
                         happened_at=at, notes=notes_text)
    session.add(follow_up)
    customer.follow_ups.append(follow_up)
    session.flush()
    before = {"last_service_at": customer.last_service_at}
    if customer.first_contact_at is None:
        customer.first_contact_at = at
    _replay(session, customer)
    follow_up.planned_next_on = _planned_date(planned_next_on, follow_up.next_due_at, now)
    session.flush()
    audit.record(session, actor, "customer.follow_up", customer, before=before,
                 after={"follow_up_id": follow_up.id, "kind": kind_value,
                        "happened_at": at, "next_due_at": follow_up.next_due_at,
                        "planned_next_on": follow_up.planned_next_on,
                        "last_service_at": customer.last_service_at})
    return follow_up


def _planned_date(value: date | str | None, deadline: datetime | None,
                  now: datetime) -> date | None:
    """下次回访日期: a company date from today to the day of the rules' deadline (R-CUST-4)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = calendar.company_date(value)
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed(N_("Enter a date."), field="planned_next_on") from None
    if not isinstance(value, date):
        raise ValidationFailed(N_("Enter a date."), field="planned_next_on")
    if value < calendar.company_date(now):
        raise ValidationFailed(N_("The next follow-up date cannot be in the past."),
                               field="planned_next_on")
    if deadline is not None and value > calendar.company_date(deadline):
        raise ValidationFailed(
            N_("The next follow-up date cannot be after the follow-up deadline of the rules "
               "(%(deadline)s)."), field="planned_next_on",
            deadline=calendar.company_date(deadline).isoformat())
    return value


@verb
def record_deal(session: Session, actor: User, customer_id: int,
                expected_version: int | None = None) -> Customer:
    """成交: the archive becomes active and the ownership permanent (R-CUST-2)."""
    if not policy.can(actor, "customer.change"):
        raise PermissionDenied("customer.change", Customer)
    customer = load(session, actor, Customer, customer_id, "customer.change")
    check_version(customer, expected_version)
    _refuse_closed(customer)
    now = clock.now()
    before = audit.snapshot(customer, ["status", "deal_at", "ownership_expires_at",
                                       "last_service_at"])
    customer.status = CustomerStatus.ACTIVE.value
    customer.deal_at = now
    customer.ownership_expires_at = None
    customer.last_service_at = now
    session.flush()
    audit.record(session, actor, "customer.deal", customer, before=before,
                 after=audit.snapshot(customer, ["status", "deal_at", "ownership_expires_at",
                                                 "last_service_at"]))
    return customer
