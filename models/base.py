"""Declarative base, naming convention and small column helpers shared by every model."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, DateTime, Integer, MetaData, Numeric, func
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Timezone-aware UTC now; all timestamps are stored in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A DateTime that always comes back timezone-aware in UTC, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


Money = Numeric(14, 2)


class Base(DeclarativeBase):
    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={datetime: UTCDateTime(), Decimal: Money})


class VersionedMixin:
    """Optimistic locking: every mutable aggregate carries a version the user saw."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow,
                                                 server_default=func.current_timestamp())
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow, onupdate=utcnow,
                                                 server_default=func.current_timestamp())


def one_of(column: str, values: type[enum.Enum] | list[str], name: str) -> CheckConstraint:
    """A named CHECK constraint ``column IN (...)`` for an enum stored as text."""
    items = [v.value for v in values] if isinstance(values, type) else list(values)
    quoted = ", ".join("'" + str(v).replace("'", "''") + "'" for v in items)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)
