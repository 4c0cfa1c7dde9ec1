"""Penalty notices (处罚通知单, R-COMP-11): drafted when a substantiated complaint is closed and
the company's penalty table applies; the general manager confirms or waives them; confirmed
ones are listed monthly for HR."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, VersionedMixin, one_of, utcnow
from models.complaint import Complaint
from models.org import Department, User

PENALTY_STATUSES = ["draft", "confirmed", "waived"]
PENALTY_GROUNDS = ["substantiated", "late_staff", "late_manager"]


class PenaltyNotice(VersionedMixin, Base):
    __tablename__ = "penalty_notices"
    __table_args__ = (
        one_of("status", PENALTY_STATUSES, "status_known"),
        CheckConstraint("total_amount >= 0", name="total_nonneg"),
        Index("ix_penalty_notices_status_decided_at", "status", "decided_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaints.id"), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    total_amount: Mapped[Decimal]
    drafted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    waiver_reason: Mapped[str | None] = mapped_column(Text)

    complaint: Mapped[Complaint] = relationship()
    department: Mapped[Department] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    lines: Mapped[list[PenaltyLine]] = relationship(back_populates="notice",
                                                   order_by="PenaltyLine.id")

    def __str__(self) -> str:
        return f"处罚通知单 {self.complaint.number if self.complaint else self.id}"


class PenaltyLine(Base):
    """One person's penalty on a notice and its ground."""

    __tablename__ = "penalty_lines"
    __table_args__ = (
        one_of("ground", PENALTY_GROUNDS, "ground_known"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("penalty_notices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    ground: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]

    notice: Mapped[PenaltyNotice] = relationship(back_populates="lines")
    user: Mapped[User] = relationship()
