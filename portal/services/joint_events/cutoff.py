"""The cut-offs of the confirmed-invitation lists (R-CUST-10), in company time.

Each day of the week before the event a department's list closes at 18:00; on the event day at
10:00 for an afternoon event (下午场) and 16:00 for an evening one (晚场). A list submitted after
a cut-off counts for the next day; after the event day's cut-off the lists are closed. Pure
functions: the caller passes the moment (``portal.clock.now()``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from models.enums import EventSession
from portal.clock import COMPANY_TZ

WEEK_BEFORE = 7  # the lists of the seven days before the event, then the event day's
DAY_BEFORE_CUTOFF = time(18, 0)
EVENT_DAY_CUTOFF = {EventSession.AFTERNOON.value: time(10, 0),
                    EventSession.EVENING.value: time(16, 0)}


def list_days(event_date: date) -> list[date]:
    """The days a department submits a list for: the week before the event and the day."""
    return [event_date - timedelta(days=n) for n in range(WEEK_BEFORE, -1, -1)]


def cutoff(event_date: date, session: str, list_day: date) -> datetime:
    """When the list of ``list_day`` closes (company time, timezone-aware)."""
    at = EVENT_DAY_CUTOFF[session] if list_day == event_date else DAY_BEFORE_CUTOFF
    return datetime.combine(list_day, at, tzinfo=COMPANY_TZ)


def list_day_for(moment: datetime, event_date: date, session: str) -> date | None:
    """The list day a submission made at ``moment`` counts for: the first day whose cut-off it
    meets (a submission exactly at the cut-off is on time). Before the week, the week's first
    day; after the event day's cut-off, ``None`` (closed)."""
    for day in list_days(event_date):
        if moment <= cutoff(event_date, session, day):
            return day
    return None
