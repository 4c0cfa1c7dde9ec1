"""Reception: the field lists and the validation helpers every verb shares."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from models.enums import (
    Venue,
    VisitorClass,
)
from portal import clock
from portal.normalize import normalize_phone
from portal.services.errors import N_, ValidationFailed

FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_STAT_DAYS = 400
DEFAULT_VENUE = {VisitorClass.VIP.value: Venue.VIP_ROOM.value,
                 VisitorClass.BUSINESS.value: Venue.BUSINESS_ROOM.value,
                 VisitorClass.GENERAL.value: Venue.LOUNGE.value}
CREATE_FIELDS = ("kind", "visitor_class", "venue", "visitor_name", "visitor_company",
                 "visitor_phone", "purpose", "arrived_at", "departed_at", "branch_id",
                 "designated_staff_id", "customer_id", "create_customer", "outcome")
UPDATE_FIELDS = ("visitor_class", "venue", "visitor_name", "visitor_company", "visitor_phone",
                 "purpose", "departed_at", "outcome")
_TEXT_LIMITS = {"visitor_name": 100, "visitor_company": 200, "visitor_phone": 32,
                "purpose": 2000}


# ---------------------------------------------------------------------------------------------


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationFailed(N_("%(label)s must be text."), field=key, label=key)
    text = (value or "").strip()
    if not text:
        if required:
            raise ValidationFailed(N_("%(label)s is required."), field=key, label=key)
        return None
    if len(text) > _TEXT_LIMITS.get(key, 200):
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."), field=key, label=key,
                               max=_TEXT_LIMITS.get(key, 200))
    return text


def _choice(data: Mapping[str, Any], key: str, allowed: list[str], default: str | None
            ) -> str | None:
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    text = str(value).strip().lower()
    if text not in allowed:
        raise ValidationFailed(N_("%(value)s is not a valid %(label)s (choose one of "
                                  "%(choices)s)."), field=key, label=key, value=str(value)[:40],
                               choices=", ".join(allowed))
    return text


def _moment(data: Mapping[str, Any], key: str, *, future_ok: bool = False
            ) -> datetime | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ValidationFailed(N_("%(label)s must be a date and time."), field=key, label=key) from None
    if not isinstance(value, datetime):
        raise ValidationFailed(N_("%(label)s must be a date and time."), field=key, label=key)
    if value.tzinfo is None:
        value = value.replace(tzinfo=clock.COMPANY_TZ)  # typed at the desk: company time
    if not future_ok and value > clock.now() + FUTURE_TOLERANCE:
        raise ValidationFailed(N_("%(label)s cannot be in the future."), field=key, label=key)
    return value


def _phone(data: Mapping[str, Any]) -> str | None:
    phone = _text(data, "visitor_phone")
    if phone is not None and not 5 <= len(normalize_phone(phone) or "") <= 15:
        raise ValidationFailed(N_("%(value)s is not a phone number."), field="visitor_phone",
                               value=phone[:32])
    return phone


def _id(value: Any, key: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("%(label)s must be an id."), field=key, label=key) from None


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def company_day(moment: datetime) -> date:
    return moment.astimezone(clock.COMPANY_TZ).date()


def _day_start_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.COMPANY_TZ).astimezone(UTC)
