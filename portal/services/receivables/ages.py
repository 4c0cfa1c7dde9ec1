"""Receivables: ages derived at read time, the past-due freeze, money formatting."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from models import (
    Customer,
    Receivable,
    ReceivableSettlement,
)
from portal import clock

ZERO = Decimal("0")
CENT = Decimal("0.01")
CREDIT_SALE, PREPAYMENT = "credit_sale", "prepayment"
BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90_plus")
PAST_DUE_BUCKETS = BUCKETS[1:]
# (upper bound in days past due, bucket); the last bucket has no upper bound
_EDGES = ((0, "current"), (30, "d1_30"), (60, "d31_60"), (90, "d61_90"))


# ---------------------------------------------------------------------------------------------


def days_past_due(due_on: date, as_of: date) -> int:
    """Whole days an item is late on ``as_of`` (0 when not yet due or due that day)."""
    return max(0, (as_of - due_on).days)


def age_bucket(days: int) -> str:
    """R-CRED-9 bucket of a number of days past due."""
    for upper, bucket in _EDGES:
        if days <= upper:
            return bucket
    return "d90_plus"


def bucket_case(as_of: date) -> Any:
    """SQL twin of ``age_bucket(days_past_due(Receivable.due_on, as_of))``."""
    return case(
        (Receivable.due_on >= as_of, literal("current")),
        (Receivable.due_on >= as_of - timedelta(days=30), literal("d1_30")),
        (Receivable.due_on >= as_of - timedelta(days=60), literal("d31_60")),
        (Receivable.due_on >= as_of - timedelta(days=90), literal("d61_90")),
        else_=literal("d90_plus"))


def _settled_until(as_of: date) -> Any:
    return (select(ReceivableSettlement.receivable_id,
                   func.sum(ReceivableSettlement.amount).label("settled"))
            .where(ReceivableSettlement.settled_on <= as_of)
            .group_by(ReceivableSettlement.receivable_id).subquery())


def open_as_of(as_of: date) -> tuple[Any, list[Any], Any]:
    """(settled subquery to outer-join, conditions, open amount column) of the receivables on
    ``as_of``: booked by then, minus what was settled by then."""
    settled = _settled_until(as_of)
    amount = Receivable.amount - func.coalesce(settled.c.settled, 0)
    return settled, [Receivable.booked_on <= as_of, amount > 0], amount


def past_due_amount(session: Session, customer_id: int, as_of: date | None = None) -> Decimal:
    """What the customer owes (or has not delivered) past its due date today."""
    as_of = as_of or clock.today()
    value = session.scalar(select(func.coalesce(func.sum(Receivable.open_amount), 0)).where(
        Receivable.customer_id == customer_id, Receivable.open_amount > 0,
        Receivable.due_on < as_of))
    return Decimal(str(value or 0)).quantize(CENT)


def frozen_clause(as_of: date | None = None) -> Any:
    """Customers with a past-due balance today (R-CRED-9 freeze): a filter on Customer."""
    as_of = as_of or clock.today()
    return Customer.id.in_(select(Receivable.customer_id).where(
        Receivable.open_amount > 0, Receivable.due_on < as_of))


def is_frozen(session: Session, customer_id: int, as_of: date | None = None) -> bool:
    return past_due_amount(session, customer_id, as_of) > 0


def money(value: Any) -> str:
    """¥1,480,000.00"""
    amount = Decimal(str(value or 0)).quantize(CENT)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"
