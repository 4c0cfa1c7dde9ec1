"""Operational records: uploads staged between a dry run and its confirmation (so any app
server can confirm what another one checked)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, utcnow


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
