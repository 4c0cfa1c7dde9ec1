"""Customer archives, derived state (read time): cadence, void, expiry, lapse — Python and SQL
twins (R-CUST-2, R-CUST-4, R-CUST-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, false, func, literal, not_, or_, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import ColumnElement

from models.customer import Customer, FollowUp, OwnerChange
from models.enums import CustomerStatus, FollowUpKind
from portal import clock, settings
from portal.services import calendar

NOT_SERVICE_KINDS = frozenset({FollowUpKind.INVITATION_MISSED.value})


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


@dataclass(frozen=True)
class Cadence:
    """R-CUST-4 as the settings say: the first follow-up within ``first`` of the baseline
    (registration or the last change of owner), the next within ``second``, then at least
    every ``interval``; a run of ``sms_streak`` text messages does not count."""

    first: timedelta
    second: timedelta
    interval: timedelta
    sms_streak: int


def cadence(session: Session | None) -> Cadence:
    """The follow-up cadence in force (the settings; their defaults without a session)."""
    return Cadence(
        first=_setting_days(session, "customer.first_follow_up_days"),
        second=_setting_days(session, "customer.second_follow_up_days"),
        interval=_setting_days(session, "customer.follow_up_interval_days"),
        sms_streak=int(settings.get(session, "customer.sms_only_streak")
                       if session is not None
                       else settings.DEFAULTS["customer.sms_only_streak"]))


def deadline_in_force(session: Session | None, baseline: datetime,
                      follow_ups: list[tuple[datetime, str]]) -> datetime:
    """Replay the cadence over follow-ups ``(happened_at, kind)`` (ordered) since
    ``baseline``; the deadline in force after them, which is stored on the latest one
    (``next_due_at``). Once a deadline is missed it stays (the card is void until a new
    baseline)."""
    rules = cadence(session)
    due = baseline + rules.first
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
            if run >= rules.sms_streak:
                due, counted = before_run  # the whole text-only run does not count
                continue
        else:
            run = 0
        counted += 1
        due = at + (rules.second if counted == 1 else rules.interval)
    return due


def _last_counting_service(session: Session | None, follow_ups: list[tuple[datetime, str]]
                           ) -> datetime | None:
    """The latest follow-up that counts as service: not part of a text-only run, and not an
    invitation the customer did not attend (邀不来 is a lapse of service, R-CUST-5)."""
    streak = cadence(session).sms_streak
    counted: list[datetime] = []
    run: list[datetime] = []
    for at, kind in follow_ups:
        if kind in NOT_SERVICE_KINDS:
            continue
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


EFFECTIVE_STATUSES = tuple(s.value for s in CustomerStatus)


def effective_status_in_sql(session: Session, values: Any,
                            now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``effective_status(c) in values``: void is the derived 废卡 (R-CUST-4),
    a prospect is one that is not void; other statuses are the stored ones."""
    wanted = {str(v) for v in values}
    unknown = wanted - set(EFFECTIVE_STATUSES)
    if unknown:
        raise ValueError(f"unknown customer status {sorted(unknown)}")
    void = is_void_sql(session, now)
    clauses = []
    if CustomerStatus.VOID.value in wanted:
        clauses.append(void)
    stored = wanted - {CustomerStatus.VOID.value}
    if stored:
        clauses.append(and_(Customer.status.in_(sorted(stored)), not_(void)))
    return or_(*clauses) if clauses else false()


def void_ids(session: Session, ids: Any, now: datetime | None = None) -> set[int]:
    """Which of these customers are void now (one statement for a page of them)."""
    wanted = list(ids)
    if not wanted:
        return set()
    return set(session.scalars(select(Customer.id).where(Customer.id.in_(wanted),
                                                         is_void_sql(session, now))))


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


def _deadline_passed_sql(session: Session, now: datetime) -> ColumnElement[bool]:
    """SQL twin of ``now > follow_up_due(customer)``: the deadline in force for the current
    owner (counted from the owner-change baseline, R-CUST-4) has passed."""
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
    return or_(and_(~any_since, baseline < _ts(now - first)),
               and_(any_since, latest_due.is_not(None), latest_due < _ts(now)),
               and_(any_since, latest_due.is_(None), latest_at < _ts(now - interval)))


