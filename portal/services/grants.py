"""Grant edits by the security administrator (R-ROLE-5): grants are data, every change is
audited and applies from the next request (the policy reads grants once per transaction).

Hard limits that no edit can cross:
- read-only roles (auditors) receive only ``view``/``export`` (R-ROLE-3);
- an administrator role (三员) receives only grants its own default set contains, so no edit
  gives one administrator another's duties or classified content (R-ROLE-2);
- grant and role management itself stays with the roles that hold it by default.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.enums import Role, Scope
from models.org import Grant, User
from portal import audit, policy
from portal.services.accepts import accepts
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import check_version, load, verb

SNAPSHOT = ["role", "area", "action", "scope"]


def _default_pairs(role: str) -> set[tuple[str, str]]:
    return {(a, act) for (a, act, _s) in policy.DEFAULT_GRANTS.get(Role(role), [])}


def check_allowed(role: str, area: str, action: str, scope: str) -> None:
    """Raise unless (role, area, action, scope) is a grant the rules permit at all."""
    if role not in {r.value for r in Role}:
        raise ValidationFailed(N_("Unknown role %(role)s."), field="role", role=role)
    if area not in policy.AREAS or action not in policy.AREAS[area]:
        raise ValidationFailed(N_("Unknown action %(action)s."), field="action",
                               action=f"{area}.{action}")
    if scope not in {s.value for s in Scope}:
        raise ValidationFailed(N_("Unknown scope %(scope)s."), field="scope", scope=scope)
    if role in policy.READ_ONLY_ROLES and action not in policy.READ_ACTIONS \
            and (area, action) not in policy.READ_ONLY_EXEMPT:
        raise RuleViolation(N_("Auditors are read-only: only view and export can be granted."),
                            rule="R-ROLE-3", field="action")
    if (role in policy.ADMIN_ROLES or area == "grant") \
            and (area, action) not in _default_pairs(role):
        raise RuleViolation(
            N_("三员分立: %(action)s cannot be granted to %(role)s."), rule="R-ROLE-2",
            field="action", action=f"{area}.{action}", role=role)


def _require(actor: User) -> None:
    if not policy.can(actor, "grant.change", Grant):
        raise PermissionDenied("grant.change", Grant)


@verb
@accepts("role", "area", "action", "scope")
def add_grant(session: Session, actor: User, data: dict[str, Any]) -> Grant:
    _require(actor)
    role, area = str(data.get("role") or ""), str(data.get("area") or "")
    action, scope = str(data.get("action") or ""), str(data.get("scope") or "")
    if "." in action and not area:
        area, action = action.split(".", 1)
    check_allowed(role, area, action, scope)
    if session.scalar(select(Grant.id).where(Grant.role == role, Grant.area == area,
                                             Grant.action == action)):
        raise ValidationFailed(N_("%(role)s already holds %(action)s; change its scope instead."),
                               field="action", role=role, action=f"{area}.{action}")
    grant = Grant(role=role, area=area, action=action, scope=scope)
    session.add(grant)
    session.flush()
    audit.record(session, actor, "grant.add", grant, after=audit.snapshot(grant, SNAPSHOT))
    return grant


@verb
@accepts("scope")
def change_scope(session: Session, actor: User, grant_id: int, data: dict[str, Any],
                 expected_version: int | None = None) -> Grant:
    """Only the scope of a grant changes; role, area and action identify it."""
    _require(actor)
    grant = load(session, actor, Grant, grant_id, "grant.view")
    check_version(grant, expected_version)
    scope = str(data.get("scope") or "")
    check_allowed(grant.role, grant.area, grant.action, scope)
    if policy.is_protected_grant(grant.role, grant.area, grant.action) and scope != grant.scope:
        raise RuleViolation(
            N_("三员分立: the auditors' right to read the audit log cannot be narrowed."),
            rule="R-ROLE-2", field="scope", audit_action="grant.change", audit_target=grant)
    before = audit.snapshot(grant, SNAPSHOT)
    grant.scope = scope
    session.flush()
    audit.record(session, actor, "grant.change", grant, before=before,
                 after=audit.snapshot(grant, SNAPSHOT))
    return grant


@verb
def remove_grant(session: Session, actor: User, grant_id: int) -> None:
    _require(actor)
    grant = load(session, actor, Grant, grant_id, "grant.view")
    if policy.is_protected_grant(grant.role, grant.area, grant.action):
        raise RuleViolation(
            N_("三员分立: the auditors' right to read the audit log cannot be removed."),
            rule="R-ROLE-2", field="action", audit_action="grant.remove", audit_target=grant)
    if grant.area == "grant" and grant.action == "change" and session.scalar(
            select(Grant.id).where(Grant.area == "grant", Grant.action == "change",
                                   Grant.id != grant.id)) is None:
        raise RuleViolation(N_("The last grant to manage grants cannot be removed."),
                            rule="R-ROLE-5", field="action")
    before = audit.snapshot(grant, SNAPSHOT)
    session.delete(grant)
    session.flush()
    audit.record(session, actor, "grant.remove", ("Grant", grant_id), before=before)
