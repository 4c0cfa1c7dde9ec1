"""Editing the working-day calendar (R-COMP-2): the month-grid editor and the import of the
official holidays (国务院办公厅 notices) from the ``chinesecalendar`` package.

A calendar change does NOT move the deadlines of complaints already registered: a complaint's
deadline is computed once, from the calendar as it stood when the complaint was registered, and
stored (``Complaint.deadline_at``). Only complaints registered after the change use the new
calendar. This keeps a deadline a customer was told stable and makes an overdue complaint
stay overdue; an individual deadline is moved with the extension verb (R-COMP-2), which is
audited with its reason.

The package ships the official days for the years in :func:`official_years`; a later year
must be entered in the editor, or imported after upgrading the package, once the State
Council has published it (usually in November or December of the year before).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.org import User
from models.settings import CalendarDay
from portal import audit, clock, policy
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.unit import verb

HOLIDAY = "holiday"
WORKDAY = "workday"
NORMAL = "normal"
KINDS = (HOLIDAY, WORKDAY, NORMAL)
MAX_RANGE_DAYS = 31

# The package's holiday names (``chinese_calendar.Holiday`` values) in the company's words.
HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def official_years() -> tuple[int, int] | None:
    """The first and last year the installed ``chinesecalendar`` package covers, or None when
    the package is not installed."""
    try:
        from chinese_calendar import constants
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    years = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
    return (min(years), max(years)) if years else None


def official_days(year: int) -> list[tuple[date, str, str]]:
    """``(day, kind, name)`` of the official holidays and make-up working days of ``year``."""
    covered = official_years()
    if covered is None or not covered[0] <= year <= covered[1]:
        first, last = covered or (0, 0)
        raise ValidationFailed(
            N_("The built-in holiday data covers %(first)s to %(last)s; enter %(year)s in the "
               "calendar editor, or import it after the package is updated, once the State "
               "Council has published it."), field="year", year=year, first=first, last=last)
    from chinese_calendar import constants

    days: list[tuple[date, str, str]] = []
    for source, kind in ((constants.holidays, HOLIDAY), (constants.workdays, WORKDAY)):
        for day, name in source.items():
            if day.year == year:
                days.append((day, kind, HOLIDAY_NAMES_ZH.get(str(name), str(name))))
    return sorted(days)


def _require(actor: User | None) -> None:
    if actor is not None and not policy.can(actor, "setting.change", CalendarDay):
        raise PermissionDenied("setting.change", CalendarDay)


def _as_date(raw: Any, field: str) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw or "").strip())
    except ValueError:
        raise ValidationFailed(N_("Give a date like 2026-10-01."), field=field) from None


def _apply(session: Session, actor: User | None, day: date, kind: str,
           name: str | None) -> bool:
    """Set one day; one audit entry when something changed. Returns whether it changed."""
    row = session.get(CalendarDay, day)
    target = ("CalendarDay", day.isoformat())
    if kind == NORMAL:
        if row is None:
            return False
        before = {"kind": row.kind, "name": row.name}
        session.delete(row)
        session.flush()
        audit.record(session, actor, "setting.calendar_delete", target, before=before)
        return True
    if row is None:
        session.add(CalendarDay(day=day, kind=kind, name=name))
        session.flush()
        audit.record(session, actor, "setting.calendar_add", target,
                     after={"kind": kind, "name": name})
        return True
    if (row.kind, row.name) == (kind, name):
        return False
    before = {"kind": row.kind, "name": row.name}
    row.kind, row.name = kind, name
    session.flush()
    audit.record(session, actor, "setting.calendar_change", target, before=before,
                 after={"kind": kind, "name": name})
    return True


@verb
def set_days(session: Session, actor: User, data: dict[str, Any]) -> int:
    """The editor's save: ``day`` (and optionally ``until``, a range of at most 31 days) become
    a holiday, a make-up working day or a normal day (the override is removed), with an
    optional ``name`` such as 国庆节. Returns the number of days changed."""
    _require(actor)
    first = _as_date(data.get("day"), "day")
    last = _as_date(data.get("until"), "until") if data.get("until") else first
    if last < first:
        raise ValidationFailed(N_("The end date is before the start date."), field="until")
    if (last - first).days >= MAX_RANGE_DAYS:
        raise ValidationFailed(N_("Set at most %(days)s days at once."), field="until",
                               days=MAX_RANGE_DAYS)
    kind = str(data.get("kind") or "")
    if kind not in KINDS:
        raise ValidationFailed(N_("Choose holiday, make-up working day or normal day."),
                               field="kind")
    name = (str(data.get("name") or "")).strip()[:100] or None
    if kind == NORMAL:
        name = None
    changed = 0
    day = first
    while day <= last:
        changed += _apply(session, actor, day, kind, name)
        day += timedelta(days=1)
    return changed


@dataclass
class ImportResult:
    year: int
    holidays: int
    workdays: int
    changed: int


def _import(session: Session, actor: User | None, year: int) -> ImportResult:
    days = official_days(year)
    changed = 0
    for day, kind, name in days:
        row = session.get(CalendarDay, day)
        if row is None:
            session.add(CalendarDay(day=day, kind=kind, name=name))
            changed += 1
        elif (row.kind, row.name) != (kind, name):
            row.kind, row.name = kind, name
            changed += 1
    session.flush()
    result = ImportResult(year, sum(1 for d in days if d[1] == HOLIDAY),
                          sum(1 for d in days if d[1] == WORKDAY), changed)
    audit.record(session, actor, "setting.calendar_import", ("CalendarDay", str(year)),
                 after={"year": year, "holidays": result.holidays,
                        "workdays": result.workdays, "changed": changed})
    return result


@verb
def import_official_year(session: Session, actor: User, year: Any) -> ImportResult:
    """Fill ``year`` with the official holidays and make-up working days (one audit entry).
    Days already in the calendar are set to the official kind and name; other days the
    company added (e.g. a company holiday) are kept."""
    _require(actor)
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Enter a year such as 2026."), field="year") from None
    return _import(session, actor, year)


@verb
def import_official_year_as_system(session: Session, year: int) -> ImportResult:
    """The operator's command (``flask portal calendar-import``): audited as 'system'."""
    return _import(session, None, int(year))


