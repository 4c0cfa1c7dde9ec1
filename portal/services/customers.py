"""Customer archives (客户档案): R-CUST-1 … R-CUST-8.

Every verb checks the policy, validates its input, applies the company rule, writes one audit
entry per change and lets ``@verb`` commit; a refusal raises a ``DomainError`` and changes
nothing.

Decisions where domain.md is silent (also in the helper's report):

- R-CUST-1 duplicates: a credit code (统一社会信用代码 / ID number) match is always a duplicate;
  a normalised name or phone match is a duplicate unless both archives carry *different*
  credit codes (then they are provably two entities). Closed archives still count (one archive
  per customer, for ever). The refusal points at the earliest matching archive by **code and
  name only** — never its owner, phone, branch or status — so a salesperson learns no more than
  what is needed to take it to a supervisor (重卡: the earlier registration wins).
- R-CUST-2 ownership validity: a prospect is protected for ``customer.ownership_validity_days``
  from registration (and afresh for a new owner after a reassignment); a deal makes it
  permanent. Expired archives can be claimed by a salesperson of the same branch or reassigned.
- R-CUST-3 first visit: the evidence of a staff member is their earliest reception record of
  the customer (served by them) or the registration that made them its first owner. A claim
  against a valid owner succeeds only with earlier evidence, and never for a former owner who
  lost the archive. Referral: the new archive goes to the referrer's current owner.
- R-CUST-4 cadence: the clock starts at registration or at the last change of owner. The first
  follow-up is due within ``first_follow_up_days``, the next within ``second_follow_up_days``,
  then every ``follow_up_interval_days``. A run of ``sms_only_streak`` (3) or more text
  messages in a row does not count at all: the deadline falls back to the one in force before
  the run. A missed deadline makes the card void until a new owner, a claim or a deal (a late
  follow-up does not revive it). Each follow-up stores the deadline in force after it
  (``next_due_at``), so the SQL twin can filter without replaying the history.
- R-CUST-5 service lapse: no counting follow-up, visit or deal for ``service_lapse_days`` since
  the later of the last service and the last change of owner. Only holders of
  ``customer.reassign`` with department-wide (or wider) scope may reassign on that ground.
- Reassignment is allowed only on a ground: no owner, owner left or on leave, ownership
  expired, void card, service lapse (department), or the first-visit rule. Otherwise the
  owner's archive is protected (rule R-CUST-2).
- R-CUST-6 redistribution deals the archives out in random order (``secrets.SystemRandom``)
  round-robin over a shuffled list of the branch's remaining salespeople, so each gets a fair
  share; with nobody left the archives become unowned (claimable) and the move is recorded.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import ColumnElement

from models.customer import Customer, CustomerContact, CustomerCorrection, FollowUp, OwnerChange
from models.enums import (
    CustomerKind,
    CustomerSource,
    CustomerStatus,
    FollowUpKind,
    Importance,
    Intent,
    ReceptionKind,
    Scope,
)
from models.org import Branch, User
from models.reception import ReceptionRecord
from models.settings import Notification
from portal import audit, clock, policy, settings
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone
from portal.services import notifications
from portal.services.errors import (
    N_,
    NotFound,
    OutOfScope,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from portal.services.unit import check_version, load, verb

# Fields a user may set on an archive (create and correct); everything else is decided by rules.
EDITABLE_FIELDS = ("name", "phone", "credit_code", "kind", "special_category", "address",
                   "website", "source", "importance", "intent", "notes")
CONTACT_FIELDS = frozenset(policy.FIELD_GROUPS[Customer]["customer_contact"])
CREATE_EXTRA_FIELDS = ("owner_id", "branch_id", "referrer_id")
MAX_LENGTHS = {"name": 200, "phone": 32, "credit_code": 32, "special_category": 32,
               "address": 300, "website": 200, "notes": 5000}
MAX_BACKDATE = timedelta(days=2)  # a follow-up may be recorded late, not invented weeks later
FUTURE_TOLERANCE = timedelta(minutes=5)
_CREDIT_CODE_RE = re.compile(r"^[0-9A-Z]{8,18}$")
_UNSET: Any = object()


# ---------------------------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = value.strip()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        text = str(value)
    else:
        raise ValidationFailed(N_("%(label)s must be text."), field=key, label=key)
    if not text:
        if required:
            raise ValidationFailed(N_("%(label)s is required."), field=key, label=key)
        return None
    limit = MAX_LENGTHS.get(key)
    if limit and len(text) > limit:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."), field=key, label=key,
                               max=limit)
    return text


def _choice(data: Mapping[str, Any], key: str, allowed: Iterable[str], default: str | None,
            *, upper: bool = False) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    text = str(value).strip()
    text = text.upper() if upper else text.lower()
    allowed = list(allowed)
    if text not in allowed:
        raise ValidationFailed(N_("%(value)s is not a valid %(label)s (choose one of "
                                  "%(choices)s)."), field=key, label=key, value=str(value)[:40],
                               choices=", ".join(allowed))
    return text


def _int_id(value: Any, field: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationFailed(N_("%(label)s must be an id."), field=field, label=field)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("%(label)s must be an id."), field=field, label=field) from None


def clean_fields(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Validate the user-settable fields of an archive (used by create, update and import).
    With ``partial`` only the keys present are checked and returned."""
    out: dict[str, Any] = {}

    def wanted(key: str) -> bool:
        return not partial or key in data

    if wanted("name"):
        name = _text(data, "name", required=True)
        if not normalize_name(name or ""):
            raise ValidationFailed(N_("The name must contain letters or digits."),
                                   field="name")
        out["name"] = name
    if wanted("phone"):
        phone = _text(data, "phone")
        if phone is not None:
            digits = normalize_phone(phone) or ""
            if not 5 <= len(digits) <= 15:
                raise ValidationFailed(N_("%(value)s is not a phone number."), field="phone",
                                       value=phone[:32])
        out["phone"] = phone
    if wanted("credit_code"):
        code = _text(data, "credit_code")
        if code is not None and not _CREDIT_CODE_RE.match(normalize_credit_code(code) or ""):
            raise ValidationFailed(N_("%(value)s is not a unified social credit code or ID "
                                      "number (8 to 18 letters and digits)."),
                                   field="credit_code", value=code[:32])
        out["credit_code"] = code
    if wanted("kind"):
        out["kind"] = _choice(data, "kind", [k.value for k in CustomerKind],
                              None if partial else CustomerKind.END.value)
        if out["kind"] is None:
            raise ValidationFailed(N_("%(label)s is required."), field="kind", label="kind")
    if wanted("special_category"):
        out["special_category"] = _text(data, "special_category")
    if wanted("address"):
        out["address"] = _text(data, "address")
    if wanted("website"):
        out["website"] = _text(data, "website")
    defaults = {"source": CustomerSource.WALK_IN.value, "importance": Importance.C.value,
                "intent": Intent.WARM.value}
    choices = {"source": [s.value for s in CustomerSource],
               "importance": [i.value for i in Importance], "intent": [i.value for i in Intent]}
    for key, allowed in choices.items():
        if wanted(key):
            value = _choice(data, key, allowed, None if partial else defaults[key],
                            upper=key == "importance")
            if value is not None:  # an explicit empty value keeps the current one
                out[key] = value
    if wanted("notes"):
        out["notes"] = _text(data, "notes")
    return out


