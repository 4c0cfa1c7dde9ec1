"""Credit (客户信用): evaluations, credit lines with their approval chain, over-limit approvals
and the monthly execution reviews."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, VersionedMixin, one_of, utcnow
from models.customer import Customer
from models.enums import (
    CapitalStrength,
    CreditLineKind,
    CreditLineStatus,
    Quality3,
    Rating,
)
from models.org import User


class CreditEvaluation(VersionedMixin, TimestampMixin, Base):
    """客户信用评定表. ``rating`` and ``rating_reason`` are computed by the credit service from
    the answers (R-CRED-1..3) and stored with the evaluation they came from."""

    __tablename__ = "credit_evaluations"
    __table_args__ = (
        one_of("promise_keeping", Quality3, "promise_known"),
        one_of("operating_condition", Quality3, "operating_known"),
        one_of("capital_strength", CapitalStrength, "capital_known"),
        one_of("rating", Rating, "rating_known"),
        CheckConstraint("years_of_cooperation >= 0", name="years_nonneg"),
        CheckConstraint("avg_monthly_shipments >= 0", name="shipments_nonneg"),
        CheckConstraint("avg_monthly_receipts >= 0", name="receipts_nonneg"),
        CheckConstraint("collateral_value >= 0", name="collateral_nonneg"),
        Index("ix_credit_evaluations_customer_id_evaluated_at", "customer_id", "evaluated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    years_of_cooperation: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    bad_debt_2y: Mapped[bool] = mapped_column(Boolean, default=False)
    promise_keeping: Mapped[str] = mapped_column(String(8), default=Quality3.GOOD.value)
    debt_disputes: Mapped[bool] = mapped_column(Boolean, default=False)
    capital_strength: Mapped[str] = mapped_column(String(8), default=CapitalStrength.MEDIUM.value)
    operating_condition: Mapped[str] = mapped_column(String(8), default=Quality3.FAIR.value)
    serious_decline: Mapped[bool] = mapped_column(Boolean, default=False)
    illegal_operation: Mapped[bool] = mapped_column(Boolean, default=False)
    ordered_to_stop: Mapped[bool] = mapped_column(Boolean, default=False)
    accounts_frozen_risk: Mapped[bool] = mapped_column(Boolean, default=False)
    avg_monthly_shipments: Mapped[Decimal | None]
    avg_monthly_receipts: Mapped[Decimal | None]
    receipts_meet_standard: Mapped[bool] = mapped_column(Boolean, default=False)
    collateral_value: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    rating: Mapped[str] = mapped_column(String(1))
    rating_reason: Mapped[str] = mapped_column(Text)
    evaluated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    evaluated_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship()
    evaluated_by: Mapped[User | None] = relationship()

    def __str__(self) -> str:
        return f"{self.rating} @ {self.evaluated_at:%Y-%m-%d}"


class CreditLine(VersionedMixin, TimestampMixin, Base):
    """授信: a credit limit and payment term. Only an ``approved`` line is in force (R-CRED-5)."""

    __tablename__ = "credit_lines"
    __table_args__ = (
        one_of("kind", CreditLineKind, "kind_known"),
        one_of("status", CreditLineStatus, "status_known"),
        CheckConstraint("limit_amount >= 0", name="limit_nonneg"),
        CheckConstraint("term_days > 0", name="term_positive"),
        CheckConstraint("collateral_value >= 0", name="collateral_nonneg"),
        Index("ix_credit_lines_customer_id_status", "customer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("credit_evaluations.id"))
    kind: Mapped[str] = mapped_column(String(16))
    limit_amount: Mapped[Decimal]
    term_days: Mapped[int] = mapped_column(Integer)
    collateral_value: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    status: Mapped[str] = mapped_column(String(16), default=CreditLineStatus.PROPOSED.value)
    is_raise: Mapped[bool] = mapped_column(Boolean, default=False)
    raise_reason: Mapped[str | None] = mapped_column(Text)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None]
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)

    customer: Mapped[Customer] = relationship()
    evaluation: Mapped[CreditEvaluation] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    approvals: Mapped[list[CreditApproval]] = relationship(
        back_populates="credit_line", order_by="CreditApproval.id")

    def __str__(self) -> str:
        """Language-neutral: the customer and the limit (the status is shown as a badge)."""
        amount = f"¥{self.limit_amount:,.2f}" if self.limit_amount is not None else ""
        return f"{self.customer} · {amount}" if self.customer is not None else amount


class CreditApproval(Base):
    """One step of the approval chain: propose, review, approve or reject."""

    __tablename__ = "credit_approvals"
    __table_args__ = (one_of("step", ["propose", "review", "approve", "reject"], "step_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_line_id: Mapped[int] = mapped_column(ForeignKey("credit_lines.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    credit_line: Mapped[CreditLine] = relationship(back_populates="approvals")
    actor: Mapped[User] = relationship()


class OverLimitApproval(Base):
    """A formal approval to exceed the credit limit in force, up to ``amount`` (R-CRED-8)."""

    __tablename__ = "over_limit_approvals"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount: Mapped[Decimal]
    reason: Mapped[str] = mapped_column(Text)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)
    valid_until: Mapped[datetime]


class CreditUsageReview(Base):
    """授信额度执行评价: the monthly record of how a credit line was used (R-CRED-7)."""

    __tablename__ = "credit_usage_reviews"
    __table_args__ = (
        UniqueConstraint("customer_id", "month", name="uq_credit_usage_reviews_customer_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    month: Mapped[str] = mapped_column(String(7))
    limit_amount: Mapped[Decimal]
    outstanding_balance: Mapped[Decimal]
    usage_ratio: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
