"""Reception records (接待 / 来人来电登记) and the daily rotation (轮流接待)."""

from __future__ import annotations

from datetime import date, datetime

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, VersionedMixin, one_of, utcnow
from models.customer import Customer
from models.enums import ReceptionKind, ReceptionOutcome, Venue, VisitorClass
from models.org import Branch, User


class ReceptionRecord(VersionedMixin, TimestampMixin, Base):
    """One visit or call. ``assigned_to`` is who serves the visitor (rotation or named)."""

    __tablename__ = "reception_records"
    __table_args__ = (
        one_of("kind", ReceptionKind, "kind_known"),
        one_of("visitor_class", VisitorClass, "class_known"),
        one_of("venue", Venue, "venue_known"),
        one_of("outcome", ReceptionOutcome, "outcome_known"),
        CheckConstraint("departed_at IS NULL OR departed_at >= arrived_at",
                        name="departure_after_arrival"),
        Index("ix_reception_records_branch_id_arrived_at", "branch_id", "arrived_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    visitor_class: Mapped[str] = mapped_column(String(1), default=VisitorClass.GENERAL.value)
    venue: Mapped[str] = mapped_column(String(16), default=Venue.LOUNGE.value)
    visitor_name: Mapped[str] = mapped_column(String(100))
    visitor_company: Mapped[str | None] = mapped_column(String(200))
    visitor_phone: Mapped[str | None] = mapped_column(String(32))
    purpose: Mapped[str | None] = mapped_column(Text)
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow)
    departed_at: Mapped[datetime | None]
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    received_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    designated_staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    is_returning: Mapped[bool] = mapped_column(Boolean, default=False,
                                               server_default=text("false"))
    used_rotation_turn: Mapped[bool] = mapped_column(Boolean, default=False,
                                                     server_default=text("false"))
    # R-CUST-3: entered by the front desk or a supervisor on the day of the visit (or by a
    # supervisor for another day): only such records are first-visit evidence.
    counts_as_evidence: Mapped[bool] = mapped_column(Boolean, default=False,
                                                     server_default=text("false"))
    outcome: Mapped[str] = mapped_column(String(16), default=ReceptionOutcome.PENDING.value)

    branch: Mapped[Branch] = relationship()
    received_by: Mapped[User] = relationship(foreign_keys=[received_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])
    designated_staff: Mapped[User | None] = relationship(foreign_keys=[designated_staff_id])
    customer: Mapped[Customer | None] = relationship()

    def __str__(self) -> str:
        return f"{self.visitor_name} {self.arrived_at:%Y-%m-%d %H:%M}"


class RotationSlot(Base):
    """A salesperson's place in a branch's rotation on one day.

    ``owed_turns`` counts turns missed while away; they are served first when back (R-RECV-1).
    """

    __tablename__ = "rotation_slots"
    __table_args__ = (
        UniqueConstraint("branch_id", "day", "user_id", name="uq_rotation_slots_branch_day_user"),
        CheckConstraint("owed_turns >= 0", name="owed_nonneg"),
        CheckConstraint("turns_taken >= 0", name="taken_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id"))
    day: Mapped[date] = mapped_column(Date)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    position: Mapped[int] = mapped_column(Integer)
    available: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    turns_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    owed_turns: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Out on an approved, registered business go-out (外出申请): missed turns are owed back.
    approved_go_out: Mapped[bool] = mapped_column(Boolean, default=False,
                                                  server_default=text("false"))

    user: Mapped[User] = relationship()