def _check_keys(data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = set(allowed)
    for key in data:
        if key not in allowed:
            raise ValidationFailed(N_("%(label)s cannot be set here."), field=str(key), label=str(key))


def _check_special(kind: str | None, special: str | None) -> None:
    if special and kind != CustomerKind.SPECIAL.value:
        raise ValidationFailed(N_("A special category only applies to special customers."),
                               field="special_category")


# ---------------------------------------------------------------------------------------------
# R-CUST-1 duplicates
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateMatch:
    customer: Customer
    field: str  # name, phone or credit_code


def _duplicate_matches(session: Session, name: str | None, phone: str | None,
                       credit_code: str | None, exclude_id: int | None = None
                       ) -> list[DuplicateMatch]:
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
        matches.append(DuplicateMatch(c, field))
    return matches


def find_duplicates(session: Session, name: str | None, phone: str | None = None,
                    credit_code: str | None = None) -> list[Customer]:
    """Existing archives the given keys collide with, earliest registration first (R-CUST-1).
    A service helper: it does not scope; callers show only code and name of the result."""
    return [m.customer for m in _duplicate_matches(session, name, phone, credit_code)]


def _refuse_duplicate(session: Session, name: str | None, phone: str | None,
                      credit_code: str | None, exclude_id: int | None = None) -> None:
    matches = _duplicate_matches(session, name, phone, credit_code, exclude_id)
    if matches:
        first = matches[0]
        raise RuleViolation(
            N_("重卡: an archive with the same %(key)s already exists: %(code)s %(name)s. "
               "The earlier registration wins; ask your supervisor if it should be yours."),
            rule="R-CUST-1", field=first.field, key=first.field, code=first.customer.code,
            name=first.customer.name, existing_id=first.customer.id)


# ---------------------------------------------------------------------------------------------
# Derived state (read time): cadence, void, expiry, lapse — Python and SQL twins
# ---------------------------------------------------------------------------------------------


def _setting_days(session: Session | None, key: str) -> timedelta:
    value = settings.get(session, key) if session is not None else settings.DEFAULTS[key]
    return timedelta(days=float(value))


def _session_of(customer: Customer) -> Session | None:
    return object_session(customer)


def cadence_baseline(customer: Customer) -> datetime:
    """When the current owner's cadence started: registration or the last change of owner."""
    changes = [oc.changed_at for oc in customer.owner_changes if oc.changed_at is not None]
    base = customer.registered_at
    if changes and max(changes) > base:
        return max(changes)
    return base


def _counts_walk(session: Session | None, baseline: datetime,
                 follow_ups: list[tuple[datetime, str]]) -> datetime:
    """Replay the cadence over follow-ups (ordered) since ``baseline``; the deadline in force.
    Once a deadline is missed it stays (the card is void until a new baseline)."""
    first = _setting_days(session, "customer.first_follow_up_days")
    second = _setting_days(session, "customer.second_follow_up_days")
    interval = _setting_days(session, "customer.follow_up_interval_days")
    streak = int(settings.get(session, "customer.sms_only_streak")
                 if session is not None else settings.DEFAULTS["customer.sms_only_streak"])
    due = baseline + first
    counted = 0
    run = 0
    before_run: tuple[datetime, int] = (due, counted)
    for at, kind in follow_ups:
        if at > due:
            return due  # missed: void, and a late follow-up does not revive it
        if kind == FollowUpKind.SMS.value:
            if run == 0:
                before_run = (due, counted)
            run += 1
            if run >= streak:
                due, counted = before_run  # the whole text-only run does not count
                continue
        else:
            run = 0
        counted += 1
        due = at + (second if counted == 1 else interval)
    return due


def _last_counting_service(session: Session | None, follow_ups: list[tuple[datetime, str]]
                           ) -> datetime | None:
    """The latest follow-up that counts as service (not part of a text-only run)."""
    streak = int(settings.get(session, "customer.sms_only_streak")
                 if session is not None else settings.DEFAULTS["customer.sms_only_streak"])
    counted: list[datetime] = []
    run: list[datetime] = []
    for at, kind in follow_ups:
        if kind == FollowUpKind.SMS.value:
            run.append(at)
            continue
        if len(run) < streak:
            counted.extend(run)
        run = []
        counted.append(at)
    if len(run) < streak:
        counted.extend(run)
    return max(counted) if counted else None


def follow_up_due(customer: Customer) -> datetime:
    """The follow-up deadline in force for the current owner (R-CUST-4)."""
    baseline = cadence_baseline(customer)
    since = [f for f in customer.follow_ups if f.happened_at >= baseline]
    if not since:
        return baseline + _setting_days(_session_of(customer), "customer.first_follow_up_days")
    latest = max(since, key=lambda f: (f.happened_at, f.id or 0))
    if latest.next_due_at is not None:
        return latest.next_due_at
    return latest.happened_at + _setting_days(_session_of(customer),
                                              "customer.follow_up_interval_days")


def _open_owned(customer: Customer) -> bool:
    return customer.owner_id is not None and customer.closed_at is None \
        and customer.status != CustomerStatus.CLOSED.value


def is_void(customer: Customer, now: datetime | None = None) -> bool:
    """废卡 (R-CUST-4): an owned prospect without a deal whose follow-up deadline has passed."""
    now = now or clock.now()
    if not _open_owned(customer) or customer.deal_at is not None \
            or customer.status != CustomerStatus.PROSPECT.value:
        return False
    return now > follow_up_due(customer)


def ownership_expired(customer: Customer, now: datetime | None = None) -> bool:
    """建档有效期 passed without a deal (R-CUST-2)."""
    now = now or clock.now()
    return _open_owned(customer) and customer.deal_at is None \
        and customer.ownership_expires_at is not None and customer.ownership_expires_at <= now


def service_lapsed(customer: Customer, now: datetime | None = None) -> bool:
    """服务不到位 (R-CUST-5): no service for ``service_lapse_days`` since the later of the last
    service and the last change of owner."""
    now = now or clock.now()
    if not _open_owned(customer):
        return False
    cutoff = now - _setting_days(_session_of(customer), "customer.service_lapse_days")
    last = customer.last_service_at or customer.registered_at
    return last < cutoff and cadence_baseline(customer) < cutoff


def effective_status(customer: Customer, now: datetime | None = None) -> str:
    """The status to show: ``void`` is derived from the cadence, never stored."""
    if customer.status == CustomerStatus.PROSPECT.value and is_void(customer, now):
        return CustomerStatus.VOID.value
    return customer.status


def _ts(value: datetime) -> ColumnElement[Any]:
    return literal(value, type_=Customer.__table__.c.registered_at.type)


def _baseline_sql() -> ColumnElement[Any]:
    last_change = (select(func.max(OwnerChange.changed_at))
                   .where(OwnerChange.customer_id == Customer.id)
                   .correlate(Customer).scalar_subquery())
    return func.coalesce(last_change, Customer.registered_at)


def _open_owned_sql() -> ColumnElement[bool]:
    return and_(Customer.owner_id.is_not(None), Customer.closed_at.is_(None),
                Customer.status != CustomerStatus.CLOSED.value)


def is_void_sql(session: Session, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``is_void`` for filters and counts (``select(Customer).where(...)``)."""
    now = now or clock.now()
    baseline = _baseline_sql()
    since = and_(FollowUp.customer_id == Customer.id, FollowUp.happened_at >= baseline)
    order = (FollowUp.happened_at.desc(), FollowUp.id.desc())
    latest_due = (select(FollowUp.next_due_at).where(since).order_by(*order).limit(1)
                  .correlate(Customer).scalar_subquery())
    latest_at = (select(FollowUp.happened_at).where(since).order_by(*order).limit(1)
                 .correlate(Customer).scalar_subquery())
    any_since = exists(select(FollowUp.id).where(since).correlate(Customer))
    first = _setting_days(session, "customer.first_follow_up_days")
    interval = _setting_days(session, "customer.follow_up_interval_days")
    return and_(
        _open_owned_sql(), Customer.deal_at.is_(None),
        Customer.status == CustomerStatus.PROSPECT.value,
        or_(and_(~any_since, baseline < _ts(now - first)),
            and_(any_since, latest_due.is_not(None), latest_due < _ts(now)),
            and_(any_since, latest_due.is_(None), latest_at < _ts(now - interval))))


def ownership_expired_sql(session: Session, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``ownership_expired``."""
    now = now or clock.now()
    return and_(_open_owned_sql(), Customer.deal_at.is_(None),
                Customer.ownership_expires_at.is_not(None),
                Customer.ownership_expires_at <= _ts(now))


def service_lapsed_sql(session: Session, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``service_lapsed``."""
    now = now or clock.now()
    cutoff = _ts(now - _setting_days(session, "customer.service_lapse_days"))
    return and_(_open_owned_sql(),
                func.coalesce(Customer.last_service_at, Customer.registered_at) < cutoff,
                _baseline_sql() < cutoff)


def claimable_sql(session: Session, now: datetime | None = None) -> ColumnElement[bool]:
    """Archives a salesperson of the branch may claim: unowned, or ownership expired."""
    return and_(Customer.closed_at.is_(None), Customer.status != CustomerStatus.CLOSED.value,
                or_(Customer.owner_id.is_(None), ownership_expired_sql(session, now)))


# ---------------------------------------------------------------------------------------------
# Owners
# ---------------------------------------------------------------------------------------------


def _as_owned_by(customer: Customer, owner_id: int | None, branch_id: int | None = None,
                 department_id: int | None = None) -> Customer:
    """A transient stand-in with the chain the archive would have (for scope checks)."""
    return Customer(owner_id=owner_id, branch_id=branch_id or customer.branch_id,
                    department_id=department_id or customer.department_id)


def _is_candidate(session: Session, user_id: int, branch_id: int) -> bool:
    stmt = policy.owner_candidates_stmt(branch_id).where(User.id == user_id)
    return session.scalar(stmt) is not None


def _owner_user(session: Session, user_id: int, field: str = "owner_id") -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active or user.on_leave or user.branch_id is None \
            or not _is_candidate(session, user.id, user.branch_id):
        raise ValidationFailed(N_("The chosen owner is not an active salesperson."),
                               field=field)
    return user


def _change_owner(session: Session, actor: User | None, customer: Customer,
                  new_owner_id: int | None, reason: str, *, now: datetime,
                  action: str = "customer.reassign") -> OwnerChange:
    """Move the archive, renew a prospect's validity, record the move (R-CUST-7) and audit."""
    before = {"owner_id": customer.owner_id, "branch_id": customer.branch_id,
              "department_id": customer.department_id,
              "ownership_expires_at": customer.ownership_expires_at}
    change = OwnerChange(customer_id=customer.id, from_user_id=customer.owner_id,
                         to_user_id=new_owner_id, changed_by_id=getattr(actor, "id", None),
                         changed_at=now, reason=reason[:300])
    customer.owner_id = new_owner_id
    if new_owner_id is not None:
        owner = session.get(User, new_owner_id)
        if owner is not None and owner.branch_id and owner.branch_id != customer.branch_id:
            branch = session.get(Branch, owner.branch_id)
            customer.branch_id = branch.id
            customer.department_id = branch.department_id
        if customer.deal_at is None:
            customer.ownership_expires_at = now + _setting_days(
                session, "customer.ownership_validity_days")
    session.add(change)
    customer.owner_changes.append(change)
    session.flush()
    session.expire(customer, ["owner", "branch", "department"])
    after = {"owner_id": customer.owner_id, "branch_id": customer.branch_id,
             "department_id": customer.department_id,
             "ownership_expires_at": customer.ownership_expires_at}
    audit.record(session, actor, action, customer, before=before, after=after, detail=reason)
    return change


def first_visit_at(session: Session, customer: Customer, user_id: int) -> datetime | None:
    """R-CUST-3 evidence: the earliest reception record of the customer served by ``user_id``,
    or the registration that made them its first owner."""
    served = session.scalar(
        select(func.min(ReceptionRecord.arrived_at)).where(
            ReceptionRecord.customer_id == customer.id,
            or_(ReceptionRecord.assigned_to_id == user_id,
                and_(ReceptionRecord.assigned_to_id.is_(None),
                     ReceptionRecord.received_by_id == user_id))))
    times = [served] if served is not None else []
    changes = sorted(customer.owner_changes, key=lambda oc: (oc.changed_at, oc.id or 0))
    first_owner = changes[0].to_user_id if changes else customer.owner_id
    if first_owner == user_id:
        times.append(customer.first_contact_at or customer.registered_at)
    return min(times) if times else None


def _owner_evidence(session: Session, customer: Customer) -> datetime | None:
    """When the current owner's claim starts: their first visit, else the move that gave
    them the archive."""
    if customer.owner_id is None:
        return None
    own = first_visit_at(session, customer, customer.owner_id)
    moves = [oc.changed_at for oc in customer.owner_changes if oc.to_user_id == customer.owner_id]
    candidates = [t for t in [own, min(moves) if moves else None] if t is not None]
    return min(candidates) if candidates else customer.registered_at


def _wins_first_visit(session: Session, customer: Customer, user_id: int) -> bool:
    if customer.owner_id is None or customer.owner_id == user_id:
        return False
    if any(oc.from_user_id == user_id for oc in customer.owner_changes):
        return False  # a former owner who lost the archive cannot take it back this way
    mine = first_visit_at(session, customer, user_id)
    theirs = _owner_evidence(session, customer)
    return mine is not None and theirs is not None and mine < theirs


# ---------------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------------


def _new_code() -> str:
    return "tmp" + uuid.uuid4().hex[:24]


def _resolve_branch(session: Session, branch_id: int | None) -> Branch:
    branch = session.get(Branch, branch_id) if branch_id is not None else None
    if branch is None:
        raise ValidationFailed(N_("Choose the branch (showroom) of the customer."),
                               field="branch_id")
    return branch


def prepare_customer(session: Session, actor: User, data: Mapping[str, Any], *,
                     owner_by_rule: Any = _UNSET) -> tuple[dict[str, Any], str | None]:
    """Validate ``data`` and apply the ownership rules; returns the column values of the new
    archive and a note for the audit. Raises exactly what ``create_customer`` would, writes
    nothing (the import's dry run uses it).

    ``owner_by_rule``: the owner a rule decided (rotation, returning visitor), skipping the
    check that the actor may choose owners.
    """
    if not policy.can(actor, "customer.add"):
        raise PermissionDenied("customer.add", Customer)
    _check_keys(data, EDITABLE_FIELDS + CREATE_EXTRA_FIELDS)
    values = clean_fields(data)
    _check_special(values["kind"], values.get("special_category"))
    owner_id = _int_id(data.get("owner_id"), "owner_id")
    branch_id = _int_id(data.get("branch_id"), "branch_id")
    referrer_id = _int_id(data.get("referrer_id"), "referrer_id")
    note = None
    decided = owner_by_rule is not _UNSET
    if referrer_id is not None:
        referrer = load(session, actor, Customer, referrer_id, "customer.view")
        values["source"] = CustomerSource.REFERRAL.value
        values["referrer_id"] = referrer.id
        if referrer.owner_id is not None and _candidate_user(session, referrer.owner_id):
            owner_id = referrer.owner_id  # 老带新: the referrer's owner (R-CUST-3)
            branch_id = session.get(User, owner_id).branch_id
            decided = True
            note = "R-CUST-3 referral: owner of the referrer"
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
    _refuse_duplicate(session, values["name"], values.get("phone"), values.get("credit_code"))
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
                          first_contact_at: datetime | None = None) -> Customer:
    """``create_customer`` without the transaction boundary (reception, import)."""
    values, note = prepare_customer(session, actor, data, owner_by_rule=owner_by_rule)
    return _insert_customer(session, actor, values, note, first_contact_at=first_contact_at)


@verb
def create_customer(session: Session, actor: User, data: Mapping[str, Any]) -> Customer:
    """Register a new archive (建档): R-CUST-1 duplicates, R-CUST-2 validity, R-CUST-3
    referral. The owner defaults to the actor when they may own customers."""
    return create_customer_inner(session, actor, data)


# ---------------------------------------------------------------------------------------------
# Update, contacts, follow-ups, deals
# ---------------------------------------------------------------------------------------------


def _refuse_closed(customer: Customer) -> None:
    if customer.closed_at is not None or customer.status == CustomerStatus.CLOSED.value:
        raise RuleViolation(N_("The archive %(code)s is closed; it is kept as it is."),
                            rule="R-CUST-8", code=customer.code)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


@verb
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
    _refuse_closed(customer)
    if set(changed) & CONTACT_FIELDS and not policy.can(actor, "customer_contact.change",
                                                        customer):
        raise PermissionDenied("customer_contact.change", customer)
    kind = changed.get("kind", customer.kind)
    _check_special(kind, changed.get("special_category", customer.special_category))
    if {"name", "phone", "credit_code"} & set(changed):
        _refuse_duplicate(session, changed.get("name"), changed.get("phone"),
                          changed.get("credit_code"), exclude_id=customer.id)
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
        ordered[-1].next_due_at = _counts_walk(session, baseline, since)
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
                     happened_at: datetime | None = None, notes: str | None = None) -> FollowUp:
    """Record a follow-up (回访 / 跟进); keeps the cadence (R-CUST-4) and service time
    (R-CUST-5) derivable."""
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
    session.flush()
    audit.record(session, actor, "customer.follow_up", customer, before=before,
                 after={"follow_up_id": follow_up.id, "kind": kind_value,
                        "happened_at": at, "next_due_at": follow_up.next_due_at,
                        "last_service_at": customer.last_service_at})
    return follow_up


@verb
def record_deal(session: Session, actor: User, customer_id: int) -> Customer:
    """成交: the archive becomes active and the ownership permanent (R-CUST-2)."""
    if not policy.can(actor, "customer.change"):
        raise PermissionDenied("customer.change", Customer)
    customer = load(session, actor, Customer, customer_id, "customer.change")
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


# ---------------------------------------------------------------------------------------------
# Owner changes: reassign, claim, redistribute (R-CUST-2..7)
# ---------------------------------------------------------------------------------------------


def _reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed(N_("Give a reason."), field="reason")
    if len(text) > 300:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."),
                               field="reason", label="reason", max=300)
    return text


