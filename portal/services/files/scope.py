"""Confidential files: knowledge scope (R-FILE-2)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ConfidentialFile, FileScopeMember, User
from models.enums import Level
from portal import audit, clock, policy
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.files.common import _get_file, _today
from portal.services.unit import verb


def may_name_scope(actor: Any, f: ConfidentialFile, today: date | None = None) -> bool:
    """Who adds people to a file's knowledge scope: secret → its owner chain or holders of
    ``file.manage_scope``; confidential → the responsible manager; top secret → holders of
    ``file.name_top_secret`` (the general manager)."""
    level = policy.effective_level(f, today or _today())
    if level <= Level.INTERNAL:
        return False
    if level == Level.SECRET:
        return policy.can(actor, "file.in_chain", f) or policy.can(actor, "file.manage_scope", f)
    if level == Level.CONFIDENTIAL:
        return bool(policy.scopes_for(actor, "file.view")) and not policy.is_read_only(actor) \
            and f.responsible_manager_id == getattr(actor, "id", None)
    return policy.can(actor, "file.name_top_secret", f)


@verb
def add_scope_member(session: Session, actor: User, file_id: Any,
                     user_id: Any) -> FileScopeMember:
    f = _get_file(session, file_id)
    if not may_name_scope(actor, f):
        if policy.effective_level(f, _today()) <= Level.INTERNAL and \
                policy.can(actor, "file.view", f):
            raise ValidationFailed(N_("Public and internal files need no knowledge scope."))
        raise PermissionDenied("file.manage_scope", f)
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Unknown user."), field="user_id") from None
    member = session.get(User, uid)
    if member is None or not member.is_active:
        raise ValidationFailed(N_("Unknown user."), field="user_id")
    if policy.self_grant_refused(actor, member):
        raise RuleViolation(N_("三员分立: nobody adds themselves to a knowledge scope."),
                            rule="R-ROLE-2", field="user_id", audit_action="file.add_scope_member",
                            audit_target=f)
    if int(member.clearance or 0) < policy.effective_level(f, _today()):
        raise RuleViolation(N_("%(user)s's clearance is below the file's level."),
                            rule="R-FILE-1", field="user_id", user=member.full_name)
    if session.scalar(select(FileScopeMember.id).where(FileScopeMember.file_id == f.id,
                                                       FileScopeMember.user_id == uid)):
        raise ValidationFailed(N_("%(user)s is already in the knowledge scope."),
                               field="user_id", user=member.full_name)
    m = FileScopeMember(file_id=f.id, user_id=uid, added_by_id=actor.id, added_at=clock.now())
    session.add(m)
    session.flush()
    session.expire(f, ["scope_members"])
    audit.record(session, actor, "file.add_scope_member", f, after={"user_id": uid,
                                                                     "user": member.username})
    return m
