"""Customer archives: R-CUST-1 duplicates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from models.customer import Customer
from portal import policy
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone
from portal.services import identity
from portal.services.errors import N_, RuleViolation


@dataclass(frozen=True)
class DuplicateMatch:
    customer: Customer
    field: str  # name, phone or credit_code


def _duplicate_matches(session: Session, name: str | None, phone: str | None,
                       credit_code: str | None, exclude_id: int | None = None,
                       kind: str | None = None, organisation: bool | None = None
                       ) -> list[DuplicateMatch]:
    # R-CUST-1: the name identifies organisations only (two 王先生 are two customers): a
    # name-only match counts when the new name or the existing archive is an organisation's.
    org_new = organisation if organisation is not None else identity.is_organisation(
        name, kind, credit_code)
    name_n = normalize_name(name) if name else None
    phone_n = normalize_phone(phone)
    code_n = normalize_credit_code(credit_code)
    conditions = []
    if name_n:
        conditions.append(Customer.name_normalized == name_n)
    if phone_n:
        conditions.append(Customer.phone_normalized == phone_n)
    if code_n:
        conditions.append(Customer.credit_code_normalized == code_n)
    if not conditions:
        return []
    stmt = select(Customer).where(or_(*conditions)).order_by(Customer.registered_at, Customer.id)
    if exclude_id is not None:
        stmt = stmt.where(Customer.id != exclude_id)
    matches: list[DuplicateMatch] = []
    for c in session.scalars(stmt):
        if code_n and c.credit_code_normalized == code_n:
            matches.append(DuplicateMatch(c, "credit_code"))
            continue
        if code_n and c.credit_code_normalized and c.credit_code_normalized != code_n:
            continue  # two different registered entities that share a name or a phone
        field = "phone" if phone_n and c.phone_normalized == phone_n else "name"
        if field == "name" and not org_new and not identity.is_organisation(
                c.name, c.kind, c.credit_code):
            continue  # two people with one name
        matches.append(DuplicateMatch(c, field))
    return matches


def find_duplicates(session: Session, name: str | None, phone: str | None = None,
                    credit_code: str | None = None, kind: str | None = None,
                    organisation: bool | None = None) -> list[Customer]:
    """Existing archives the given keys collide with, earliest registration first (R-CUST-1).
    ``organisation``: the name is known to be an organisation's (e.g. a visitor's company).
    A service helper: it does not scope; callers show only code and name of the result."""
    return [m.customer for m in _duplicate_matches(session, name, phone, credit_code,
                                                   kind=kind, organisation=organisation)]


def _refuse_duplicate(session: Session, name: str | None, phone: str | None,
                      credit_code: str | None, exclude_id: int | None = None,
                      kind: str | None = None, actor: Any = None) -> None:
    """R-CUST-1 重卡: refuse with a pointer to the existing archive. An archive outside the
    actor's scope is named by its code only (never its name or owner) and the hit is audited
    (the refusal's denied entry names it)."""
    matches = _duplicate_matches(session, name, phone, credit_code, exclude_id, kind)
    if matches:
        first = matches[0]
        if actor is not None and not policy.can(actor, "customer.view", first.customer):
            raise RuleViolation(
                N_("重卡: an archive with the same %(key)s already exists: %(code)s (outside "
                   "your scope). The earlier registration wins; ask your supervisor."),
                rule="R-CUST-1", field=first.field, key=first.field, code=first.customer.code,
                existing_id=first.customer.id, outside_scope=True,
                audit_action="customer.duplicate_hit",
                audit_target=("Customer", first.customer.id))
        raise RuleViolation(
            N_("重卡: an archive with the same %(key)s already exists: %(code)s %(name)s. "
               "The earlier registration wins; ask your supervisor if it should be yours."),
            rule="R-CUST-1", field=first.field, key=first.field, code=first.customer.code,
            name=first.customer.name, existing_id=first.customer.id)