def reassign_grounds(session: Session, actor: User, customer: Customer, new_owner_id: int,
                     now: datetime) -> list[str]:
    """The rule grounds on which ``actor`` may move the archive to ``new_owner_id`` now."""
    grounds: list[str] = []
    owner = session.get(User, customer.owner_id) if customer.owner_id else None
    if owner is None:
        grounds.append("no owner")
    elif not owner.is_active or owner.on_leave:
        grounds.append("R-CUST-6 owner left or on leave")
    if ownership_expired(customer, now):
        grounds.append("R-CUST-2 ownership expired")
    if is_void(customer, now):
        grounds.append("R-CUST-4 void card")
    scopes = policy.scopes_for(actor, "customer.reassign")
    if service_lapsed(customer, now) and scopes & {Scope.DEPARTMENT.value, Scope.ALL.value}:
        grounds.append("R-CUST-5 service lapse")
    if _wins_first_visit(session, customer, new_owner_id):
        grounds.append("R-CUST-3 first visit")
    return grounds


@verb
def reassign_owner(session: Session, actor: User, customer_id: int, new_owner_id: int,
                   reason: str) -> Customer:
    """客户移交: a supervisor or manager moves an archive to another salesperson, on a rule
    ground (void card, expiry, lapse, owner gone, first visit); recorded (R-CUST-7)."""
    if not policy.can(actor, "customer.reassign"):
        raise PermissionDenied("customer.reassign", Customer)
    customer = load(session, actor, Customer, customer_id, "customer.reassign")
    new_id = _int_id(new_owner_id, "new_owner_id")
    if new_id is None:
        raise ValidationFailed(N_("Choose the new owner."), field="new_owner_id")
    text = _reason(reason)
    _refuse_closed(customer)
    if new_id == customer.owner_id:
        raise ValidationFailed(N_("%(user)s already owns this archive."), field="new_owner_id",
                               user=customer.owner.username if customer.owner else new_id)
    new_owner = _owner_user(session, new_id, "new_owner_id")
    branch = session.get(Branch, new_owner.branch_id)
    if not policy.can(actor, "customer.reassign",
                      _as_owned_by(customer, new_id, branch.id, branch.department_id)):
        raise PermissionDenied("customer.reassign", customer,
                               N_("You may not hand archives to that salesperson."))
    now = clock.now()
    grounds = reassign_grounds(session, actor, customer, new_id, now)
    if not grounds:
        raise RuleViolation(
            N_("The archive %(code)s is protected: its owner's registration is valid, it is "
               "followed up on time and served. It can be handed over only when the ownership "
               "expired, the card is void, service lapsed, the owner left, or by the "
               "first-visit rule."), rule="R-CUST-2", field="new_owner_id", code=customer.code)
    _change_owner(session, actor, customer, new_id, f"[{'; '.join(grounds)}] {text}", now=now)
    return customer


