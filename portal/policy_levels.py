"""The level in force of a classified file and the files open to all staff (R-FILE-1,
R-FILE-4), for the one policy. Split out of ``portal/policy.py``; import these names from
there."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, case, literal
from sqlalchemy.sql.elements import ColumnElement

from models import ConfidentialFile
from models.enums import Level


def _company_today() -> date:
    """The company's date from the controllable clock (not the server's local date)."""
    from portal import clock

    return clock.today()


def effective_level(f: ConfidentialFile, today: date | None = None) -> int:
    """The level in force: from the day after its secrecy period's end date (inclusive end), a
    classified file reads as internal — 内部, not public (R-FILE-4, derived at read time)."""
    today = today or _company_today()
    if f.level > Level.INTERNAL and f.secrecy_until is not None and f.secrecy_until < today:
        return Level.INTERNAL.value
    return f.level


def _effective_level_sql(today: date) -> ColumnElement[int]:
    return case(
        (and_(ConfidentialFile.level > Level.INTERNAL.value,
              ConfidentialFile.secrecy_until.is_not(None),
              ConfidentialFile.secrecy_until < today), literal(Level.INTERNAL.value)),
        else_=ConfidentialFile.level,
    )


def is_open_to_staff(obj: Any, today: date | None = None) -> bool:
    """R-FILE-1: a standalone file (no customer) whose level in force is public or internal
    needs no knowledge scope: it is in every scope of a file grant (公司简介, 销售政策).
    Files attached to a customer follow that customer's scope. SQL twin: open_to_staff_sql."""
    return isinstance(obj, ConfidentialFile) and obj.customer_id is None \
        and effective_level(obj, today) <= Level.INTERNAL


def open_to_staff_sql(today: date | None = None) -> ColumnElement[bool]:
    """SQL twin of ``is_open_to_staff`` (in ``_file_row_filter``, so in ``scope``)."""
    return and_(ConfidentialFile.customer_id.is_(None),
                _effective_level_sql(today or _company_today()) <= Level.INTERNAL.value)