def is_void_sql(session: Session, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``is_void`` for filters and counts (``select(Customer).where(...)``)."""
    now = now or clock.now()
    return and_(_open_owned_sql(), Customer.deal_at.is_(None),
                Customer.status == CustomerStatus.PROSPECT.value,
                _deadline_passed_sql(session, now))


FOLLOW_UP_STATUSES = (CustomerStatus.PROSPECT.value, CustomerStatus.ACTIVE.value)


def is_follow_up_due(customer: Customer, now: datetime | None = None) -> bool:
    """待回访 (R-CUST-4): an open, owned prospect or active customer whose follow-up deadline
    in force for the current owner has passed, or whose agreed next follow-up date (下次回访日期)
    has come."""
    now = now or clock.now()
    return _open_owned(customer) and customer.status in FOLLOW_UP_STATUSES \
        and (now > follow_up_due(customer) or planned_follow_up_reached(customer, now))


def follow_up_due_sql(session: Session, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``is_follow_up_due`` (the 待回访客户 list preset)."""
    now = now or clock.now()
    return and_(_open_owned_sql(), Customer.status.in_(FOLLOW_UP_STATUSES),
                or_(_deadline_passed_sql(session, now), _planned_reached_sql(now)))


def planned_follow_up_on(customer: Customer) -> date | None:
    """下次回访日期 agreed at the current owner's latest follow-up, if any."""
    baseline = cadence_baseline(customer)
    since = [f for f in customer.follow_ups if f.happened_at >= baseline]
    if not since:
        return None
    return max(since, key=lambda f: (f.happened_at, f.id or 0)).planned_next_on


def planned_follow_up_reached(customer: Customer, now: datetime | None = None) -> bool:
    """An open, owned customer whose agreed next follow-up date is today or past."""
    planned = planned_follow_up_on(customer)
    return planned is not None and _open_owned(customer) \
        and customer.status in FOLLOW_UP_STATUSES \
        and planned <= calendar.company_date(now or clock.now())


def _planned_reached_sql(now: datetime) -> ColumnElement[bool]:
    baseline = _baseline_sql()
    since = and_(FollowUp.customer_id == Customer.id, FollowUp.happened_at >= baseline)
    latest_planned = (select(FollowUp.planned_next_on).where(since)
                      .order_by(FollowUp.happened_at.desc(), FollowUp.id.desc()).limit(1)
                      .correlate(Customer).scalar_subquery())
    today = literal(calendar.company_date(now), type_=FollowUp.__table__.c.planned_next_on.type)
    return and_(latest_planned.is_not(None), latest_planned <= today)


def planned_follow_up_sql(now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``planned_follow_up_reached``."""
    now = now or clock.now()
    return and_(_open_owned_sql(), Customer.status.in_(FOLLOW_UP_STATUSES),
                _planned_reached_sql(now))


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


def void_or_expired_sql(session: Session, now: datetime | None = None) -> ColumnElement[bool]:
    """废卡 / 可重新分配: void (R-CUST-4) or ownership expired without a deal (R-CUST-2) — the
    archives a supervisor may hand to someone else (the home page's 废卡与建档过期 list)."""
    now = now or clock.now()
    return or_(is_void_sql(session, now), ownership_expired_sql(session, now))


def claimable_sql(session: Session, now: datetime | None = None) -> ColumnElement[bool]:
    """Archives a salesperson of the branch may claim: unowned, or ownership expired."""
    return and_(Customer.closed_at.is_(None), Customer.status != CustomerStatus.CLOSED.value,
                or_(Customer.owner_id.is_(None), ownership_expired_sql(session, now)))


def is_claimable(customer: Customer, now: datetime | None = None) -> bool:
    """Python twin of ``claimable_sql``: open, and unowned or its ownership expired (R-CUST-2)."""
    if customer.closed_at is not None or customer.status == CustomerStatus.CLOSED.value:
        return False
    return customer.owner_id is None or ownership_expired(customer, now)