@verb
def claim_customer(session: Session, actor: User, customer_id: int) -> Customer:
    """A salesperson claims an archive of their branch that is unowned or whose ownership
    expired (R-CUST-2), or where their first visit is earlier than the owner's (R-CUST-3)."""
    if not policy.can(actor, "customer.claim"):
        raise PermissionDenied("customer.claim", Customer)
    ident = _int_id(customer_id, "customer_id")
    customer = session.get(Customer, ident) if ident is not None else None
    if customer is None:
        raise NotFound()
    if actor.branch_id != customer.branch_id or not _is_candidate(session, actor.id,
                                                                   customer.branch_id):
        raise OutOfScope("customer.claim", customer)
    if not policy.can(actor, "customer.claim", _as_owned_by(customer, actor.id)):
        raise OutOfScope("customer.claim", customer)
    _refuse_closed(customer)
    if customer.owner_id == actor.id:
        raise ValidationFailed(N_("You already own this archive."), field="customer_id")
    now = clock.now()
    if customer.owner_id is None:
        ground = "no owner"
    elif ownership_expired(customer, now):
        ground = "R-CUST-2 ownership expired"
    elif _wins_first_visit(session, customer, actor.id):
        ground = "R-CUST-3 first visit"
    else:
        raise RuleViolation(
            N_("The archive %(code)s %(name)s is owned and its registration is still valid; "
               "it cannot be claimed (首访原则: the earlier reception owns it)."),
            rule="R-CUST-3", field="customer_id", code=customer.code, name=customer.name)
    _change_owner(session, actor, customer, actor.id, f"claim [{ground}]", now=now,
                  action="customer.claim")
    return customer


