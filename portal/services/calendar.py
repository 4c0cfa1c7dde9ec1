"""The company's working-day calendar (工作日, R-COMP-2).

A day is a working day when it is Monday..Friday, unless ``calendar_days`` marks it a holiday
(节假日); a Saturday or Sunday is a working day when ``calendar_days`` marks it a make-up
working day (调休上班日). Dates are company dates (``clock.today()``, Asia/Shanghai).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.settings import CalendarDay
from portal import clock

HOLIDAY = "holiday"
WORKDAY = "workday"


def _overrides(session: Session, start: date, end: date) -> dict[date, str]:
    rows = session.execute(select(CalendarDay.day, CalendarDay.kind)
                           .where(CalendarDay.day >= start, CalendarDay.day <= end)).all()
    return {d: k for d, k in rows}


def _working(d: date, overrides: dict[date, str]) -> bool:
    kind = overrides.get(d)
    if kind == HOLIDAY:
        return False
    if kind == WORKDAY:
        return True
    return d.weekday() < 5


def is_working_day(session: Session, d: date) -> bool:
    """Whether ``d`` (a company date) is a working day."""
    return _working(d, _overrides(session, d, d))


def add_working_days(session: Session, start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (``start`` itself does not count; ``n == 0``
    gives ``start``). Holidays and weekends are skipped, make-up working days count."""
    if n < 0:
        raise ValueError("n must be >= 0")
    if n == 0:
        return start
    window = max(31, n * 3)
    end = start + timedelta(days=window)
    overrides = _overrides(session, start, end)
    d, counted = start, 0
    while counted < n:
        d += timedelta(days=1)
        if d > end:  # a long run of holidays: widen the window
            end = d + timedelta(days=window)
            overrides.update(_overrides(session, d, end))
        if _working(d, overrides):
            counted += 1
    return d


def working_days_between(session: Session, start: date, end: date) -> int:
    """Working days in (start, end]; 0 when ``end <= start``."""
    if end <= start:
        return 0
    overrides = _overrides(session, start, end)
    count, d = 0, start
    while d < end:
        d += timedelta(days=1)
        if _working(d, overrides):
            count += 1
    return count


def company_date(moment: datetime) -> date:
    """The company date of a UTC moment."""
    return moment.astimezone(clock.COMPANY_TZ).date()


def end_of_company_day(d: date) -> datetime:
    """The last second of company date ``d``, as an aware datetime (stored as UTC)."""
    return datetime.combine(d, time(23, 59, 59), tzinfo=clock.COMPANY_TZ)


def start_of_company_day(d: date) -> datetime:
    return datetime.combine(d, time(0, 0), tzinfo=clock.COMPANY_TZ)
