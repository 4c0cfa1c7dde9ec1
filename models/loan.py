"""Borrowing an archive (档案查阅/借阅, R-CUST-9): a person outside an archive's scope reads it
for a short time with the approval of the archive's department manager (or the general
manager)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, VersionedMixin, one_of, utcnow
from models.customer import Customer
from models.enums import LoanStatus
from models.org import User


class ArchiveLoan(VersionedMixin, Base):
    """One request to read one archive, and the loan it becomes once approved.

    ``starts_at``/``ends_at`` are set on approval; the loan gives read access while
    ``status == approved`` and ``starts_at <= now < ends_at`` — the end is compared at read
    time, so no job has to close it. Returning or revoking it ends it before its time."""

    __tablename__ = "archive_loans"
    __table_args__ = (
        one_of("status", LoanStatus, "status_known"),
        CheckConstraint("requested_days >= 1", name="days_positive"),
        CheckConstraint("ends_at IS NULL OR starts_at < ends_at", name="ends_after_start"),
        # the policy's read-time lookup: a borrower's approved loans by end time
        Index("ix_archive_loans_borrower_status_end", "borrower_id", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    borrower_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(300))
    requested_days: Mapped[int] = mapped_column(Integer, default=1)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(16), default=LoanStatus.REQUESTED.value,
                                        index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_reason: Mapped[str | None] = mapped_column(String(300))
    starts_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    end_reason: Mapped[str | None] = mapped_column(String(300))

    customer: Mapped[Customer] = relationship()
    borrower: Mapped[User] = relationship(foreign_keys=[borrower_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    ended_by: Mapped[User | None] = relationship(foreign_keys=[ended_by_id])

    def __str__(self) -> str:
        archive = f"{self.customer.code} {self.customer.name}" if self.customer else ""
        who = self.borrower.full_name if self.borrower is not None else ""
        return f"#{self.id} · {archive} · {who}"
