"""更正申请 (R-CUST-8: 原始档案不可修改): the original fields of an archive that has a deal or is
closed are corrected only with the department manager's consent.

- The owner (anyone who may change the archive) files a request with the new values and a
  reason; the department manager(s) of the archive (holders of ``customer.approve_correction``
  on it: the department manager, the general manager) find it in their 待办.
- Approving applies the change as ``update_customer`` would — validation and the duplicate check
  again, every field's previous value kept as a ``CustomerCorrection`` (history), audited.
  Refusing changes nothing on the archive. Nobody decides their own request.
- Other fields (address, website, importance, intent, notes) stay directly editable while the
  archive is open.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import CorrectionRequest, Customer, CustomerCorrection
from models.enums import CorrectionStatus, CustomerStatus
from models.org import User
from portal import audit, clock, policy
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone
from portal.services import notifications
from portal.services.customers.duplicates import _refuse_duplicate
from portal.services.customers.validation import _check_keys, _check_special, clean_fields
from portal.services.errors import (
    N_,
    Conflict,
    NotFound,
    OutOfScope,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from portal.services.unit import check_version, load, verb

# The fields registered when the archive was opened (原始档案): who the customer is.
ORIGINAL_FIELDS = ("name", "phone", "credit_code", "kind", "special_category", "source")


def is_settled(customer: Customer) -> bool:
    """A dealt or closed archive: its original fields need consent to be corrected."""
    return customer.deal_at is not None or customer.closed_at is not None \
        or customer.status == CustomerStatus.CLOSED.value


def needs_consent(customer: Customer, fields: Mapping[str, Any]) -> bool:
    return is_settled(customer) and bool(set(fields) & set(ORIGINAL_FIELDS))


def refuse_without_consent(customer: Customer, fields: Mapping[str, Any]) -> None:
    """Called by ``update_customer``: a direct change of original fields is refused."""
    if needs_consent(customer, fields):
        raise RuleViolation(
            N_("The original fields of archive %(code)s (name, phone, credit code, kind, "
               "source) are corrected only with the department manager's consent: file a "
               "correction request."), rule="R-CUST-8", field=sorted(
                set(fields) & set(ORIGINAL_FIELDS))[0], code=customer.code)


def _text(value: Any, field: str, required: bool) -> str | None:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        if required:
            raise ValidationFailed(N_("Give a reason."), field=field)
        return None
    if len(text) > 300:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."), field=field,
                               label=field, max=300)
    return text


def _changes_of(session: Session, customer: Customer, data: Mapping[str, Any],
                actor: User) -> dict[str, Any]:
    _check_keys(data, ORIGINAL_FIELDS)
    values = clean_fields(data, partial=True)
    changed = {k: v for k, v in values.items() if getattr(customer, k) != v}
    if not changed:
        raise ValidationFailed(N_("Nothing would change."), field=next(iter(data), "name"))
    kind = changed.get("kind", customer.kind)
    _check_special(kind, changed.get("special_category", customer.special_category))
    if {"name", "phone", "credit_code"} & set(changed):
        _refuse_duplicate(session, changed.get("name"), changed.get("phone"),
                          changed.get("credit_code"), exclude_id=customer.id, kind=kind,
                          actor=actor)
    return changed


def deciders(session: Session, customer: Customer, requester_id: int) -> list[User]:
    """Who consents: holders of ``customer.approve_correction`` on the archive, not the
    requester; the department's own manager(s) when there are any, else the wider holders."""
    holders = [u for u in policy.users_with(session, "customer.approve_correction", customer)
               if u.id != requester_id]
    own = [u for u in holders if u.department_id == customer.department_id]
    return own or holders


@verb
def request_correction(session: Session, actor: User, customer_id: Any,
                       data: Mapping[str, Any], reason: str) -> CorrectionRequest:
    """File a correction of original fields; the department manager is told (待办)."""
    if not policy.can(actor, "customer.change"):
        raise PermissionDenied("customer.change", Customer)
    customer = load(session, actor, Customer, customer_id, "customer.change")
    text = _text(reason, "reason", required=True)
    if not is_settled(customer):
        raise ValidationFailed(N_("This archive has no deal and is open: correct it directly."),
                               field="reason")
    changes = _changes_of(session, customer, data, actor)
    if session.scalar(select(CorrectionRequest.id).where(
            CorrectionRequest.customer_id == customer.id,
            CorrectionRequest.status == CorrectionStatus.PENDING.value)):
        raise RuleViolation(N_("A correction request of archive %(code)s is already waiting "
                               "for a decision."), rule="R-CUST-8", field="reason",
                            code=customer.code)
    req = CorrectionRequest(customer_id=customer.id, changes=json.dumps(changes, default=str),
                            reason=text, requested_by_id=actor.id, requested_at=clock.now())
    session.add(req)
    session.flush()
    audit.record(session, actor, "customer.request_correction", customer,
                 after={"request": req.id, "changes": changes}, detail=text)
    notifications.notify(
        session, user_ids=[u.id for u in deciders(session, customer, actor.id)],
        kind="customer.correction_request",
        message=N_("Correction request #%(request)s of archive %(code)s is waiting for your "
                   "consent."),
        params={"request": req.id, "code": customer.code}, target=req,
        dedupe_key=f"customer.correction_request:{req.id}")
    return req


