"""Complaints (客户投诉) with their workflow events, reminders and the monthly number counter."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, VersionedMixin, one_of, utcnow
from models.customer import Customer
from models.enums import (
    ComplaintCause,
    ComplaintChannel,
    ComplaintStatus,
    ComplaintType,
    Severity,
)
from models.org import Department, User


class Complaint(VersionedMixin, TimestampMixin, Base):
    """A complaint, inquiry or suggestion. ``received_by`` is the first responder (首问责任人,
    R-COMP-4); ``accused_user`` may never handle, approve or close it (R-COMP-5)."""

    __tablename__ = "complaints"
    __table_args__ = (
        one_of("channel", ComplaintChannel, "channel_known"),
        one_of("type", ComplaintType, "type_known"),
        one_of("cause", ComplaintCause, "cause_known"),
        one_of("severity", Severity, "severity_known"),
        one_of("status", ComplaintStatus, "status_known"),
        CheckConstraint("compensation_amount >= 0", name="compensation_nonneg"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5",
                        name="satisfaction_range"),
        CheckConstraint("fault_cause IS NULL OR fault_cause IN ('quality', 'non_quality')",
                        name="fault_cause_known"),
        Index("ix_complaints_status_deadline_at", "status", "deadline_at"),
        Index("ix_complaints_registered_at", "registered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8), default=Severity.GENERAL.value)
    major_reason: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    accused_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    responsible_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"),
                                                           index=True)
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ComplaintStatus.REGISTERED.value)
    registered_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime]
    extended: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    extension_reason: Mapped[str | None] = mapped_column(Text)
    escalated_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Text)
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    compensation_amount: Mapped[Decimal] = mapped_column(default=Decimal("0"),
                                                         server_default="0")
    compensation_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    closed_at: Mapped[datetime | None]
    retain_until: Mapped[datetime | None]
    # R-COMP-11: whose fault it was (recorded on closing a substantiated complaint only)
    fault_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"),
                                                            index=True)
    fault_team: Mapped[str | None] = mapped_column(String(100))
    fault_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    fault_cause: Mapped[str | None] = mapped_column(String(16))

    customer: Mapped[Customer] = relationship()
    accused_user: Mapped[User | None] = relationship(foreign_keys=[accused_user_id])
    received_by: Mapped[User] = relationship(foreign_keys=[received_by_id])
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    responsible_department: Mapped[Department] = relationship(
        foreign_keys=[responsible_department_id])
    fault_department: Mapped[Department | None] = relationship(
        foreign_keys=[fault_department_id])
    fault_user: Mapped[User | None] = relationship(foreign_keys=[fault_user_id])
    events: Mapped[list[ComplaintEvent]] = relationship(
        back_populates="complaint", order_by="ComplaintEvent.id")
    reminders: Mapped[list[ComplaintReminder]] = relationship(
        back_populates="complaint", order_by="ComplaintReminder.id")

    def __str__(self) -> str:
        return self.number


class ComplaintEvent(Base):
    """One workflow step (R-COMP-6): who moved it from which state to which, and when."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    complaint: Mapped[Complaint] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ComplaintReminder(Base):
    """A reminder (催办单) recorded for an overdue complaint (R-COMP-7)."""

    __tablename__ = "complaint_reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)

    complaint: Mapped[Complaint] = relationship(back_populates="reminders")


class ComplaintCounter(Base):
    """Last serial used in a month (``YYMM``); incremented under a row lock so numbers are
    unique and gap-free within a month (R-COMP-1)."""

    __tablename__ = "complaint_counters"
    __table_args__ = (CheckConstraint("last_serial >= 0", name="serial_nonneg"),)

    period: Mapped[str] = mapped_column(String(4), primary_key=True)
    last_serial: Mapped[int] = mapped_column(Integer, default=0)
