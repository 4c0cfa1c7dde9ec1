"""The working-day calendar (R-COMP-2): weekends, holidays and make-up working days."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from models import CalendarDay
from portal import clock
from portal.services import calendar


def _days(session, **kinds):
    for iso, kind in kinds.items():
        session.add(CalendarDay(day=date.fromisoformat(iso.replace("_", "-")), kind=kind))
    session.commit()


def test_R_COMP_2_weekends_are_not_working_days(session):
    assert calendar.is_working_day(session, date(2025, 3, 14))  # Friday
    assert not calendar.is_working_day(session, date(2025, 3, 15))  # Saturday
    assert not calendar.is_working_day(session, date(2025, 3, 16))  # Sunday


def test_R_COMP_2_holidays_and_make_up_days_override_the_week(session):
    _days(session, **{"2025_10_01": "holiday", "2025_09_28": "workday"})
    assert not calendar.is_working_day(session, date(2025, 10, 1))  # Wednesday, National Day
    assert calendar.is_working_day(session, date(2025, 9, 28))  # Sunday, 调休上班


def test_R_COMP_2_add_working_days_skips_weekend(session):
    assert calendar.add_working_days(session, date(2025, 3, 14), 1) == date(2025, 3, 17)
    assert calendar.add_working_days(session, date(2025, 3, 14), 3) == date(2025, 3, 19)
    assert calendar.add_working_days(session, date(2025, 3, 15), 1) == date(2025, 3, 17)
    assert calendar.add_working_days(session, date(2025, 3, 14), 0) == date(2025, 3, 14)
    with pytest.raises(ValueError):
        calendar.add_working_days(session, date(2025, 3, 14), -1)


def test_R_COMP_2_add_working_days_over_golden_week(session):
    """2025 National Day: 1-8 Oct off, Sunday 28 Sep and Saturday 11 Oct worked."""
    _days(session, **{f"2025_10_0{d}": "holiday" for d in range(1, 9)},
          **{"2025_09_28": "workday", "2025_10_11": "workday"})
    # Fri 26 Sep → Sun 28 (make-up), Mon 29, Tue 30.
    assert calendar.add_working_days(session, date(2025, 9, 26), 3) == date(2025, 9, 30)
    # Tue 30 Sep → Thu 9 Oct, Fri 10, Sat 11 (make-up).
    assert calendar.add_working_days(session, date(2025, 9, 30), 3) == date(2025, 10, 11)
    assert calendar.working_days_between(session, date(2025, 9, 30), date(2025, 10, 11)) == 3


def test_R_COMP_2_a_long_run_of_holidays_widens_the_window(session):
    for i in range(60):
        session.add(CalendarDay(day=date.fromordinal(date(2026, 1, 1).toordinal() + i),
                                kind="holiday"))
    session.commit()
    assert calendar.add_working_days(session, date(2025, 12, 31), 1) == date(2026, 3, 2)


def test_R_COMP_2_company_date_is_shanghai_time(session):
    late_utc = datetime(2025, 3, 14, 17, 0, tzinfo=UTC)  # Saturday 01:00 in Shanghai
    assert calendar.company_date(late_utc) == date(2025, 3, 15)
    with clock.frozen(late_utc):
        assert not calendar.is_working_day(session, clock.today())
    end = calendar.end_of_company_day(date(2025, 3, 14))
    assert end.astimezone(UTC) == datetime(2025, 3, 14, 15, 59, 59, tzinfo=UTC)
