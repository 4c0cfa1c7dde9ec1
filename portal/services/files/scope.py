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
from portal.services.unit import check_version, verb


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
                     user_id: Any, expected_version: int | None = None) -> FileScopeMember:
    f = _get_file(session, file_id)
    if not may_name_scope(actor, f):
        if policy.effective_level(f, _today()) <= Level.INTERNAL and \
                policy.can(actor, "file.view", f):
            raise ValidationFailed(N_("Public and internal files need no knowledge scope."))
        raise PermissionDenied("file.manage_scope", f)
    check_version(f, expected_version)
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
    _touch(f)
    session.flush()
    session.expire(f, ["scope_members"])
    audit.record(session, actor, "file.add_scope_member", f, after={"user_id": uid,
                                                                     "user": member.username})
    return m


def _touch(f: ConfidentialFile) -> None:
    """The knowledge scope is part of the file: changing it moves the file's version on, so
    two people changing the scope at once do not both go through unseen."""
    f.updated_at = clock.now()


def _reason(reason: Any) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed(N_("Give a reason."), field="reason")
    if len(text) > 300:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."),
                               field="reason", label="reason", max=300)
    return text


def _user_id(value: Any, field: str) -> int:
    try:
        return int(getattr(value, "id", value))
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Unknown user."), field=field) from None


def may_change_manager(actor: Any, f: ConfidentialFile) -> bool:
    """R-FILE-2: the responsible manager is changed by the general manager (``file.name_top_
    secret``) or by that manager."""
    if policy.effective_level(f, _today()) <= Level.INTERNAL or policy.is_read_only(actor):
        return False
    return policy.can(actor, "file.name_top_secret", f) or (
        f.responsible_manager_id is not None
        and f.responsible_manager_id == getattr(actor, "id", None))


def may_remove_members(actor: Any, f: ConfidentialFile) -> bool:
    """Who names members may remove them; the general manager always may (R-FILE-2)."""
    return may_name_scope(actor, f) or may_change_manager(actor, f)


@verb
def remove_scope_member(session: Session, actor: User, file_id: Any, user_id: Any,
                        reason: str, expected_version: int | None = None) -> ConfidentialFile:
    """R-FILE-2: take a person out of a file's knowledge scope, with a reason (audited)."""
    f = _get_file(session, file_id)
    if not may_remove_members(actor, f):
        raise PermissionDenied("file.manage_scope", f)
    check_version(f, expected_version)
    uid = _user_id(user_id, "user_id")
    text = _reason(reason)
    member = session.scalar(select(FileScopeMember).where(FileScopeMember.file_id == f.id,
                                                          FileScopeMember.user_id == uid))
    if member is None:
        raise ValidationFailed(N_("That person is not in the knowledge scope."), field="user_id")
    who = session.get(User, uid)
    session.delete(member)
    _touch(f)
    session.flush()
    session.expire(f, ["scope_members"])
    audit.record(session, actor, "file.remove_scope_member", f, detail=text,
                 before={"user_id": uid, "user": who.username if who else None})
    return f


@verb
def change_responsible_manager(session: Session, actor: User, file_id: Any, manager_id: Any,
                               reason: str, expected_version: int | None = None
                               ) -> ConfidentialFile:
    """R-FILE-2: the general manager or the responsible manager hands the file's knowledge
    scope to another manager, with a reason; the new manager's clearance must reach the level."""
    f = _get_file(session, file_id)
    if not may_change_manager(actor, f):
        raise PermissionDenied("file.manage_scope", f)
    check_version(f, expected_version)
    uid = _user_id(manager_id, "manager_id")
    text = _reason(reason)
    new = session.get(User, uid)
    if new is None or not new.is_active:
        raise ValidationFailed(N_("Unknown user."), field="manager_id")
    if uid == f.responsible_manager_id:
        raise ValidationFailed(N_("%(user)s is already the responsible manager."),
                               field="manager_id", user=new.full_name)
    if int(new.clearance or 0) < policy.effective_level(f, _today()):
        raise RuleViolation(N_("%(user)s's clearance is below the file's level."),
                            rule="R-FILE-1", field="manager_id", user=new.full_name)
    if new.id not in {u.id for u in manager_candidates(session, f)}:
        raise ValidationFailed(N_("Choose a manager who approves copies of classified files."),
                               field="manager_id")
    before = {"responsible_manager_id": f.responsible_manager_id}
    f.responsible_manager_id = uid
    session.flush()
    session.expire(f, ["responsible_manager"])
    audit.record(session, actor, "file.change_manager", f, detail=text, before=before,
                 after={"responsible_manager_id": uid, "user": new.username})
    return f


def manager_candidates(session: Session, f: ConfidentialFile) -> list[User]:
    """Who can be a file's responsible manager: an active manager (holder of
    ``file.approve_copy``) of any department whose clearance reaches the level."""
    level = policy.effective_level(f, _today())
    return sorted((u for u in policy.users_with(session, "file.approve_copy", None)
                   if int(u.clearance or 0) >= level),
                  key=lambda u: (u.department_id or 0, u.full_name))


def drop_memberships(session: Session, actor: User | None, user: User, reason: str) -> int:
    """R-FILE-2: a person who leaves or changes department loses every knowledge-scope
    membership at once; called inside the users verb that made the change (its own grant was
    checked there), one audit entry per file. Returns how many were removed."""
    rows = session.scalars(select(FileScopeMember).where(FileScopeMember.user_id == user.id)
                           .order_by(FileScopeMember.id)).all()
    for m in rows:
        f = session.get(ConfidentialFile, m.file_id)
        session.delete(m)
        session.flush()
        if f is not None:
            session.expire(f, ["scope_members"])
        audit.record(session, actor, "file.remove_scope_member", f or ("ConfidentialFile",
                                                                      m.file_id),
                     detail=f"R-FILE-2: {reason}"[:300],
                     before={"user_id": user.id, "user": user.username})
    return len(rows)