@verb
def close_customer(session: Session, actor: User, customer_id: int, reason: str) -> Customer:
    """Close an archive; it is kept with its whole history (R-CUST-8: no deletion)."""
    if not policy.can(actor, "customer.close"):
        raise PermissionDenied("customer.close", Customer)
    customer = load(session, actor, Customer, customer_id, "customer.close")
    text = _reason(reason)
    _refuse_closed(customer)
    before = audit.snapshot(customer, ["status", "closed_at"])
    customer.status = CustomerStatus.CLOSED.value
    customer.closed_at = clock.now()
    session.add(CustomerCorrection(customer_id=customer.id, field="status",
                                   old_value=before["status"], new_value=customer.status,
                                   changed_by_id=actor.id, changed_at=customer.closed_at))
    session.flush()
    audit.record(session, actor, "customer.close", customer, before=before,
                 after=audit.snapshot(customer, ["status", "closed_at"]), detail=text)
    return customer


def redistribute_inner(session: Session, actor: User | None, user_id: int,
                       reason: str) -> list[OwnerChange]:
    """``redistribute_customers_of`` without the transaction boundary (deactivate_user)."""
    leaving = session.get(User, _int_id(user_id, "user_id") or 0)
    if leaving is None:
        raise NotFound()
    text = _reason(reason)
    may_reassign = leaving.branch_id is not None and policy.can(
        actor, "customer.reassign",
        Customer(owner_id=None, branch_id=leaving.branch_id,
                 department_id=leaving.department_id))
    may_deactivate = policy.can(actor, "user.deactivate", leaving)
    if not (may_reassign or may_deactivate):
        raise PermissionDenied("customer.reassign", leaving)
    if leaving.is_active and not leaving.on_leave and not may_deactivate:
        raise RuleViolation(N_("%(user)s is neither leaving nor on leave; their archives stay "
                               "with them."), rule="R-CUST-6", field="user_id",
                            user=leaving.username)
    return _redistribute(session, actor, leaving, text)


