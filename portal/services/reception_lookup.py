"""The front desk's customer look-up (R-ROLE-1: "customer lookup by exact name/phone, no
browsing of archives").

Reception does not list or open archives. To link a walk-in or caller to an existing archive
it looks one up by the customer's exact full name or phone number (normalised as duplicates
are, R-CUST-1). The answer holds only what is needed to link the visit: the archive's code,
its name and the owner's name — never contact data beyond what was typed. Only archives the
person may link a visit to are answered (``evidence.may_link``). Every look-up is audited
(what was asked, which archives were answered) and look-ups are rate-limited per person
(setting ``customer.lookups_per_hour``), like the duplicate answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Customer, User
from models.audit import AuditEntry
from portal import audit, clock, policy, settings
from portal.normalize import normalize_name, normalize_phone
from portal.services import evidence
from portal.services.errors import (
    N_,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from portal.services.unit import load, verb

ACTION = "customer.lookup"
MAX_MATCHES = 10
MIN_PHONE_DIGITS = 7


@dataclass(frozen=True)
class LookupMatch:
    """One archive the front desk may link a visit to: nothing more than this."""

    id: int
    code: str
    name: str
    owner_name: str | None


def _asked(text: str) -> tuple[str, str]:
    """``("phone", digits)`` when the text is a phone number, else ``("name", normalised)``."""
    digits = normalize_phone(text) or ""
    if len(digits) >= MIN_PHONE_DIGITS and not normalize_name(text).strip("0123456789"):
        return "phone", digits
    return "name", normalize_name(text)


def asked_kind(text: str) -> str:
    """Whether ``text`` is looked up as a phone number or as a name."""
    return _asked(text)[0]


def lookups_left(session: Session, actor: User, action: str = ACTION) -> int:
    """How many more look-ups the person may make this hour (``action``: the audited action
    that counts as one, e.g. an archive-loan request, which is an exact look-up too)."""
    limit = int(settings.get(session, "customer.lookups_per_hour"))
    used = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.actor_id == actor.id, AuditEntry.action == action,
        AuditEntry.at >= clock.now() - timedelta(hours=1))) or 0
    return max(0, limit - int(used))


def _mask(kind: str, key: str) -> str:
    """What the audit entry says was asked: a phone by its last four digits."""
    return f"phone …{key[-4:]}" if kind == "phone" else f"name {key}"


def linkable(session: Session, actor: User, customer_id: int) -> Customer:
    """The archive a record links to (a visit's customer, a referral's referrer): through the
    row scope for whoever reads archives; for the front desk, which only looks them up, any
    archive it may link to (``evidence.may_link``). Otherwise not found (and audited as an
    out-of-scope attempt by ``load``)."""
    if not policy.can(actor, "customer.view") and policy.can(actor, ACTION):
        customer = session.get(Customer, customer_id)
        if customer is None or not evidence.may_link(actor, customer):
            raise NotFound()
        return customer
    return load(session, actor, Customer, customer_id, "customer.view")


@verb
def lookup(session: Session, actor: User, text: str | None) -> list[LookupMatch]:
    """The archives whose full name or phone is exactly ``text`` (normalised) that ``actor``
    may link a visit to, earliest registration first (at most ``MAX_MATCHES``)."""
    if not policy.can(actor, ACTION):
        raise PermissionDenied(ACTION, Customer)
    raw = (text or "").strip()
    if not raw or len(raw) > 100:
        raise ValidationFailed(N_("Type the customer's full name or phone number."),
                               field="q")
    kind, key = _asked(raw)
    if not key:
        raise ValidationFailed(N_("Type the customer's full name or phone number."),
                               field="q")
    if lookups_left(session, actor) <= 0:
        raise RuleViolation(
            N_("Too many look-ups within an hour (at most %(limit)s); try again later."),
            rule="R-ROLE-1", field="q", audit_action=ACTION, audit_target=Customer,
            limit=int(settings.get(session, "customer.lookups_per_hour")))
    column = Customer.phone_normalized if kind == "phone" else Customer.name_normalized
    found = session.scalars(select(Customer).where(column == key)
                            .order_by(Customer.registered_at, Customer.id)
                            .limit(MAX_MATCHES * 5)).all()
    owners = {u.id: u for u in session.scalars(select(User).where(
        User.id.in_({c.owner_id for c in found if c.owner_id is not None})))}
    matches = [LookupMatch(c.id, c.code, c.name,
                           owners[c.owner_id].full_name if c.owner_id in owners else None)
               for c in found if evidence.may_link(actor, c)][:MAX_MATCHES]
    audit.record(session, actor, ACTION, "Customer",
                 detail=f"{_mask(kind, key)}: " + (", ".join(m.code for m in matches)
                                                    or "no match"))
    return matches


def preselected(session: Session, actor: User, customer_id: int) -> LookupMatch:
    """The archive a walk-in form was opened with from a look-up answer, as the look-up
    answered it (code, name, owner), for the form to show what the record will be linked to.
    The door only asks for an archive its look-up page answered this person (a signed link);
    the archive must still be one the person may link to (else ``NotFound``)."""
    customer = linkable(session, actor, customer_id)
    owner = session.get(User, customer.owner_id) if customer.owner_id is not None else None
    return LookupMatch(customer.id, customer.code, customer.name,
                       owner.full_name if owner is not None else None)
