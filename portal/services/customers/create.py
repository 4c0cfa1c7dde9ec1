"""Customer archives: create (R-CUST-1, R-CUST-3 referral)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models.customer import Customer, OwnerChange
from models.enums import CustomerSource, CustomerStatus
from models.org import Branch, User
from portal import audit, clock, policy
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone
from portal.services import referral
from portal.services.accepts import accepts
from portal.services.customers.derived import _setting_days
from portal.services.customers.duplicates import _refuse_duplicate
from portal.services.customers.owners import _is_candidate, _owner_user
from portal.services.customers.validation import (
    _UNSET,
    CREATE_EXTRA_FIELDS,
    EDITABLE_FIELDS,
    _check_keys,
    _check_special,
    _int_id,
    clean_fields,
)
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.unit import verb


def _new_code() -> str:
    return "tmp" + uuid.uuid4().hex[:24]


def _resolve_branch(session: Session, branch_id: int | None) -> Branch:
    branch = session.get(Branch, branch_id) if branch_id is not None else None
    if branch is None:
        raise ValidationFailed(N_("Choose the branch (showroom) of the customer."),
                               field="branch_id")
    return branch


def prepare_customer(session: Session, actor: User, data: Mapping[str, Any], *,
                     owner_by_rule: Any = _UNSET, grant: str = "customer.add"
                     ) -> tuple[dict[str, Any], str | None]:
    """Validate ``data`` and apply the ownership rules; returns the column values of the new
    archive and a note for the audit. Raises exactly what ``create_customer`` would, writes
    nothing (the import's dry run uses it).

    ``owner_by_rule``: the owner a rule decided (rotation, returning visitor), skipping the
    check that the actor may choose owners. ``grant``: what authorises the new archive — a
    walk-in record's archive is the front desk's ``reception.add`` (R-ROLE-1: reception opens
    no customer page, but registers new prospects with the visit).
    """
    if not policy.can(actor, grant):
        raise PermissionDenied(grant, Customer)
    _check_keys(data, EDITABLE_FIELDS + CREATE_EXTRA_FIELDS)
    values = clean_fields(data)
    _check_special(values["kind"], values.get("special_category"))
    owner_id = _int_id(data.get("owner_id"), "owner_id")
    branch_id = _int_id(data.get("branch_id"), "branch_id")
    referrer_id = _int_id(data.get("referrer_id"), "referrer_id")
    note = None
    decided = owner_by_rule is not _UNSET
    if referrer_id is not None:
        from portal.services import reception_lookup  # the front desk looks referrers up

        referrer = reception_lookup.linkable(session, actor, referrer_id)
        values["source"] = CustomerSource.REFERRAL.value
        values["referrer_id"] = referrer.id
        by_rule, ground = referral.referral_owner(session, referrer)  # 老带新 (R-CUST-3)
        if by_rule is not None:
            owner_id = by_rule
            branch_id = session.get(User, owner_id).branch_id
            decided = True
            note = ground
        elif branch_id is None:
            branch_id = referrer.branch_id
    elif decided:
        owner_id = owner_by_rule
    if owner_id is None and not decided and policy.can(actor, "customer.be_owner"):
        owner_id = actor.id
    if owner_id is not None:
        owner = _owner_user(session, owner_id)
        if branch_id is not None and branch_id != owner.branch_id:
            raise ValidationFailed(N_("The owner works in another branch."), field="owner_id")
        branch_id = owner.branch_id
    if branch_id is None:
        branch_id = actor.branch_id
    branch = _resolve_branch(session, branch_id)
    target = Customer(owner_id=owner_id, branch_id=branch.id, department_id=branch.department_id)
    if not decided and owner_id is not None and owner_id != actor.id \
            and not policy.can(actor, "customer.reassign", target) \
            and not policy.can(actor, "reception.manage_rotation", target):
        raise PermissionDenied("customer.reassign", Customer,
                               N_("You may not register archives for other salespeople."))
    if owner_by_rule is _UNSET and not policy.can(actor, "customer.add", target):
        raise PermissionDenied("customer.add", Customer)
    _refuse_duplicate(session, values["name"], values.get("phone"), values.get("credit_code"),
                      kind=values.get("kind"), actor=actor)
    values.update(owner_id=owner_id, branch_id=branch.id, department_id=branch.department_id)
    return values, note


def _candidate_user(session: Session, user_id: int) -> bool:
    user = session.get(User, user_id)
    return user is not None and user.branch_id is not None \
        and _is_candidate(session, user_id, user.branch_id)


def _insert_customer(session: Session, actor: User, values: dict[str, Any], note: str | None,
                     *, first_contact_at: datetime | None = None) -> Customer:
    now = clock.now()
    owner_id = values.pop("owner_id")
    customer = Customer(
        code=_new_code(),
        name_normalized=normalize_name(values["name"]),
        phone_normalized=normalize_phone(values.get("phone")),
        credit_code_normalized=normalize_credit_code(values.get("credit_code")),
        status=CustomerStatus.PROSPECT.value,
        registered_at=now,
        first_contact_at=first_contact_at,
        ownership_expires_at=now + _setting_days(session, "customer.ownership_validity_days"),
        owner_id=None,
        **values,
    )
    session.add(customer)
    session.flush()  # a concurrent twin trips the unique credit code: @verb answers Conflict
    customer.code = f"KH{customer.id:08d}"
    session.flush()
    audit.record(session, actor, "customer.add", customer, after=audit.snapshot(customer),
                 detail=note)
    if owner_id is not None:
        change = OwnerChange(customer_id=customer.id, from_user_id=None, to_user_id=owner_id,
                             changed_by_id=actor.id, changed_at=now,
                             reason=note or "registered (建档)")
        customer.owner_id = owner_id
        session.add(change)
        customer.owner_changes.append(change)
        session.flush()
    return customer


def create_customer_inner(session: Session, actor: User, data: Mapping[str, Any], *,
                          owner_by_rule: Any = _UNSET,
                          first_contact_at: datetime | None = None,
                          grant: str = "customer.add") -> Customer:
    """``create_customer`` without the transaction boundary (reception, import)."""
    values, note = prepare_customer(session, actor, data, owner_by_rule=owner_by_rule,
                                    grant=grant)
    return _insert_customer(session, actor, values, note, first_contact_at=first_contact_at)


@verb
@accepts(*EDITABLE_FIELDS, *CREATE_EXTRA_FIELDS)
def create_customer(session: Session, actor: User, data: Mapping[str, Any]) -> Customer:
    """Register a new archive (建档): R-CUST-1 duplicates, R-CUST-2 validity, R-CUST-3
    referral. The owner defaults to the actor when they may own customers."""
    return create_customer_inner(session, actor, data)
