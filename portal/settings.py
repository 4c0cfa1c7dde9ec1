"""Rule thresholds companies tune. Defaults are the numbers of domain.md; a row in the
``settings`` table overrides them."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.settings import Setting

DEFAULTS: dict[str, Any] = {
    "customer.ownership_validity_days": 60,
    "customer.first_follow_up_days": 3,
    "customer.second_follow_up_days": 1,
    "customer.follow_up_interval_days": 7,
    "customer.sms_only_streak": 3,
    "customer.service_lapse_days": 90,
    "complaint.inquiry_hours": 24,
    "complaint.close_working_days": 3,
    "complaint.max_extension_working_days": 7,
    "complaint.escalation_hours": 24,
    "complaint.transfer_working_days": 3,
    "complaint.retention_days": 365,
    "complaint.compensation_gm_threshold": 5000,
    "complaint.serial_digits": 4,
    "complaint.repeat_days": 90,
    "credit.review_interval_days": 92,
    "credit.max_term_days": 30,
    "credit.max_temporary_term_days_b": 15,
    "credit.temporary_line_months": 3,
    "credit.company_ceiling": 0,
    "complaint.penalties_enabled": True,
    "complaint.penalty_staff_amount": 100,
    "complaint.penalty_late_amount": 500,
    "complaint.penalty_late_working_days": 3,
    "file.copy_link_minutes": 10,
    "file.max_upload_mb": 10,
    "file.user_quota_mb": 500,
    "two_person.expiry_hours": 24,
    "customer.duplicate_hits_per_hour": 20,
    "password.min_length": 12,
    "password.min_classes": 3,
    "password.admin_max_age_days": 90,
    "password.history_count": 5,
    "session.idle_minutes": 30,
    "session.max_hours": 12,
    "customer.lookups_per_hour": 60,
    "customer.loan_max_working_days": 5,
}


def get(session: Session, key: str) -> Any:
    """The value in force for ``key`` (the settings row, else the default)."""
    cache = session.info.setdefault("settings_cache", {})
    if key in cache:
        return cache[key]
    raw = session.scalar(select(Setting.value).where(Setting.key == key))
    if raw is None:
        if key not in DEFAULTS:
            raise KeyError(f"unknown setting {key!r}")
        value = DEFAULTS[key]
    else:
        value = json.loads(raw)
    cache[key] = value
    return value


def prime(session: Session, key: str, raw: str | None) -> None:
    """File the value of ``key`` that the caller read from the settings row in its own
    statement (``raw``: the row's ``value``, None without a row) where ``get`` looks, as if
    ``get`` had read it then (the API's token statement reads the two-factor roles this way)."""
    cache = session.info.setdefault("settings_cache", {})
    if key not in cache:
        cache[key] = DEFAULTS[key] if raw is None else json.loads(raw)


def forget(session: Session) -> None:
    session.info.pop("settings_cache", None)