def _redistribute(session: Session, actor: User | None, leaving: User,
                  text: str) -> list[OwnerChange]:
    customers = session.scalars(
        select(Customer).where(Customer.owner_id == leaving.id, Customer.closed_at.is_(None),
                               Customer.status != CustomerStatus.CLOSED.value)
        .order_by(Customer.id)).all()
    rng = secrets.SystemRandom()
    by_branch: dict[int, list[Customer]] = {}
    for c in customers:
        by_branch.setdefault(c.branch_id, []).append(c)
    now = clock.now()
    changes: list[OwnerChange] = []
    for branch_id, group in by_branch.items():
        candidates = [u.id for u in session.scalars(policy.owner_candidates_stmt(branch_id))
                      if u.id != leaving.id]
        rng.shuffle(candidates)
        rng.shuffle(group)
        for i, customer in enumerate(group):
            to = candidates[i % len(candidates)] if candidates else None
            changes.append(_change_owner(
                session, actor, customer, to,
                f"[R-CUST-6 随机抽数分配 {leaving.username}] {text}", now=now,
                action="customer.redistribute"))
    return changes


def redistribute_on_departure(session: Session, actor: User | None, user: User,
                              reason: str) -> list[OwnerChange]:
    """Called by ``users`` inside the deactivation / long-leave verb the actor was allowed to
    make (R-ROLE-4): redistributes without a second permission check, in that transaction."""
    text = (reason.strip() if isinstance(reason, str) else "") or "R-ROLE-4"
    return _redistribute(session, actor, user, text[:250])


