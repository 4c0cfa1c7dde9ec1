"""Receivables: the company credit ceiling (R-CRED-10)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from models import (
    CreditLine,
)
from portal import settings
from portal.services.errors import N_, RuleViolation
from portal.services.receivables.ages import CENT, money


def limits_in_force_total(session: Session, today: date, except_customer: int | None = None
                          ) -> Decimal:
    """Sum of the limits of the lines in force (one per customer: the latest approved)."""
    from portal.services.credit import in_force_clause

    stmt = select(func.coalesce(func.sum(CreditLine.limit_amount), 0)).where(
        in_force_clause(today))
    if except_customer is not None:
        stmt = stmt.where(CreditLine.customer_id != except_customer)
    return Decimal(str(session.scalar(stmt) or 0)).quantize(CENT)


def check_ceiling(session: Session, line: CreditLine, today: date) -> None:
    """Refuse an approval that would take the limits in force over the company ceiling (a
    setting; 0 = none). The customer's current line is replaced by this one, so it is left
    out of the current total. Approvals are serialised on PostgreSQL (advisory lock) so two
    approvals cannot both pass the check."""
    ceiling = Decimal(str(settings.get(session, "credit.company_ceiling") or 0)).quantize(CENT)
    if ceiling <= 0:
        return
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(190010)"))
    current = limits_in_force_total(session, today, except_customer=line.customer_id)
    if current + line.limit_amount > ceiling:
        raise RuleViolation(
            N_("Approving this line would take the credit limits in force over the company "
               "ceiling: current total %(total)s, this line %(line)s, ceiling %(ceiling)s."),
            rule="R-CRED-10", total=money(current), line=money(line.limit_amount),
            ceiling=money(ceiling))
