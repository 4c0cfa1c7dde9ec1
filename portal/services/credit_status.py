"""The status of a credit line as people see it (R-CRED-4, R-CRED-5): an approved line whose end
date has come reads ``lapsed`` (已失效), one whose customer was rated C after its approval reads
``suspended`` (已暂停); every other status is the stored one. Derived at read time — one SQL
expression (``line_status_sql``) with its Python twin (``credit.line_state``), and a batch
form for lists (``line_states``) that both doors call: the portal's badge and GraphQL's
``CreditLine.effectiveStatus``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import and_, case, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models import CreditLine
from models.enums import CreditLineStatus
from portal import clock
from portal.services.credit import line_state, suspended_by_c_clause

LAPSED = "lapsed"
SUSPENDED = "suspended"
DERIVED = (LAPSED, SUSPENDED)


def line_status_sql(today: date | None = None) -> ColumnElement[Any]:
    """SQL twin of ``credit.line_state``: the status to show, as a column expression."""
    today = today or clock.today()
    approved = CreditLine.status == CreditLineStatus.APPROVED.value
    return case(
        (and_(approved, CreditLine.valid_until.is_not(None), CreditLine.valid_until <= today),
         literal(LAPSED)),
        (and_(approved, suspended_by_c_clause()), literal(SUSPENDED)),
        else_=CreditLine.status)


def shown_as_sql(statuses: Iterable[str], today: date | None = None) -> ColumnElement[bool]:
    """Lines shown with one of ``statuses`` (a stored or a derived one): list filters."""
    wanted = list(statuses)
    return or_(*[line_status_sql(today) == s for s in wanted]) if wanted else literal(False)


def line_states(session: Session, line_ids: Iterable[int],
                today: date | None = None) -> dict[int, str]:
    """The shown status of many lines in one query (list pages, GraphQL batches)."""
    ids = sorted({i for i in line_ids if i is not None})
    if not ids:
        return {}
    rows = session.execute(select(CreditLine.id, line_status_sql(today))
                           .where(CreditLine.id.in_(ids))).all()
    return {int(i): str(s) for i, s in rows}


def shown_status(session: Session, line: CreditLine, today: date | None = None) -> str:
    """One loaded line (the Python twin)."""
    return line_state(session, line, today)
