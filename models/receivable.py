"""Receivables discipline (R-CRED-9, R-CRED-10): every credit sale (赊销) and every prepayment
to a supplier (预付) is an open item with a due date; receipts and deliveries settle the oldest
items first. Ages are derived at read time from ``due_on`` (never stored). The monthly
《预付、赊销客户汇总表》 is approved by the general manager."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, VersionedMixin, one_of, utcnow
from models.customer import Customer, CustomerTransaction
from models.org import User

RECEIVABLE_KINDS = ["credit_sale", "prepayment"]
SUMMARY_STATUSES = ["submitted", "approved"]


class Receivable(Base):
    """An open item: a credit sale (due on sale date + the line's term) or a prepayment to a
    supplier (due on its delivery deadline 到货期限). ``open_amount`` is what is still unpaid
    (credit sale) or undelivered (prepayment)."""

    __tablename__ = "receivables"
    __table_args__ = (
        one_of("kind", RECEIVABLE_KINDS, "kind_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("open_amount >= 0", name="open_nonneg"),
        CheckConstraint("open_amount <= amount", name="open_le_amount"),
        CheckConstraint("due_on >= booked_on", name="due_after_booking"),
        Index("ix_receivables_customer_id_due_on", "customer_id", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    transaction_id: Mapped[int] = mapped_column(ForeignKey("customer_transactions.id"),
                                                unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]
    open_amount: Mapped[Decimal]
    booked_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    term_days: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    transaction: Mapped[CustomerTransaction] = relationship()


class ReceivableSettlement(Base):
    """How much of a receipt (or a delivery) went to which open item (FIFO, R-CRED-9)."""

    __tablename__ = "receivable_settlements"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receivable_id: Mapped[int] = mapped_column(ForeignKey("receivables.id"), index=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("customer_transactions.id"),
                                                index=True)
    amount: Mapped[Decimal]
    settled_on: Mapped[date] = mapped_column(Date)

    receivable: Mapped[Receivable] = relationship()


class CreditSummaryApproval(VersionedMixin, Base):
    """《预付、赊销客户汇总表》 of one month: submitted by finance with its totals, approved by
    the general manager with a comment (R-CRED-10)."""

    __tablename__ = "credit_summary_approvals"
    __table_args__ = (
        one_of("status", SUMMARY_STATUSES, "status_known"),
        CheckConstraint("total_balance >= 0", name="balance_nonneg"),
        CheckConstraint("total_past_due >= 0", name="past_due_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted")
    customer_count: Mapped[int] = mapped_column(Integer)
    total_limit: Mapped[Decimal]
    total_balance: Mapped[Decimal]
    total_past_due: Mapped[Decimal]
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    comment: Mapped[str | None] = mapped_column(Text)

    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    def __str__(self) -> str:
        return f"《预付、赊销客户汇总表》 {self.month}"
