"""Classified files in the one policy: clearance and knowledge scope (R-FILE-1, R-FILE-2,
R-ROLE-2). Split out of ``portal/policy.py``; import these names from there."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from models import ConfidentialFile, FileScopeMember
from models.enums import Level
from portal.policy_levels import _company_today, _effective_level_sql, effective_level
from portal.policy_rows import _ALL, _file_row_filter, _in_scope


def _clearance(user: Any) -> int:
    return int(getattr(user, "clearance", Level.PUBLIC.value) or 0)


def in_knowledge_scope(user: Any, f: ConfidentialFile, today: date | None = None) -> bool:
    level = effective_level(f, today)
    if level <= Level.INTERNAL:
        return True
    if _policy.scopes_for(user, "file.read_all_levels"):
        return True
    if any(m.user_id == user.id for m in f.scope_members):
        return True
    if level == Level.SECRET:
        scopes = _policy.scopes_for(user, "file.in_chain")
        return any(_in_scope(user, s, f) for s in scopes)
    if level == Level.CONFIDENTIAL:
        return f.responsible_manager_id == user.id
    return False  # top secret: only people named by the general manager


def can_read_file(user: Any, f: ConfidentialFile, today: date | None = None) -> bool:
    """No read up: clearance ≥ level AND in the knowledge scope. Being an administrator
    gives nothing here (R-ROLE-2)."""
    if not _policy._usable(user):
        return False
    if effective_level(f, today) > _clearance(user):
        return False
    return in_knowledge_scope(user, f, today)


def file_read_filter(user: Any, today: date | None = None) -> ColumnElement[bool]:
    """SQL twin of ``can_read_file`` for lists, counts, search and export."""
    today = today or _company_today()
    level = _effective_level_sql(today)
    cleared = level <= _clearance(user)
    if _policy.scopes_for(user, "file.read_all_levels"):
        return cleared
    member = ConfidentialFile.id.in_(
        select(FileScopeMember.file_id).where(FileScopeMember.user_id == user.id))
    chain_scopes = _policy.scopes_for(user, "file.in_chain")
    if _ALL in chain_scopes:
        in_chain: ColumnElement[bool] = true()
    elif chain_scopes:
        in_chain = or_(*[_file_row_filter(user, s) for s in sorted(chain_scopes)])
    else:
        in_chain = false()
    knows = or_(
        level <= Level.INTERNAL.value,
        member,
        and_(level == Level.SECRET.value, in_chain),
        and_(level == Level.CONFIDENTIAL.value,
             ConfidentialFile.responsible_manager_id == user.id),
    )
    return and_(cleared, knows)


def copy_approver_action(level: int) -> str | None:
    """Which named action approves copying a file of this level (R-FILE-3), None if free."""
    if level >= Level.TOP_SECRET:
        return "file.approve_copy_top"
    if level >= Level.SECRET:
        return "file.approve_copy"
    return None


# at the end: ``portal.policy`` imports this module at its top (either may be imported first)
from portal import policy as _policy  # noqa: E402
