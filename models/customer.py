"""Customer archive (客户档案) and what hangs off it: contacts, owner history, follow-ups,
field corrections and balance transactions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, VersionedMixin, one_of, utcnow
from models.enums import (
    CorrectionStatus,
    CustomerKind,
    CustomerSource,
    CustomerStatus,
    FollowUpKind,
    Importance,
    Intent,
    TransactionKind,
)
from models.org import Branch, Department, User


class Customer(VersionedMixin, TimestampMixin, Base):
    """One archive per customer (一户一档). Archives are never deleted, only closed.

    ``ownership_expires_at`` is the end of the 建档有效期 (NULL once a deal made it permanent);
    the ``*_normalized`` columns carry the keys duplicate detection compares.
    """

    __tablename__ = "customers"
    __table_args__ = (
        one_of("kind", CustomerKind, "kind_known"),
        one_of("source", CustomerSource, "source_known"),
        one_of("importance", Importance, "importance_known"),
        one_of("intent", Intent, "intent_known"),
        one_of("status", CustomerStatus, "status_known"),
        CheckConstraint("outstanding_balance >= 0", name="balance_nonneg"),
        Index("ix_customers_branch_id_id", "branch_id", "id"),
        Index("ix_customers_department_id_id", "department_id", "id"),
        Index("ix_customers_owner_id_id", "owner_id", "id"),
        # prefix search (LIKE 'x%') on PostgreSQL under any collation: migration 0003
        Index("ix_customers_name_normalized_prefix", "name_normalized",
              postgresql_ops={"name_normalized": "varchar_pattern_ops"}),
        Index("ix_customers_code_prefix", "code", postgresql_ops={"code": "varchar_pattern_ops"}),
        Index("uq_customers_credit_code_normalized", "credit_code_normalized", unique=True,
              sqlite_where=text("credit_code_normalized IS NOT NULL"),
              postgresql_where=text("credit_code_normalized IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_normalized: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16), default=CustomerKind.END.value)
    special_category: Mapped[str | None] = mapped_column(String(32))
    phone: Mapped[str | None] = mapped_column(String(32))
    phone_normalized: Mapped[str | None] = mapped_column(String(32), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(32))
    credit_code_normalized: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16), default=CustomerSource.WALK_IN.value)
    importance: Mapped[str] = mapped_column(String(1), default=Importance.C.value)
    intent: Mapped[str] = mapped_column(String(8), default=Intent.WARM.value)
    status: Mapped[str] = mapped_column(String(16), default=CustomerStatus.PROSPECT.value,
                                        index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    registered_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    first_contact_at: Mapped[datetime | None]
    ownership_expires_at: Mapped[datetime | None] = mapped_column(index=True)
    deal_at: Mapped[datetime | None]
    last_service_at: Mapped[datetime | None] = mapped_column(index=True)
    outstanding_balance: Mapped[Decimal] = mapped_column(default=Decimal("0"),
                                                         server_default="0")
    transaction_summary: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    branch: Mapped[Branch] = relationship()
    department: Mapped[Department] = relationship()
    referrer: Mapped[Customer | None] = relationship(remote_side=[id])
    contacts: Mapped[list[CustomerContact]] = relationship(
        back_populates="customer", order_by="CustomerContact.id")
    owner_changes: Mapped[list[OwnerChange]] = relationship(
        back_populates="customer", order_by="OwnerChange.id")
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="customer", order_by="FollowUp.happened_at")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CustomerContact(Base):
    """A contact person of a customer (联系人)."""

    __tablename__ = "customer_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    is_primary: Mapped[bool] = mapped_column(default=False, server_default=text("false"))

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    def __str__(self) -> str:
        return self.name


class OwnerChange(Base):
    """Every change of owner (R-CUST-7): who, when, from, to, why. Never updated or deleted."""

    __tablename__ = "owner_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    from_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(String(300))

    customer: Mapped[Customer] = relationship(back_populates="owner_changes")
    from_user: Mapped[User | None] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User | None] = relationship(foreign_keys=[to_user_id])
    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])


class FollowUp(Base):
    """A follow-up (回访 / 跟进): call, visit, message or invitation."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        one_of("kind", FollowUpKind, "kind_known"),
        Index("ix_follow_ups_customer_id_happened_at", "customer_id", "happened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    happened_at: Mapped[datetime] = mapped_column(default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text)
    next_due_at: Mapped[datetime | None]
    # 下次回访日期 the salesperson agreed with the customer (company date); never later than the
    # rules' deadline ``next_due_at``. The customer is 待回访 from that day.
    planned_next_on: Mapped[date | None]

    customer: Mapped[Customer] = relationship(back_populates="follow_ups")
    user: Mapped[User] = relationship()


class CustomerCorrection(Base):
    """A corrected field keeps its previous value (R-CUST-8: 原始档案不可修改)."""

    __tablename__ = "customer_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    field: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)


class CorrectionRequest(VersionedMixin, Base):
    """更正申请 (R-CUST-8): a change to the original fields of a dealt or closed archive waits
    for the department manager's consent; ``changes`` is JSON {field: new value}."""

    __tablename__ = "correction_requests"
    __table_args__ = (one_of("status", CorrectionStatus, "status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    changes: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(16), default=CorrectionStatus.PENDING.value,
                                        index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(String(300))

    customer: Mapped[Customer] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __str__(self) -> str:
        """The number, the archive and the requester (what a decider picks it by)."""
        archive = f"{self.customer.code} {self.customer.name}" if self.customer else ""
        who = self.requested_by.full_name if self.requested_by is not None else ""
        return f"#{self.id} · {archive} · {who}"


class CustomerTransaction(Base):
    """An order (raises the outstanding balance) or a payment (lowers it), R-CRED-8."""

    __tablename__ = "customer_transactions"
    __table_args__ = (
        one_of("kind", TransactionKind, "kind_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]
    reference: Mapped[str | None] = mapped_column(String(64))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    over_limit_approval_id: Mapped[int | None] = mapped_column(
        ForeignKey("over_limit_approvals.id"))
