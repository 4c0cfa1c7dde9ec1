"""Accounts and roles: create, deactivate (R-ROLE-4), reset passwords, grant and revoke roles
under 三员分立 (R-ROLE-2), clearances."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.enums import Role
from models.org import RoleAssignment, User
from portal import audit, policy
from portal.passwords import hash_password, password_problem
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import verb


def _check_roles(roles: list[str]) -> None:
    known = {r.value for r in Role}
    for r in roles:
        if r not in known:
            raise ValidationFailed(N_("Unknown role %(role)s."), field="roles", role=r)


def bootstrap_user(session: Session, *, username: str, full_name: str, password: str,
                   roles: list[str], department_id: int | None = None,
                   branch_id: int | None = None, clearance: int = 1) -> User:
    """Create a user from the command line (no acting user: the operator at the console)."""
    username = (username or "").strip()
    if not username:
        raise ValidationFailed(N_("A username is required."), field="username")
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(N_("The password is too weak: %(reason)s."), field="password",
                               reason=problem)
    _check_roles(roles)
    held: list[str] = []
    for r in roles:
        clash = policy.admin_role_conflict(held, r)
        if clash:
            raise RuleViolation(N_("三员分立: %(new)s cannot be held together with %(held)s."),
                                rule="R-ROLE-2", field="roles", new=r, held=clash)
        held.append(r)
    if session.scalar(select(User.id).where(User.username == username)):
        raise ValidationFailed(N_("The username %(username)s is taken."), field="username",
                               username=username)
    user = User(username=username, full_name=full_name or username,
                password_hash=hash_password(password), department_id=department_id,
                branch_id=branch_id, clearance=clearance)
    session.add(user)
    session.flush()
    for r in roles:
        session.add(RoleAssignment(user_id=user.id, role=r))
    session.flush()
    audit.record(session, None, "user.create", user, after=audit.snapshot(user),
                 detail=f"roles: {', '.join(roles)} (console)", actor_name="console")
    session.commit()
    session.refresh(user)
    return user


@verb
def grant_role(session: Session, actor: User, user: User, role: str) -> RoleAssignment:
    """Only holders of ``grant.change`` (the security administrator) assign roles."""
    if not policy.can(actor, "grant.change"):
        raise PermissionDenied("grant.change", user)
    _check_roles([role])
    if role in user.roles:
        raise ValidationFailed(N_("%(user)s already holds %(role)s."), field="role",
                               user=user.username, role=role)
    clash = policy.admin_role_conflict(user.roles, role)
    if clash:
        raise RuleViolation(
            N_("三员分立: %(new)s cannot be held together with %(held)s; revoke %(held)s first."),
            rule="R-ROLE-2", field="role", new=role, held=clash)
    assignment = RoleAssignment(user_id=user.id, role=role, granted_by_id=actor.id)
    session.add(assignment)
    user.session_version += 1
    session.flush()
    audit.record(session, actor, "role.grant", user, after={"role": role})
    return assignment


@verb
def revoke_role(session: Session, actor: User, user: User, role: str) -> None:
    if not policy.can(actor, "grant.change"):
        raise PermissionDenied("grant.change", user)
    active = [a for a in user.role_assignments if a.role == role and a.revoked_at is None]
    if not active:
        raise ValidationFailed(N_("%(user)s does not hold %(role)s."), field="role",
                               user=user.username, role=role)
    for a in active:
        a.revoked_at = utcnow()
        a.revoked_by_id = actor.id
    user.session_version += 1
    session.flush()
    audit.record(session, actor, "role.revoke", user, before={"role": role})


@verb
def set_clearance(session: Session, actor: User, user: User, clearance: int) -> User:
    if not policy.can(actor, "user.set_clearance", user):
        raise PermissionDenied("user.set_clearance", user)
    if not 0 <= int(clearance) <= 4:
        raise ValidationFailed(N_("Clearance must be a level from 0 to 4."), field="clearance")
    before = user.clearance
    user.clearance = int(clearance)
    if user.clearance < before:
        user.session_version += 1
    audit.record(session, actor, "user.set_clearance", user, before={"clearance": before},
                 after={"clearance": user.clearance})
    return user


@verb
def reset_password(session: Session, actor: User, user: User, new_password: str) -> User:
    if not policy.can(actor, "user.reset_password", user):
        raise PermissionDenied("user.reset_password", user)
    problem = password_problem(new_password)
    if problem:
        raise ValidationFailed(N_("The password is too weak: %(reason)s."), field="password",
                               reason=problem)
    user.password_hash = hash_password(new_password)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor, "user.reset_password", user)
    return user
