"""Rule settings and the working-day calendar, edited by the system administrator. Every
change is audited; settings take effect on the next request (``portal.settings`` caches per
transaction)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.org import User
from models.settings import CalendarDay, Setting
from portal import audit, policy, setting_specs
from portal import settings as portal_settings
from portal.services.accepts import accepts
from portal.services.errors import N_, PermissionDenied, Term, ValidationFailed
from portal.services.unit import check_version, verb

DAY_KINDS = ("holiday", "workday")


def parse_value(key: str, raw: Any) -> Any:
    """A setting's new value, of the same type as its default (numbers stay numbers)."""
    if key not in portal_settings.DEFAULTS:
        raise ValidationFailed(N_("Unknown setting %(key)s."), field="key", key=key)
    default = portal_settings.DEFAULTS[key]
    if isinstance(raw, str):
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw.strip()
    else:
        value = raw
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int | float):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and value >= 0
        if ok and isinstance(default, int) and float(value).is_integer():
            value = int(value)
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise ValidationFailed(N_("%(key)s needs a value like %(example)s."), field="value",
                               key=key, example=json.dumps(default))
    spec = setting_specs.spec_for(key)
    if spec is not None and spec.unit == "roles":
        known = policy.two_factor_role_choices()
        if not all(isinstance(v, str) and v in known for v in value):
            raise ValidationFailed(N_("%(key)s needs a value like %(example)s."), field="value",
                                   key=key, example=json.dumps(default))
        value = [r for r in known if r in value]  # one order, no repeats
    if spec is not None and isinstance(value, int | float) and not isinstance(value, bool) \
            and not spec.minimum <= value <= spec.maximum:
        raise ValidationFailed(
            N_("%(setting)s must be between %(minimum)s and %(maximum)s %(unit)s."),
            field="value", setting=Term(spec.label), minimum=spec.bounds[0],
            maximum=spec.bounds[1], unit=Term(setting_specs.UNITS[spec.unit]))
    return value


@dataclass
class SettingRow:
    """One setting as the settings console shows it."""

    key: str
    area: str
    spec: setting_specs.SettingSpec | None
    value: Any
    default: Any
    updated_at: Any
    updated_by: str | None
    version: int | None

    @property
    def is_default(self) -> bool:
        return self.value == self.default


def settings_by_area(session: Session) -> list[tuple[str, list[SettingRow]]]:
    """Every setting in force, grouped by area in the order of ``setting_specs.AREAS``."""
    rows = {r.key: r for r in session.scalars(select(Setting))}
    names = dict(session.execute(select(User.id, User.full_name).where(
        User.id.in_({r.updated_by_id for r in rows.values() if r.updated_by_id}))).all())
    grouped: dict[str, list[SettingRow]] = {a: [] for a in setting_specs.AREAS}
    for key, default in portal_settings.DEFAULTS.items():
        spec = setting_specs.spec_for(key)
        row = rows.get(key)
        value = json.loads(row.value) if row is not None else default
        area = spec.area if spec else "other"
        grouped.setdefault(area, []).append(SettingRow(
            key, area, spec, value, default, row.updated_at if row else None,
            names.get(row.updated_by_id) if row else None, row.version if row else None))
    return [(a, items) for a, items in grouped.items() if items]


@verb
def update_settings(session: Session, actor: User, values: dict[str, Any]) -> list[str]:
    """Save several settings at once (one area of the console): every value is validated
    before any is written; only changed values are written, each audited. Returns the keys
    changed."""
    _require(actor, "change", Setting)
    parsed = {key: parse_value(key, raw) for key, raw in values.items()}
    changed = []
    for key, value in parsed.items():
        if value == portal_settings.get(session, key):
            continue
        update_setting.inner(session, actor, key, {"value": value})
        changed.append(key)
    return changed


def _require(actor: User, verb_name: str, target: Any) -> None:
    if not policy.can(actor, f"setting.{verb_name}", target):
        raise PermissionDenied(f"setting.{verb_name}", target)


