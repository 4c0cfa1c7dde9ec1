"""Settings that companies tune (rule thresholds), the working-day calendar, and the
notifications the scheduled command records."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, VersionedMixin, one_of, utcnow


class Setting(VersionedMixin, Base):
    """A named rule threshold; ``value`` is JSON text. Defaults live in ``portal.settings``."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CalendarDay(Base):
    """A day that differs from the weekly pattern: a holiday (节假日) on a weekday, or a
    make-up working day (调休上班日) on a weekend."""

    __tablename__ = "calendar_days"
    __table_args__ = (one_of("kind", ["holiday", "workday"], "kind_known"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str | None] = mapped_column(String(100))


class Notification(Base):
    """An event recorded by the scheduled command or a service, addressed to a user.

    ``message`` is an English msgid and ``params`` its parameters (JSON): the text is
    translated when read, in the reader's language. Rows written before messages had
    parameters have ``params`` NULL and are shown as stored. ``dedupe_key`` makes recording
    idempotent. Written only through ``portal.services.notifications.notify``."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(48), index=True)
    target_type: Mapped[str | None] = mapped_column(String(64))
    target_id: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
