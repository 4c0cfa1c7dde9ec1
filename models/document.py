"""Confidential files (保密文件): level, knowledge scope, copy requests and level changes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, VersionedMixin, one_of, utcnow
from models.customer import Customer
from models.enums import CopyRequestStatus, Level
from models.org import Department, User

LEVEL_RANGE = f"BETWEEN {Level.PUBLIC.value} AND {Level.TOP_SECRET.value}"


class ConfidentialFile(VersionedMixin, TimestampMixin, Base):
    """A stored file with its classification level (密级). The content lives in storage under
    ``sha256``; ``secrecy_until`` is the 保密期限 after which the file reads as public unless
    extended (R-FILE-4)."""

    __tablename__ = "confidential_files"
    __table_args__ = (
        CheckConstraint(f"level {LEVEL_RANGE}", name="level_range"),
        CheckConstraint("size_bytes >= 0", name="size_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    responsible_manager_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    level: Mapped[int] = mapped_column(Integer, index=True)
    original_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    secrecy_until: Mapped[date | None] = mapped_column(Date, index=True)
    declassified_at: Mapped[datetime | None]

    customer: Mapped[Customer | None] = relationship()
    department: Mapped[Department | None] = relationship()
    responsible_manager: Mapped[User | None] = relationship(foreign_keys=[responsible_manager_id])
    uploaded_by: Mapped[User] = relationship(foreign_keys=[uploaded_by_id])
    scope_members: Mapped[list[FileScopeMember]] = relationship(back_populates="file")

    def __str__(self) -> str:
        return self.title


class FileScopeMember(Base):
    """A person added to a file's knowledge scope (知悉范围, R-FILE-2)."""

    __tablename__ = "file_scope_members"
    __table_args__ = (UniqueConstraint("file_id", "user_id", name="uq_file_scope_members_file_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("confidential_files.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    added_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    file: Mapped[ConfidentialFile] = relationship(back_populates="scope_members")
    user: Mapped[User] = relationship(foreign_keys=[user_id])


class CopyRequest(VersionedMixin, Base):
    """A request to copy (download, export, print) a classified file (复制审批, R-FILE-3).
    An approval yields a one-time, short-lived download; only the token's hash is stored."""

    __tablename__ = "copy_requests"
    __table_args__ = (one_of("status", CopyRequestStatus, "status_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("confidential_files.id"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CopyRequestStatus.PENDING.value)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]

    file: Mapped[ConfidentialFile] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def __str__(self) -> str:
        """No file title here (it may be classified): the number and the requester."""
        who = self.requested_by.full_name if self.requested_by is not None else ""
        return f"#{self.id} · {who}"


class FileLevelChange(Base):
    """Reclassification, extension of the secrecy period, or automatic declassification."""

    __tablename__ = "file_level_changes"
    __table_args__ = (
        one_of("kind", ["reclassify", "extend", "declassify"], "kind_known"),
        CheckConstraint(f"from_level {LEVEL_RANGE}", name="from_level_range"),
        CheckConstraint(f"to_level {LEVEL_RANGE}", name="to_level_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("confidential_files.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    from_level: Mapped[int] = mapped_column(Integer)
    to_level: Mapped[int] = mapped_column(Integer)
    new_secrecy_until: Mapped[date | None] = mapped_column(Date)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text)
