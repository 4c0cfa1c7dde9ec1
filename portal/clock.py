"""The time services use. Tests freeze it (``clock.frozen(dt)``) so time-driven rules are
checked against a controlled clock, not the wall."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_frozen: datetime | None = None
COMPANY_TZ = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def today() -> date:
    """The company's calendar date (China time), which decides working days and periods."""
    return now().astimezone(COMPANY_TZ).date()


def set_now(value: datetime | None) -> None:
    global _frozen
    if value is not None and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    _frozen = value


def advance(delta: timedelta) -> None:
    set_now(now() + delta)


@contextlib.contextmanager
def frozen(value: datetime) -> Iterator[None]:
    previous = _frozen
    set_now(value)
    try:
        yield
    finally:
        set_now(previous)