def may_decide(actor: Any, req: CorrectionRequest) -> bool:
    """A colleague (not the requester) holding the approval, while the request waits."""
    return req.status == CorrectionStatus.PENDING.value \
        and req.requested_by_id != getattr(actor, "id", None) \
        and policy.can(actor, "customer.approve_correction", req.customer)


@verb
def decide_correction(session: Session, actor: User, request_id: Any, approve: bool,
                      comment: str | None = None,
                      expected_version: int | None = None) -> CorrectionRequest:
    """Consent (apply the change, history kept) or refuse (nothing changes), with a comment
    (required to refuse)."""
    if not policy.can(actor, "customer.approve_correction"):
        raise PermissionDenied("customer.approve_correction", CorrectionRequest)
    try:
        ident = int(request_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    req = session.get(CorrectionRequest, ident)
    if req is None:
        raise NotFound()
    if not policy.can(actor, "customer.approve_correction", req.customer):
        raise OutOfScope("customer.approve_correction", req)
    if req.requested_by_id == actor.id:
        raise RuleViolation(N_("Nobody decides their own request."), rule="R-CUST-8",
                            audit_action="customer.approve_correction", audit_target=req)
    check_version(req, expected_version)
    if req.status != CorrectionStatus.PENDING.value:
        raise Conflict(N_("This request was already decided."))
    note = _text(comment, "comment", required=not approve)
    now = clock.now()
    customer = req.customer
    if approve:
        changes = _changes_of(session, customer, json.loads(req.changes), actor)
        before = {k: getattr(customer, k) for k in changes}
        for key, value in changes.items():
            session.add(CustomerCorrection(
                customer_id=customer.id, field=key, old_value=_as_text(getattr(customer, key)),
                new_value=_as_text(value), changed_by_id=actor.id, changed_at=now))
            setattr(customer, key, value)
        customer.name_normalized = normalize_name(customer.name)
        customer.phone_normalized = normalize_phone(customer.phone)
        customer.credit_code_normalized = normalize_credit_code(customer.credit_code)
        audit.record(session, actor, "customer.change", customer, before=before, after=changes,
                     detail=f"R-CUST-8 correction request #{req.id}")
    req.status = (CorrectionStatus.APPROVED if approve else CorrectionStatus.REFUSED).value
    req.decided_by_id, req.decided_at, req.decision_comment = actor.id, now, note
    session.flush()
    audit.record(session, actor, "customer.approve_correction", req,
                 after={"status": req.status}, detail=note)
    notifications.notify(
        session, user_ids=[req.requested_by_id], kind="customer.correction_decided",
        message=N_("Your correction request #%(request)s of archive %(code)s was approved.")
        if approve else N_("Your correction request #%(request)s of archive %(code)s was "
                           "refused."),
        params={"request": req.id, "code": customer.code}, target=req,
        dedupe_key=f"customer.correction_decided:{req.id}")
    return req


def _as_text(value: Any) -> str | None:
    return None if value is None else str(value)


def load_request(session: Session, actor: User, request_id: Any) -> CorrectionRequest:
    """One request, through the policy scope (for the doors' pages)."""
    return load(session, actor, CorrectionRequest, request_id, "customer.view")


def load_demo_request(session: Session) -> int:
    """Demo (R-CUST-8): the owner of a dealt company archive asks to correct its name; the
    request waits in the department manager's 待办. Through the service, so it is audited and
    notified like any request. Returns how many were added (0 or 1)."""
    if session.scalar(select(CorrectionRequest.id).limit(1)):
        return 0
    candidates = session.scalars(select(Customer).where(
        Customer.deal_at.is_not(None), Customer.closed_at.is_(None),
        Customer.owner_id.is_not(None), Customer.name.contains("有限公司"),
        ~Customer.name.contains("股份"))
        .order_by(Customer.id).limit(20)).all()
    for customer in candidates:
        owner = session.get(User, customer.owner_id)
        if owner is None or not owner.is_active or not deciders(session, customer, owner.id):
            continue
        request_correction(session, owner, customer.id,
                           {"name": customer.name.replace("有限公司", "股份有限公司", 1)},
                           "营业执照已变更为股份公司，名称需更正")
        return 1
    return 0