def adjacent_months(year: int, month: int) -> tuple[str, str]:
    """The months before and after ``year-month`` as ``YYYY-MM`` (the month grid's arrows)."""
    before = date(year, month, 1) - timedelta(days=1)
    after = date(year, month, 28) + timedelta(days=7)
    return f"{before:%Y-%m}", f"{after:%Y-%m}"


def month_days(session: Session, year: int, month: int) -> dict[date, CalendarDay]:
    first = date(year, month, 1)
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    rows = session.scalars(select(CalendarDay).where(CalendarDay.day >= first,
                                                     CalendarDay.day <= last))
    return {r.day: r for r in rows}


def year_configured(session: Session, year: int) -> bool:
    """Whether any holiday or make-up day of ``year`` is in the calendar (every year has
    official holidays, so an empty year has not been configured)."""
    return bool(session.scalar(select(func.count()).select_from(CalendarDay).where(
        CalendarDay.day >= date(year, 1, 1), CalendarDay.day <= date(year, 12, 31))))


@dataclass
class YearWarning:
    year: int
    importable: bool  # the built-in data covers it: one click imports it


def next_year_warning(session: Session, today: date | None = None) -> YearWarning | None:
    """From 1 December on, a warning when next year's calendar is still empty."""
    today = today or clock.today()
    if today.month != 12:
        return None
    year = today.year + 1
    if year_configured(session, year):
        return None
    covered = official_years()
    return YearWarning(year, bool(covered and covered[0] <= year <= covered[1]))