@verb
def redistribute_customers_of(session: Session, actor: User, user_id: int,
                              reason: str) -> list[OwnerChange]:
    """R-CUST-6: the archives of a leaving or on-leave owner go, at random, to the remaining
    salespeople of their branch; every move is an OwnerChange (R-CUST-7)."""
    return redistribute_inner(session, actor, user_id, reason)


# ---------------------------------------------------------------------------------------------
# Scheduled events (notifications only; the state itself is derived)
# ---------------------------------------------------------------------------------------------


def _notify(session: Session, existing: set[str], user_id: int | None, kind: str,
            customer: Customer, message: str, key: str, now: datetime) -> bool:
    """One notification through ``notifications.notify``; ``existing`` (the keys already
    recorded, read once per run) spares a statement per card already notified."""
    if f"{key}:{user_id}"[:200] in existing:
        return False
    existing.add(f"{key}:{user_id}"[:200])
    return bool(notifications.notify(
        session, user_ids=[user_id], kind=kind, message=message,
        params={"code": customer.code, "customer": customer.name}, target=customer,
        dedupe_key=key, now=now))


def _managers(session: Session, cache: dict, customer: Customer, wide: bool) -> list[int]:
    """Who may hand this archive over: branch-scope reassigners, or department-scope ones
    (for lapses); company-wide holders are not paged for every card."""
    key = (customer.branch_id, customer.department_id, wide)
    if key not in cache:
        probe = Customer(owner_id=None, branch_id=customer.branch_id,
                         department_id=customer.department_id)
        wanted = {Scope.DEPARTMENT.value} if wide else {Scope.BRANCH.value}
        cache[key] = [u.id for u in policy.users_with(session, "customer.reassign", probe)
                      if policy.scopes_for(u, "customer.reassign") & wanted]
    return cache[key]