@verb
def update_setting(session: Session, actor: User, key: str, data: dict[str, Any],
                   expected_version: int | None = None) -> Setting:
    _require(actor, "change", Setting)
    value = parse_value(key, data.get("value"))
    row = session.get(Setting, key)
    if row is None:
        row = Setting(key=key, value=json.dumps(value), updated_by_id=actor.id)
        session.add(row)
        before = None
    else:
        check_version(row, expected_version)
        before = {"value": row.value}
        row.value = json.dumps(value)
        row.updated_by_id = actor.id
    if "description" in data:
        row.description = (data.get("description") or "").strip()[:300] or None
    session.flush()
    portal_settings.forget(session)
    audit.record(session, actor, "setting.change", row, before=before,
                 after={"value": row.value})
    return row


@verb
def reset_setting(session: Session, actor: User, key: str) -> None:
    """Deleting a row brings the default of domain.md back."""
    _require(actor, "delete", Setting)
    if key not in portal_settings.DEFAULTS:
        raise ValidationFailed(N_("Unknown setting %(key)s."), field="key", key=key)
    row = session.get(Setting, key)
    if row is None:
        raise ValidationFailed(N_("This setting already has its default value."), field="key")
    before = {"value": row.value}
    session.delete(row)
    session.flush()
    portal_settings.forget(session)
    audit.record(session, actor, "setting.delete", ("Setting", key), before=before)


def _day(raw: Any) -> date:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise ValidationFailed(N_("Give a date like 2026-10-01."), field="day") from None


def _kind_and_name(data: dict[str, Any]) -> tuple[str, str | None]:
    kind = str(data.get("kind") or "")
    if kind not in DAY_KINDS:
        raise ValidationFailed(N_("Choose holiday or make-up working day."), field="kind")
    name = (data.get("name") or "").strip()[:100] or None
    return kind, name


@verb
@accepts("day", "kind", "name")
def add_calendar_day(session: Session, actor: User, data: dict[str, Any]) -> CalendarDay:
    _require(actor, "change", CalendarDay)
    day = _day(data.get("day"))
    kind, name = _kind_and_name(data)
    if session.get(CalendarDay, day) is not None:
        raise ValidationFailed(N_("%(day)s is already in the calendar."), field="day",
                               day=day.isoformat())
    row = CalendarDay(day=day, kind=kind, name=name)
    session.add(row)
    session.flush()
    audit.record(session, actor, "setting.calendar_add", ("CalendarDay", day.isoformat()),
                 after={"kind": kind, "name": name})
    return row


@verb
@accepts("kind", "name")
def update_calendar_day(session: Session, actor: User, day: Any, data: dict[str, Any],
                        expected_version: int | None = None) -> CalendarDay:
    _require(actor, "change", CalendarDay)
    row = session.get(CalendarDay, _day(day))
    if row is None:
        raise ValidationFailed(N_("%(day)s is not in the calendar."), field="day", day=str(day))
    kind, name = _kind_and_name({"kind": data.get("kind", row.kind),
                                 "name": data.get("name", row.name)})
    before = {"kind": row.kind, "name": row.name}
    row.kind, row.name = kind, name
    session.flush()
    audit.record(session, actor, "setting.calendar_change", ("CalendarDay", row.day.isoformat()),
                 before=before, after={"kind": kind, "name": name})
    return row


@verb
def delete_calendar_day(session: Session, actor: User, day: Any) -> None:
    _require(actor, "delete", CalendarDay)
    row = session.get(CalendarDay, _day(day))
    if row is None:
        raise ValidationFailed(N_("%(day)s is not in the calendar."), field="day", day=str(day))
    before = {"kind": row.kind, "name": row.name}
    session.delete(row)
    session.flush()
    audit.record(session, actor, "setting.calendar_delete", ("CalendarDay", row.day.isoformat()),
                 before=before)
