"""Receivables: booking and FIFO settling (called by credit.record_transaction inside its transaction)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    Customer,
    CustomerTransaction,
    Receivable,
    ReceivableSettlement,
)
from models.enums import CustomerKind
from portal import clock
from portal.services.errors import N_, RuleViolation, ValidationFailed
from portal.services.receivables.ages import PREPAYMENT, ZERO, money, past_due_amount


def parse_deadline(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(N_("Enter a date."), field="delivery_deadline") from None


def check_prepayment(customer: Customer, deadline: date | None, today: date) -> date:
    """R-CRED-10: a prepayment goes to a supplier and carries a delivery deadline."""
    if customer.kind != CustomerKind.SUPPLIER.value:
        raise RuleViolation(N_("A prepayment (预付) goes to a supplier; this customer is not "
                               "a supplier."), rule="R-CRED-10", field="kind")
    if deadline is None:
        raise ValidationFailed(N_("Enter the delivery deadline (到货期限) of the prepayment."),
                               field="delivery_deadline")
    if deadline < today:
        raise ValidationFailed(N_("The delivery deadline cannot be in the past."),
                               field="delivery_deadline")
    return deadline


def check_freeze(session: Session, customer: Customer, amount: Decimal, today: date,
                 approval_for: Any) -> Any:
    """R-CRED-9: while the customer has a past-due balance, no new credit sale or prepayment
    without a valid over-limit approval covering this amount. Returns that approval (or None
    when the customer is not frozen)."""
    overdue = past_due_amount(session, customer.id, today)
    if overdue <= 0:
        return None
    approval = approval_for(amount)
    if approval is None:
        oldest = session.scalar(select(func.min(Receivable.due_on)).where(
            Receivable.customer_id == customer.id, Receivable.open_amount > 0,
            Receivable.due_on < today))
        raise RuleViolation(
            N_("%(customer)s has %(amount)s past due (oldest due on %(due)s): no new credit "
               "sale or prepayment until it is settled, unless an over-limit approval covers "
               "it."), rule="R-CRED-9", field="amount", customer=customer.name,
            amount=money(overdue), due=oldest)
    return approval


def due_for_sale(session: Session, customer_id: int, booked_on: date) -> tuple[date, int]:
    """R-CRED-4/9: sale date + the term of the line in force (0 days without a line)."""
    from portal.services.credit import line_in_force

    line = line_in_force(session, customer_id, booked_on)
    term = line.term_days if line is not None else 0
    return booked_on + timedelta(days=term), term


def book(session: Session, customer: Customer, tx: CustomerTransaction, kind: str,
         booked_on: date, deadline: date | None = None) -> Receivable:
    if kind == PREPAYMENT:
        assert deadline is not None
        due_on, term = deadline, (deadline - booked_on).days
    else:
        due_on, term = due_for_sale(session, customer.id, booked_on)
    item = Receivable(customer_id=customer.id, transaction_id=tx.id, kind=kind,
                      amount=tx.amount, open_amount=tx.amount, booked_on=booked_on,
                      due_on=due_on, term_days=term, created_at=clock.now())
    session.add(item)
    session.flush()
    return item


def settle_fifo(session: Session, customer: Customer, tx: CustomerTransaction, kind: str,
                settled_on: date) -> Decimal:
    """Apply ``tx.amount`` to the customer's open items of ``kind``, oldest due first; returns
    the amount applied (the rest, if any, exceeded what was open)."""
    rest = tx.amount
    applied = ZERO
    items = session.scalars(select(Receivable).where(
        Receivable.customer_id == customer.id, Receivable.kind == kind,
        Receivable.open_amount > 0)
        .order_by(Receivable.due_on, Receivable.booked_on, Receivable.id)).all()
    for item in items:
        if rest <= 0:
            break
        part = min(item.open_amount, rest)
        item.open_amount = item.open_amount - part
        rest -= part
        applied += part
        session.add(ReceivableSettlement(receivable_id=item.id, transaction_id=tx.id,
                                         amount=part, settled_on=settled_on))
    session.flush()
    return applied


def open_total(session: Session, customer_id: int) -> Decimal:
    value = session.scalar(select(func.coalesce(func.sum(Receivable.open_amount), 0)).where(
        Receivable.customer_id == customer_id))
    return Decimal(str(value or 0))
