"""Organisation: departments, branches, users, role assignments, grants and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, VersionedMixin, one_of, utcnow
from models.enums import Level, Role, Scope

ADMIN_ROLES = (Role.SYSADMIN, Role.SECADMIN, Role.SECAUDITOR)
_admin_roles_sql = "role IN ('sysadmin', 'secadmin', 'secauditor')"


class Department(VersionedMixin, TimestampMixin, Base):
    """部门 / 事业部: the unit a manager's scope covers."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))

    branches: Mapped[list[Branch]] = relationship(back_populates="department")

    def __str__(self) -> str:
        return self.name


class Branch(VersionedMixin, TimestampMixin, Base):
    """门店 / 展厅: a showroom inside a department; a supervisor's scope."""

    __tablename__ = "branches"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)

    department: Mapped[Department] = relationship(back_populates="branches")

    def __str__(self) -> str:
        return self.name


class User(VersionedMixin, TimestampMixin, Base):
    """A member of staff. ``session_version`` is bumped to invalidate every cookie and token."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"clearance BETWEEN {Level.PUBLIC.value} AND {Level.TOP_SECRET.value}",
                        name="clearance_range"),
        CheckConstraint("failed_logins >= 0", name="failed_logins_nonneg"),
        one_of("language", ["zh_Hans_CN", "en"], "language_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branches.id"), index=True)
    clearance: Mapped[int] = mapped_column(Integer, default=Level.INTERNAL.value,
                                           server_default=str(Level.INTERNAL.value))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    on_leave: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # R-ROLE-6: when the password was last set, and whether the holder must choose a new one
    # at the next sign-in (created or reset by an administrator).
    password_changed_at: Mapped[datetime | None]
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=text("false"))
    language: Mapped[str] = mapped_column(String(16), default="zh_Hans_CN",
                                          server_default="zh_Hans_CN")

    department: Mapped[Department | None] = relationship()
    branch: Mapped[Branch | None] = relationship()
    role_assignments: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", foreign_keys="RoleAssignment.user_id",
        order_by="RoleAssignment.id")

    @property
    def roles(self) -> frozenset[str]:
        """The roles in force (granted and not revoked)."""
        return frozenset(a.role for a in self.role_assignments if a.revoked_at is None)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __str__(self) -> str:
        return f"{self.full_name} ({self.username})"


class RoleAssignment(Base):
    """A role granted to a user. Rows are never deleted: revoking sets ``revoked_at``.

    三员分立 (R-ROLE-2) is also kept by the database: a partial unique index allows at most one
    active administrator role (sysadmin, secadmin, secauditor) per user.
    """

    __tablename__ = "role_assignments"
    __table_args__ = (
        one_of("role", Role, "role_known"),
        Index("uq_role_assignments_one_admin_role", "user_id", unique=True,
              sqlite_where=text(f"{_admin_roles_sql} AND revoked_at IS NULL"),
              postgresql_where=text(f"{_admin_roles_sql} AND revoked_at IS NULL")),
        Index("uq_role_assignments_active_role", "user_id", "role", unique=True,
              sqlite_where=text("revoked_at IS NULL"),
              postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="role_assignments", foreign_keys=[user_id])


class Grant(VersionedMixin, Base):
    """Role → area → action → scope (R-ROLE-5). Grants are data; scopes are code in the policy."""

    __tablename__ = "grants"
    __table_args__ = (
        UniqueConstraint("role", "area", "action", name="uq_grants_role_area_action"),
        one_of("role", Role, "role_known"),
        one_of("scope", Scope, "scope_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(32), index=True)
    area: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    scope: Mapped[str] = mapped_column(String(16))

    def __str__(self) -> str:
        return f"{self.role}: {self.area}.{self.action} ({self.scope})"


class ApiToken(Base):
    """A personal API token for the GraphQL API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class PasswordHistory(Base):
    """R-ROLE-6: hashes of a user's earlier passwords, so the last few are not chosen again.
    Internal to the password service: no page, no API, never shown."""

    __tablename__ = "password_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TwoFactor(Base):
    """R-ROLE-6: a user's second factor (TOTP, RFC 6238). Internal to the two-factor service:
    no list page, no API field, never shown after enrolment.

    ``secret`` is the base32 TOTP secret encrypted with the application's two-factor key
    (``portal/services/secret_box.py``); ``enrolled_at`` stays empty until the holder has
    confirmed the secret with a first code; ``last_step`` is the RFC 6238 time step of the
    last accepted code, so that code (or an earlier one) is never accepted again."""

    __tablename__ = "two_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    secret: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_at: Mapped[datetime | None]
    last_step: Mapped[int | None] = mapped_column(BigInteger)


class RecoveryCode(Base):
    """R-ROLE-6: one of the ten one-time recovery codes of an enrolled user, stored hashed
    (Argon2id, like passwords); ``used_at`` set once it has been used."""

    __tablename__ = "two_factor_recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]


class AuthEpoch(Base):
    """One counter that every committed change of what an API token's request is authorised
    with moves (issue 21): users, role assignments, grants, settings, two-factor records and
    archive loans. Database triggers bump it (migration 0021; on PostgreSQL at commit), so a
    worker that cached a token's user, roles and grants knows from ONE tiny read whether the
    cache still holds, whichever process or plain SQL made the change
    (portal/services/tokens.py). Not a business record: no page, no API."""

    __tablename__ = "auth_epoch"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # PostgreSQL: the transaction that bumped last (one bump per transaction, not per row)
    bumped_by: Mapped[int | None] = mapped_column(BigInteger)
