"""Two-person actions (R-ROLE-2: 三员相互制约): an action on an administrator's account that
one administrator requests and a second of the three confirms before it is carried out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, VersionedMixin, one_of, utcnow
from models.org import User

PENDING_STATUSES = ["pending", "confirmed", "refused", "cancelled"]


class PendingAction(VersionedMixin, Base):
    """``kind`` names the action (``user.reset_password``, ``user.deactivate``,
    ``user.reactivate``; later kinds reuse the table); ``params`` holds what the action needs
    as JSON (never a plain password: a reset carries the new password's hash). An expired
    request is derived at read time (``expires_at`` passed while pending)."""

    __tablename__ = "pending_actions"
    __table_args__ = (
        one_of("status", PENDING_STATUSES, "status_known"),
        Index("ix_pending_actions_status_target", "status", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(48))
    target_type: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int] = mapped_column()
    params: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending",
                                        server_default="pending")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)

    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __str__(self) -> str:
        return f"{self.kind} #{self.id}"
