"""Operational records: uploads staged between a dry run and its confirmation (so any app
server can confirm what another one checked); the outbox of notifications that leave the
building (e-mail, 企业微信, 钉钉) and each person's choice of channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, one_of, utcnow


class ImportStaging(Base):
    """The parsed rows of an uploaded import file, kept until the user confirms or cancels.
    Only the SHA-256 of the token is stored; the token lives in the user's session."""

    __tablename__ = "import_stagings"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class NotificationChannel(Base):
    """A person's choice to also receive one group of events (``complaint``, ``credit``, …, or
    ``*`` for all) on a channel outside the portal. No row: the 待办 inbox only."""

    __tablename__ = "notification_channels"
    __table_args__ = (
        UniqueConstraint("user_id", "channel", "event_group"),
        one_of("channel", ["email", "wecom", "dingtalk"], "channel_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_group: Mapped[str] = mapped_column(String(32))


class OutboxMessage(Base):
    """One notification to deliver on one channel, written in the same transaction as the
    notification (so an event never loses or invents its message). The sender claims a row
    with a lease (``claimed_until``), delivers, and marks it sent; a failure is retried with
    backoff until ``dead``. (notification, channel) is unique: a message is never queued twice.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        one_of("channel", ["email", "wecom", "dingtalk"], "channel_known"),
        one_of("status", ["pending", "sending", "sent", "failed", "dead"], "status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_outbox_messages_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id",
                                                            ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
