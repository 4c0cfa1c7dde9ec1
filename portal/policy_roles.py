"""Roles in the one policy: 三员分立, who may assign, who holds an action (R-ROLE-2,
R-CUST-3). Split out of ``portal/policy.py``; import these names from there."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from models import Grant, RoleAssignment, User
from models.enums import Role


def admin_role_conflict(current_roles: Iterable[str], new_role: str) -> str | None:
    """R-ROLE-2: the administrator role the user already holds that forbids ``new_role``."""
    if new_role not in _policy.ADMIN_ROLES:
        return None
    for held in current_roles:
        if held in _policy.ADMIN_ROLES and held != new_role:
            return held
    return None


def business_role_conflict(current_roles: Iterable[str], new_role: str) -> str | None:
    """R-ROLE-2: an administrator holds no business role, and a holder of a business role
    receives no administrator role. Returns the held role that forbids ``new_role``."""
    held = [r for r in current_roles if r != new_role]
    if new_role in _policy.ADMIN_ROLES:
        return next((r for r in held if r not in _policy.ADMIN_ROLES), None)
    return next((r for r in held if r in _policy.ADMIN_ROLES), None)


def self_grant_refused(actor: Any, subject: Any) -> bool:
    """R-ROLE-2: nobody assigns a role or a clearance to themselves, or adds themselves to a
    knowledge scope."""
    return getattr(actor, "id", None) is not None and getattr(actor, "id", None) == \
        getattr(subject, "id", subject)


# The grants that let the auditors read the audit log: never narrowed nor removed (R-ROLE-2).
PROTECTED_GRANTS = frozenset({(Role.AUDITOR.value, "audit", "view"),
                              (Role.AUDITOR.value, "audit", "export"),
                              (Role.SECAUDITOR.value, "audit", "view"),
                              (Role.SECAUDITOR.value, "audit", "export")})


def is_protected_grant(role: str, area: str, action: str) -> bool:
    return (str(role), area, action) in PROTECTED_GRANTS


def holds_admin_role(user: Any) -> bool:
    """Accounts whose reset, deactivation or reactivation needs a second administrator."""
    return bool(roles_of_any(user) & _policy.ADMIN_ROLES)


def roles_of_any(user: Any) -> frozenset[str]:
    """Roles in force of any account (active or not, logged in or not)."""
    return frozenset(getattr(user, "roles", ()) or ())



# R-CUST-3 first-visit evidence: reception records count only when the front desk or a
# supervisor entered them on the day of the visit; only a supervisor records another day's
# (or a future) arrival, and a supervisor's entry is the confirmation such a record needs.
EVIDENCE_ROLES = frozenset({Role.RECEPTION.value, Role.SUPERVISOR.value})
OTHER_DAY_ROLES = frozenset({Role.SUPERVISOR.value})


def enters_first_visit_evidence(user: Any) -> bool:
    return bool(_policy.roles_of(user) & EVIDENCE_ROLES)


def records_other_day_arrivals(user: Any) -> bool:
    return bool(_policy.roles_of(user) & OTHER_DAY_ROLES)


def users_with(session: Session, action: str, target: Any = None) -> list[User]:
    """Active users who may do ``action`` on ``target`` (e.g. who approves this complaint)."""
    area, verb = _policy.split_action(action, target)
    roles = session.scalars(select(Grant.role).where(Grant.area == area, Grant.action == verb)
                            .distinct()).all()
    if not roles:
        return []
    users = session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role.in_(roles), RoleAssignment.revoked_at.is_(None),
               User.is_active.is_(True)).distinct().order_by(User.id)).all()
    return [u for u in users if _policy.can(u, action, target)]


def department_managers(session: Session, department_id: int) -> list[User]:
    """Active department managers (部门经理) of a department (R-COMP-11 penalties)."""
    return list(session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(User.department_id == department_id, User.is_active.is_(True),
               RoleAssignment.role == Role.DEPT_MANAGER.value,
               RoleAssignment.revoked_at.is_(None)).distinct().order_by(User.id)))


def owner_candidates_stmt(branch_id: int) -> Select:
    """Active, present users of a branch who may own customers (R-CUST-6, R-RECV-1)."""
    owner_roles = select(Grant.role).where(Grant.area == "customer", Grant.action == "be_owner")
    return (select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(User.branch_id == branch_id, User.is_active.is_(True),
                   User.on_leave.is_(False), RoleAssignment.revoked_at.is_(None),
                   RoleAssignment.role.in_(owner_roles))
            .distinct().order_by(User.id))


# at the end: ``portal.policy`` imports this module at its top (either may be imported first)
from portal import policy as _policy  # noqa: E402
