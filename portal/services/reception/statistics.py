"""Reception statistics (R-RECV-3): counts per day/week/month, class, staff, branch."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from models.customer import Customer
from models.enums import (
    ReceptionKind,
    ReceptionOutcome,
)
from models.org import User
from models.reception import ReceptionRecord
from portal import clock, policy
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.reception._common import MAX_STAT_DAYS, _day_start_utc, company_day

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
