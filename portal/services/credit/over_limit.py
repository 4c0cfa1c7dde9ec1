"""Credit balance against the line in force: over-limit approvals, transactions and the
over-limit list (R-CRED-8)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from models import CreditLine, Customer, CustomerTransaction, OverLimitApproval, User
from models.enums import CreditLineStatus, TransactionKind
from portal import audit, clock, policy
from portal.services import calendar, credit_reads
from portal.services.credit._common import ZERO
from portal.services.credit.lines import in_force_clause, line_in_force
from portal.services.credit.rating import _amount
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import load, verb

# ---------------------------------------------------------------------------------------------
# R-CRED-8: balance, over-limit approvals, the over-limit list
# ---------------------------------------------------------------------------------------------


def valid_over_limit_approval(session: Session, customer_id: int, excess: Decimal,
                              now: datetime) -> OverLimitApproval | None:
    return session.scalar(select(OverLimitApproval).where(
        OverLimitApproval.customer_id == customer_id, OverLimitApproval.valid_until >= now,
        OverLimitApproval.amount >= excess).order_by(OverLimitApproval.amount.desc()).limit(1))


@verb
def approve_over_limit(session: Session, actor: User, customer_id: int, amount: Any,
                       reason: str, valid_days: Any = 30) -> OverLimitApproval:
    """A formal approval to exceed the line in force by up to ``amount`` (R-CRED-8)."""
    customer = load(session, actor, Customer, customer_id, "customer.view")
    if not policy.can(actor, "credit.approve_over_limit", customer):
        raise PermissionDenied("credit.approve_over_limit", customer)
    value = _amount(amount, "amount", positive=True)
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(N_("Say why the limit may be exceeded."), field="reason")
    try:
        days = int(valid_days)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Enter a number of days."), field="valid_days") from None
    if not 1 <= days <= 366:
        raise ValidationFailed(N_("Enter 1 to 366 days."), field="valid_days")
    now = clock.now()
    ola = OverLimitApproval(customer_id=customer.id, amount=value, reason=text,
                            approved_by_id=actor.id, approved_at=now,
                            valid_until=now + timedelta(days=days))
    session.add(ola)
    session.flush()
    audit.record(session, actor, "credit.approve_over_limit", ola, after=audit.snapshot(ola))
    return ola


@verb
def record_transaction(session: Session, actor: User, customer_id: int, kind: str, amount: Any,
                       reference: str | None = None, delivery_deadline: Any = None
                       ) -> CustomerTransaction:
    """Record a credit sale (``order``, 赊销: raises the outstanding balance, due on the sale
    date + the line's term), a receipt (``payment``: settles open sales oldest first), a
    prepayment to a supplier (``prepayment``, 预付: due on its ``delivery_deadline`` 到货期限)
    or a delivery against prepayments (``delivery``: settles them oldest first).

    A sale or prepayment beyond the line in force is refused unless a valid over-limit
    approval covers the excess (R-CRED-8); while the customer has anything past due, it is
    refused unless a valid over-limit approval covers its amount (R-CRED-9)."""
    from portal.services import receivables as rc

    customer = load(session, actor, Customer, customer_id, "customer.view")
    if not policy.can(actor, "credit.record_transaction", customer):
        raise PermissionDenied("credit.record_transaction", customer)
    if kind not in [k.value for k in TransactionKind]:
        raise ValidationFailed(N_("Choose a credit sale, a receipt, a prepayment or a "
                                  "delivery."), field="kind")
    value = _amount(amount, "amount", positive=True)
    # Serialise balance changes of one customer (row lock on PostgreSQL).
    customer = session.scalar(select(Customer).where(Customer.id == customer.id)
                              .with_for_update().execution_options(populate_existing=True))
    before = {"outstanding_balance": customer.outstanding_balance}
    balance = customer.outstanding_balance or ZERO
    now = clock.now()
    today = calendar.company_date(now)
    approval = None
    deadline = None
    grows = kind in (TransactionKind.ORDER.value, TransactionKind.PREPAYMENT.value)
    if kind == TransactionKind.PREPAYMENT.value:
        deadline = rc.check_prepayment(customer, rc.parse_deadline(delivery_deadline), today)
    if grows:
        freeze = rc.check_freeze(session, customer, value, today, lambda a: (
            valid_over_limit_approval(session, customer.id, a, now)))
        new_balance = balance + value
        line = line_in_force(session, customer.id)
        limit = line.limit_amount if line else ZERO
        approval = freeze
        if new_balance > limit:
            approval = valid_over_limit_approval(
                session, customer.id, max(new_balance - limit, value if freeze else ZERO),
                now)
            if approval is None:
                raise RuleViolation(
                    N_("This order would bring the outstanding balance to %(balance)s, above "
                       "the credit limit in force (%(limit)s), and no over-limit approval "
                       "covers it."), rule="R-CRED-8", field="amount", balance=new_balance,
                    limit=limit)
    tx = CustomerTransaction(customer_id=customer.id, kind=kind, amount=value,
                             reference=(reference or "").strip()[:64] or None,
                             recorded_by_id=actor.id, recorded_at=now,
                             over_limit_approval_id=approval.id if approval else None)
    session.add(tx)
    session.flush()
    if grows:
        item_kind = rc.PREPAYMENT if kind == TransactionKind.PREPAYMENT.value else rc.CREDIT_SALE
        rc.book(session, customer, tx, item_kind, today, deadline)
    else:
        unitemised = max(ZERO, balance - rc.open_total(session, customer.id))
        item_kind = rc.CREDIT_SALE if kind == TransactionKind.PAYMENT.value else rc.PREPAYMENT
        applied = rc.settle_fifo(session, customer, tx, item_kind, today)
        applied += min(unitemised, value - applied)  # balances older than the open items
        new_balance = max(ZERO, balance - applied)
    customer.outstanding_balance = new_balance
    customer.updated_at = now
    session.flush()
    audit.record(session, actor, "credit.record_transaction", customer, before=before,
                 after={"outstanding_balance": new_balance, "transaction": tx.id, "kind": kind,
                        "amount": value, "delivery_deadline": deadline,
                        "over_limit_approval": approval.id if approval else None})
    return tx


def limit_in_force_sql(today: date) -> Any:
    """The customer's credit limit in force (the largest of its lines in force; 0 without
    one), as a correlated scalar over ``Customer``."""
    return func.coalesce(select(func.max(CreditLine.limit_amount))
                         .where(CreditLine.customer_id == Customer.id, in_force_clause(today))
                         .correlate(Customer).scalar_subquery(), 0)


def over_limit_sql(today: date | None = None) -> ColumnElement[bool]:
    """超额度 (R-CRED-8): the outstanding balance is above the limit in force."""
    return Customer.outstanding_balance > limit_in_force_sql(today or clock.today())


def is_over_limit(session: Session, customer: Customer, today: date | None = None) -> bool:
    """Python twin of ``over_limit_sql``: the lines the user sees as approved (in force,
    ``line_state``) give the limit."""
    from portal.services.credit.lines import line_state

    today = today or clock.today()
    lines = session.scalars(select(CreditLine).where(CreditLine.customer_id == customer.id))
    limits = [line.limit_amount for line in lines
              if line_state(session, line, today) == CreditLineStatus.APPROVED.value]
    return Decimal(str(customer.outstanding_balance or 0)) > max(limits, default=ZERO)


def _limit_subquery(today: date):
    return (select(CreditLine.customer_id, func.max(CreditLine.limit_amount).label("limit"))
            .where(in_force_clause(today))
            .group_by(CreditLine.customer_id).subquery())


def over_limit_rows(session: Session, actor: User | None = None, today: date | None = None
                    ) -> list[dict[str, Any]]:
    """Customers whose outstanding balance is above the limit in force (no line = limit 0),
    restricted to the actor's ``credit.view`` scope (all when ``actor`` is None: system)."""
    today = today or clock.today()
    lim = _limit_subquery(today)
    limit_col = func.coalesce(lim.c.limit, 0)
    stmt = (select(Customer, limit_col.label("limit"))
            .outerjoin(lim, lim.c.customer_id == Customer.id)
            .where(over_limit_sql(today))
            .order_by((Customer.outstanding_balance - limit_col).desc(), Customer.id))
    if actor is not None:
        stmt = policy.scope(stmt, actor, Customer, "credit.view")
    rows = []
    for customer, limit in session.execute(stmt).all():
        limit = Decimal(str(limit or 0))
        rows.append({"customer": customer, "customer_id": customer.id, "code": customer.code,
                     "name": customer.name, "owner_id": customer.owner_id,
                     "outstanding_balance": customer.outstanding_balance, "limit": limit,
                     "excess": customer.outstanding_balance - limit})
    return rows


@verb
def over_limit_customers(session: Session, actor: User) -> list[dict[str, Any]]:
    """R-CRED-8: customers above their limit, for collection (scoped; the read is audited)."""
    if not policy.can(actor, "credit.view"):
        raise PermissionDenied("credit.view", "over_limit_customers")
    rows = over_limit_rows(session, actor)
    credit_reads.record_report_read(
        session, actor, "over_limit_customers", (("Customer", r["customer_id"]) for r in rows),
        f"{len(rows)} customers listed")
    return rows
