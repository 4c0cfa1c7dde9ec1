"""Accounts and roles: create, deactivate (R-ROLE-4), reset passwords, grant and revoke roles
under 三员分立 (R-ROLE-2), clearances."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.enums import Role
from models.org import RoleAssignment, User
from portal import audit, policy
from portal.passwords import hash_password
from portal.services import password_policy, tokens
from portal.services.accepts import accepts
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import check_version, verb


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
    password_policy.check_new_password(session, password, username)
    _check_roles(roles)
    held: list[str] = []
    for r in roles:
        clash = policy.admin_role_conflict(held, r) or policy.business_role_conflict(held, r)
        if clash:
            raise RuleViolation(N_("三员分立: %(new)s cannot be held together with %(held)s."),
                                rule="R-ROLE-2", field="roles", new=r, held=clash)
        held.append(r)
    if session.scalar(select(User.id).where(User.username == username)):
        raise ValidationFailed(N_("The username %(username)s is taken."), field="username",
                               username=username)
    user = User(username=username, full_name=full_name or username,
                password_hash=hash_password(password), department_id=department_id,
                branch_id=branch_id, clearance=clearance, password_changed_at=utcnow())
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
    if policy.self_grant_refused(actor, user):
        raise RuleViolation(N_("三员分立: nobody assigns a role to themselves."),
                            rule="R-ROLE-2", field="role", audit_action="role.grant", audit_target=user)
    if role in user.roles:
        raise ValidationFailed(N_("%(user)s already holds %(role)s."), field="role",
                               user=user.full_name, role=role)
    clash = policy.admin_role_conflict(user.roles, role) \
        or policy.business_role_conflict(user.roles, role)
    if clash:
        raise RuleViolation(
            N_("三员分立: %(new)s cannot be held together with %(held)s; revoke %(held)s first."),
            rule="R-ROLE-2", field="role", new=role, held=clash, audit_action="role.grant",
            audit_target=user)
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
                               user=user.full_name, role=role)
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
    if policy.self_grant_refused(actor, user):
        raise RuleViolation(N_("三员分立: nobody sets their own clearance."),
                            rule="R-ROLE-2", field="clearance", audit_action="user.set_clearance",
                            audit_target=user)
    try:
        clearance = int(clearance)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Clearance must be a level from 0 to 4."),
                               field="clearance") from None
    if not 0 <= clearance <= 4:
        raise ValidationFailed(N_("Clearance must be a level from 0 to 4."), field="clearance")
    before = user.clearance
    user.clearance = int(clearance)
    if user.clearance < before:
        user.session_version += 1
    audit.record(session, actor, "user.set_clearance", user, before={"clearance": before},
                 after={"clearance": user.clearance})
    return user


def _refuse_acting_alone(actor: User, user: User, action: str) -> None:
    """R-ROLE-2: an administrator's account is reset, deactivated or reactivated only through
    a two-person request (``portal.services.two_person``)."""
    if policy.holds_admin_role(user):
        raise RuleViolation(
            N_("三员分立: this account holds an administrator role; the action needs the "
               "confirmation of a second administrator (request it)."),
            rule="R-ROLE-2", field="user", audit_action=action, audit_target=user)


def _check_new_password(session: Session, user: User, new_password: str) -> None:
    """Strength only: a password an administrator sets is temporary (its holder must change
    it at first sign-in, where the reuse rule applies)."""
    password_policy.check_strength(session, new_password, user.username, user)


def _apply_reset(session: Session, actor: User, user: User, password_hash: str,
                 detail: str | None = None) -> None:
    """R-ROLE-6: a password an administrator set is changed by its holder at first sign-in."""
    password_policy.store_password(session, user, password_hash, must_change=True)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, actor, "user.reset_password", user, detail=detail)
    tokens.revoke_all_of(session, user, "password reset")


@verb
def reset_password(session: Session, actor: User, user: User, new_password: str) -> User:
    if not policy.can(actor, "user.reset_password", user):
        raise PermissionDenied("user.reset_password", user)
    _refuse_acting_alone(actor, user, "user.reset_password")
    _check_new_password(session, user, new_password)
    _apply_reset(session, actor, user, hash_password(new_password))
    return user


USER_FIELDS = ("full_name", "email", "phone", "department_id", "branch_id", "language")


def _clean_user_data(session: Session, data: dict) -> dict:
    """Only the declared account fields; roles, clearance and versions never ride along."""
    from models.org import Branch, Department

    clean = {k: data[k] for k in USER_FIELDS if k in data}
    if "full_name" in clean and not (clean["full_name"] or "").strip():
        raise ValidationFailed(N_("A full name is required."), field="full_name")
    dept = clean.get("department_id")
    if dept is not None and session.get(Department, int(dept)) is None:
        raise ValidationFailed(N_("Unknown department."), field="department_id")
    branch_id = clean.get("branch_id")
    if branch_id is not None:
        branch = session.get(Branch, int(branch_id))
        if branch is None:
            raise ValidationFailed(N_("Unknown branch."), field="branch_id")
        if dept is None:
            clean["department_id"] = branch.department_id
        elif int(dept) != branch.department_id:
            raise ValidationFailed(N_("The branch belongs to another department."),
                                   field="branch_id")
    return clean


@verb
@accepts("username", "password", *USER_FIELDS)
def create_user(session: Session, actor: User, data: dict) -> User:
    """Create an account (system administrator). Roles are assigned separately by the
    security administrator (三员分立)."""
    if not policy.can(actor, "user.add"):
        raise PermissionDenied("user.add", User)
    username = (data.get("username") or "").strip()
    if not username or len(username) > 64:
        raise ValidationFailed(N_("A username of at most 64 characters is required."),
                               field="username")
    if session.scalar(select(User.id).where(User.username == username)):
        raise ValidationFailed(N_("The username %(username)s is taken."), field="username",
                               username=username)
    password = data.get("password") or ""
    password_policy.check_new_password(session, password, username)
    fields = _clean_user_data(session, data)
    fields.setdefault("full_name", username)
    # R-ROLE-6: the administrator knows this password; the holder chooses theirs at first sign-in
    user = User(username=username, password_hash=hash_password(password),
                password_changed_at=utcnow(), must_change_password=True, **fields)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", user, after=audit.snapshot(user))
    return user


@verb
@accepts(*USER_FIELDS)
def update_user(session: Session, actor: User, user_id: int, data: dict,
                expected_version: int | None = None) -> User:
    from portal.services.unit import load

    user = load(session, actor, User, user_id, "user.change")
    if not policy.can(actor, "user.change", user):
        raise PermissionDenied("user.change", user)
    check_version(user, expected_version)
    before = audit.snapshot(user, list(USER_FIELDS))
    for key, value in _clean_user_data(session, data).items():
        setattr(user, key, value)
    if before["branch_id"] != user.branch_id or before["department_id"] != user.department_id:
        user.session_version += 1  # scope changed: old sessions must re-read it
    session.flush()
    audit.record(session, actor, "user.change", user, before=before,
                 after=audit.snapshot(user, list(USER_FIELDS)))
    if before["department_id"] != user.department_id:
        _drop_file_memberships(session, actor, user, "department changed")
    return user


@verb
def deactivate_user(session: Session, actor: User, user_id: int, reason: str,
                    expected_version: int | None = None) -> User:
    """R-ROLE-4: a leaving member of staff loses every session and API token at once, and
    their customers are redistributed in the branch (R-CUST-6)."""
    from portal.services.unit import load

    user = load(session, actor, User, user_id, "user.deactivate")
    if not policy.can(actor, "user.deactivate", user):
        raise PermissionDenied("user.deactivate", user)
    _refuse_acting_alone(actor, user, "user.deactivate")
    check_version(user, expected_version)
    _check_deactivation(actor, user, reason)
    _apply_deactivation(session, actor, user, reason)
    return user


def _check_deactivation(actor: User, user: User, reason: str) -> None:
    if not (reason or "").strip():
        raise ValidationFailed(N_("Give a reason."), field="reason")
    if user.id == actor.id:
        raise ValidationFailed(N_("You cannot deactivate your own account."), field="user")
    if not user.is_active:
        raise ValidationFailed(N_("The account is already inactive."), field="user")


def _apply_deactivation(session: Session, actor: User, user: User, reason: str) -> None:
    from models.org import ApiToken

    user.is_active = False
    user.session_version += 1
    now = utcnow()
    for token in session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                         ApiToken.revoked_at.is_(None))):
        token.revoked_at = now
    session.flush()
    audit.record(session, actor, "user.deactivate", user, detail=reason,
                 before={"is_active": True}, after={"is_active": False})
    _redistribute_customers(session, actor, user, reason)
    _drop_file_memberships(session, actor, user, f"left: {reason}")


@verb
def reactivate_user(session: Session, actor: User, user_id: int, reason: str,
                    expected_version: int | None = None) -> User:
    """Give a deactivated account back (the same grant as deactivating). Sessions, tokens and
    customers taken away on deactivation are not given back; the lockout is cleared."""
    from portal.services.unit import load

    user = load(session, actor, User, user_id, "user.deactivate")
    if not policy.can(actor, "user.deactivate", user):
        raise PermissionDenied("user.deactivate", user)
    _refuse_acting_alone(actor, user, "user.reactivate")
    check_version(user, expected_version)
    _check_reactivation(user, reason)
    _apply_reactivation(session, actor, user, reason)
    return user


def _check_reactivation(user: User, reason: str) -> None:
    if not (reason or "").strip():
        raise ValidationFailed(N_("Give a reason."), field="reason")
    if user.is_active:
        raise ValidationFailed(N_("The account is already active."), field="user")


def _apply_reactivation(session: Session, actor: User, user: User, reason: str) -> None:
    user.is_active = True
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    audit.record(session, actor, "user.reactivate", user, detail=reason,
                 before={"is_active": False}, after={"is_active": True})


# ---------------------------------------------------------------------------------------------
# The same three actions on an administrator's account: two-person requests (R-ROLE-2)
# ---------------------------------------------------------------------------------------------


def _prepare_reset(session: Session, actor: User, user: User, params: dict) -> dict:
    _check_new_password(session, user, str(params.get("new_password") or ""))
    return {"password_hash": hash_password(str(params["new_password"]))}


def _perform_reset(session: Session, actor: User, user: User, params: dict, p: Any) -> None:
    _apply_reset(session, actor, user, params["password_hash"],
                 detail=f"two-person #{p.id}, requested by user {p.requested_by_id}")


def _prepare_deactivation(session: Session, actor: User, user: User, params: dict) -> dict:
    return {}


def _perform_deactivation(session: Session, actor: User, user: User, params: dict,
                          p: Any) -> None:
    if not user.is_active:
        raise ValidationFailed(N_("The account is already inactive."), field="user")
    _apply_deactivation(session, actor, user, f"{p.reason} (two-person #{p.id})")


def _prepare_reactivation(session: Session, actor: User, user: User, params: dict) -> dict:
    if user.is_active:
        raise ValidationFailed(N_("The account is already active."), field="user")
    return {}


def _perform_reactivation(session: Session, actor: User, user: User, params: dict,
                          p: Any) -> None:
    _check_reactivation(user, p.reason)
    _apply_reactivation(session, actor, user, f"{p.reason} (two-person #{p.id})")


def _register_two_person_kinds() -> None:
    from portal.services import two_person

    for name, action, label, prepare, perform in (
            ("user.reset_password", "user.reset_password", N_("Reset the password"),
             _prepare_reset, _perform_reset),
            ("user.deactivate", "user.deactivate", N_("Deactivate the account"),
             _prepare_deactivation, _perform_deactivation),
            ("user.reactivate", "user.deactivate", N_("Reactivate the account"),
             _prepare_reactivation, _perform_reactivation)):
        two_person.register(name, two_person.Kind(
            action=action, label=label, target_model=User, prepare=prepare, perform=perform,
            needed=policy.holds_admin_role))


_register_two_person_kinds()


@verb
def set_on_leave(session: Session, actor: User, user_id: int, on_leave: bool,
                 reason: str) -> User:
    """Long leave counts like leaving for the customers (R-CUST-6); the account stays."""
    from portal.services.unit import load

    user = load(session, actor, User, user_id, "user.change")
    if not policy.can(actor, "user.change", user):
        raise PermissionDenied("user.change", user)
    user.on_leave = bool(on_leave)
    session.flush()
    audit.record(session, actor, "user.set_on_leave", user, detail=reason,
                 after={"on_leave": user.on_leave})
    if user.on_leave:
        _redistribute_customers(session, actor, user, reason)
    return user


def _drop_file_memberships(session: Session, actor: User, user: User, reason: str) -> None:
    """R-FILE-2: leaving or changing department removes every knowledge-scope membership, as
    a consequence of the account change the actor is allowed to make."""
    from portal.services.files.scope import drop_memberships

    drop_memberships(session, actor, user, reason)


def _redistribute_customers(session: Session, actor: User, user: User, reason: str) -> None:
    """Hand the user's customers to the branch's remaining salespeople, as a consequence of
    the account change the actor is allowed to make."""
    from portal.services import customers

    customers.redistribute_on_departure(session, actor, user, reason)