def tick(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Record notifications for void cards, expired ownerships and service lapses (idempotent
    through ``dedupe_key``); commits. Returns how many were recorded per kind. A concurrent
    run that recorded the same events first makes this one start over once."""
    now = now or clock.now()
    try:
        counts = _tick_once(session, now)
        session.commit()
    except IntegrityError:
        session.rollback()
        counts = _tick_once(session, now)
        session.commit()
    return counts


def _tick_once(session: Session, now: datetime) -> dict[str, int]:
    counts = {"customer.void": 0, "customer.ownership_expired": 0,
              "customer.service_lapsed": 0}
    existing = set(session.scalars(select(Notification.dedupe_key)
                                   .where(Notification.kind.in_(list(counts)))))
    cache: dict = {}
    for c in session.scalars(select(Customer).where(is_void_sql(session, now))
                             .order_by(Customer.id)):
        due = follow_up_due(c)
        msg = N_("Void card: %(code)s %(customer)s was not followed up in time.")
        for uid in dict.fromkeys([c.owner_id, *_managers(session, cache, c, wide=False)]):
            if _notify(session, existing, uid, "customer.void", c, msg,
                       f"customer.void:{c.id}:{due:%Y%m%d%H%M%S}", now):
                counts["customer.void"] += 1
    for c in session.scalars(select(Customer).where(ownership_expired_sql(session, now))
                             .order_by(Customer.id)):
        exp = c.ownership_expires_at
        msg = N_("The ownership of %(code)s %(customer)s has expired: the archive may be "
                 "claimed.")
        for uid in dict.fromkeys([c.owner_id, *_managers(session, cache, c, wide=False)]):
            if _notify(session, existing, uid, "customer.ownership_expired", c, msg,
                       f"customer.expired:{c.id}:{exp:%Y%m%d%H%M%S}", now):
                counts["customer.ownership_expired"] += 1
    for c in session.scalars(select(Customer).where(service_lapsed_sql(session, now))
                             .order_by(Customer.id)):
        last = max(c.last_service_at or c.registered_at, cadence_baseline(c))
        msg = N_("Service lapse: %(code)s %(customer)s has had no service for too long.")
        for uid in dict.fromkeys([c.owner_id, *_managers(session, cache, c, wide=True)]):
            if _notify(session, existing, uid, "customer.service_lapsed", c, msg,
                       f"customer.lapsed:{c.id}:{last:%Y%m%d%H%M%S}", now):
                counts["customer.service_lapsed"] += 1
    session.flush()
    return counts
