"""Archive loans: the derived state (SQL predicate and its Python twin) and a loan's end."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, literal
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models import ArchiveLoan
from models.enums import LoanStatus
from portal import clock
from portal.services import calendar

# derived states (not stored): an approved loan before / after its end time
ACTIVE = "active"
EXPIRED = "expired"
STATES = (LoanStatus.REQUESTED.value, ACTIVE, EXPIRED, LoanStatus.REFUSED.value,
          LoanStatus.RETURNED.value, LoanStatus.REVOKED.value)


def state_of(loan: ArchiveLoan, now: datetime | None = None) -> str:
    """requested / active / expired / refused / returned / revoked."""
    if loan.status != LoanStatus.APPROVED.value:
        return loan.status
    now = now or clock.now()
    return ACTIVE if loan.ends_at is not None and now < loan.ends_at else EXPIRED


def state_sql(now: datetime | None = None) -> ColumnElement[str]:
    """SQL twin of ``state_of``."""
    now = now or clock.now()
    return case(
        (and_(ArchiveLoan.status == LoanStatus.APPROVED.value, ArchiveLoan.ends_at > now),
         literal(ACTIVE)),
        (ArchiveLoan.status == LoanStatus.APPROVED.value, literal(EXPIRED)),
        else_=ArchiveLoan.status)


def in_force_sql(now: datetime | None = None) -> ColumnElement[bool]:
    """The loans giving read access now."""
    now = now or clock.now()
    return and_(ArchiveLoan.status == LoanStatus.APPROVED.value,
                ArchiveLoan.starts_at <= now, ArchiveLoan.ends_at > now)


def is_in_force(loan: ArchiveLoan, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return loan.status == LoanStatus.APPROVED.value and loan.starts_at is not None \
        and loan.ends_at is not None and loan.starts_at <= now < loan.ends_at


def loan_end(session: Session, start: datetime, days: int) -> datetime:
    """The end of a loan of ``days`` working days from ``start``: the same time of day on the
    ``days``-th working day after the company date of ``start`` (weekends and holidays of the
    working-day calendar are skipped)."""
    local = start.astimezone(clock.COMPANY_TZ)
    end_day = calendar.add_working_days(session, local.date(), days)
    return datetime.combine(end_day, local.timetz().replace(tzinfo=None),
                            tzinfo=clock.COMPANY_TZ)
