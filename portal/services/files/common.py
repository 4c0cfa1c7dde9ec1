"""Confidential files: levels, errors and the helpers every verb shares."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from models import ConfidentialFile, User
from models.enums import Level
from portal import clock, policy
from portal.services.errors import N_, DomainError, NotFound, OutOfScope, ValidationFailed

LEVEL_NAMES = {
    Level.PUBLIC: ("public", "公开"),
    Level.INTERNAL: ("internal", "内部"),
    Level.SECRET: ("secret", "秘密"),
    Level.CONFIDENTIAL: ("confidential", "机密"),
    Level.TOP_SECRET: ("top secret", "绝密"),
}
# 保密法: without a specific period, 绝密 ≤ 30 years, 机密 ≤ 20 years, 秘密 ≤ 10 years.
DEFAULT_SECRECY_YEARS = {Level.SECRET: 10, Level.CONFIDENTIAL: 20, Level.TOP_SECRET: 30}


class StorageFailed(DomainError):
    """The store could not keep or return the bytes; nothing was saved."""

    code = "storage"


class IntegrityFailure(DomainError):
    """The stored content no longer matches its checksum (R-FILE-5)."""

    code = "integrity"


def level_label(level: int) -> str:
    en, zh = LEVEL_NAMES[Level(level)]
    return f"{zh} ({en})"





def _today() -> date:
    return clock.today()


def _level(value: Any, field_name: str = "level") -> int:
    if value is None or value == "":
        raise ValidationFailed(N_("The classification level is required."), field=field_name)
    try:
        level = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Unknown classification level."), field=field_name) from None
    if not Level.PUBLIC <= level <= Level.TOP_SECRET:
        raise ValidationFailed(N_("Unknown classification level."), field=field_name)
    return level


def _date(value: Any, field_name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(N_("Invalid date."), field=field_name) from None


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def default_secrecy_until(level: int, today: date | None = None) -> date | None:
    years = DEFAULT_SECRECY_YEARS.get(Level(level))
    return _add_years(today or _today(), years) if years else None


def _reason(reason: Any) -> str:
    text = (reason or "").strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed(N_("A reason is required."), field="reason")
    return text[:2000]


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _get_file(session: Session, file_id: Any) -> ConfidentialFile:
    """The file with this id, no policy check; a missing or malformed id is NotFound."""
    try:
        pk = int(file_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not -(2**31) <= pk < 2**31:  # beyond the integer column: no such row, not a 500
        raise NotFound()
    f = session.get(ConfidentialFile, pk)
    if f is None:
        raise NotFound()
    return f


def _file_for(session: Session, actor: Any, file_id: Any, action: str) -> ConfidentialFile:
    """Load a file the actor may ``action`` (row scope AND no read up for reads); anything else
    is NotFound (audited as denied when the file exists)."""
    f = _get_file(session, file_id)
    if not policy.can(actor, action, f) or (
            action in ("file.view", "file.download", "file.export")
            and not policy.can_read_file(actor, f, _today())):
        raise OutOfScope(action, ("ConfidentialFile", f.id))
    return f


def _default_manager(session: Session, f: ConfidentialFile, actor: User) -> int | None:
    """The responsible manager of a new file: the uploader if they manage its scope, else a
    department-scoped holder of ``file.manage_scope`` in the file's department."""
    if policy.can(actor, "file.manage_scope", f) and \
            "all" not in policy.scopes_for(actor, "file.manage_scope"):
        return actor.id
    for u in policy.users_with(session, "file.manage_scope", f):
        if u.department_id == f.department_id and \
                "all" not in policy.scopes_for(u, "file.manage_scope"):
            return u.id
    return None
