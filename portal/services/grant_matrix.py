"""The grants matrix of the security administrator (R-ROLE-5): one role's permissions as a
grid of areas × actions, each cell a scope (none / own / showroom / department / all).

A save is previewed first (:func:`plan`: what will change) and applied in one step
(:func:`apply_role`): every cell is checked against the hard rules of
``portal.services.grants.check_allowed``, the whole change is one audit entry with the
before/after of the changed permissions, and it applies from the next request (the policy
reads grants once per transaction). Cells the hard rules fix are locked, with the reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.enums import Role, Scope
from models.org import Grant, User
from portal import audit, policy
from portal.services.errors import N_, Conflict, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.grants import check_allowed
from portal.services.unit import verb

NONE = "none"
SCOPES = (NONE, Scope.OWN.value, Scope.BRANCH.value, Scope.DEPARTMENT.value, Scope.ALL.value)


@dataclass
class Cell:
    area: str
    action: str
    scope: str  # "none" when the role does not hold the permission
    locked: str | None  # the reason (a msgid) when the hard rules fix this cell

    @property
    def key(self) -> str:
        return f"{self.area}.{self.action}"


@dataclass
class Change:
    area: str
    action: str
    before: str
    after: str

    @property
    def key(self) -> str:
        return f"{self.area}.{self.action}"


def _role(role: str) -> str:
    if role not in {r.value for r in Role}:
        raise ValidationFailed(N_("Unknown role %(role)s."), field="role", role=role)
    return role


def lock_reason(role: str, area: str, action: str) -> str | None:
    """Why the hard rules fix this cell, or None when the security administrator may set it."""
    if policy.is_protected_grant(role, area, action):  # issue 12's rule, the same check
        return N_("三员分立: the auditors' right to read the audit log cannot be narrowed or "
                  "removed.")
    if role in policy.READ_ONLY_ROLES and action not in policy.READ_ACTIONS:
        return N_("Auditors only read: no write permission can be granted to them.")
    defaults = {(a, act) for (a, act, _s) in policy.DEFAULT_GRANTS.get(Role(role), [])}
    if (role in policy.ADMIN_ROLES or area == "grant") and (area, action) not in defaults:
        return N_("三员分立: an administrator role holds only its own duties, and grants are "
                  "managed only by the security administrator.")
    return None


def current(session: Session, role: str) -> dict[str, str]:
    rows = session.execute(select(Grant.area, Grant.action, Grant.scope)
                           .where(Grant.role == role)).all()
    return {f"{a}.{act}": s for a, act, s in rows}


def fingerprint(state: dict[str, str]) -> str:
    """A short digest of a role's grants: the preview carries it so that a save refuses to
    apply over a change someone else made in between."""
    text = ";".join(f"{k}={v}" for k, v in sorted(state.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _require(actor: User, action: str) -> None:
    if not policy.can(actor, action, Grant):
        raise PermissionDenied(action, Grant)


def role_matrix(session: Session, actor: User, role: str) -> list[tuple[str, list[Cell]]]:
    """The cells of one role, by area in the policy's order."""
    _require(actor, "grant.view")
    role = _role(role)
    state = current(session, role)
    return [(area, [Cell(area, action, state.get(f"{area}.{action}", NONE),
                         lock_reason(role, area, action)) for action in actions])
            for area, actions in policy.AREAS.items()]


def overview(session: Session, actor: User) -> dict[str, dict[str, tuple[int, str]]]:
    """role → area → (number of actions held, widest scope): the roles × areas summary."""
    _require(actor, "grant.view")
    order = {s: i for i, s in enumerate(SCOPES)}
    summary: dict[str, dict[str, tuple[int, str]]] = {r.value: {} for r in Role}
    for role, area, scope in session.execute(select(Grant.role, Grant.area, Grant.scope)):
        if role not in summary:
            continue
        count, widest = summary[role].get(area, (0, NONE))
        summary[role][area] = (count + 1, scope if order.get(scope, 0) > order[widest]
                               else widest)
    return summary


def plan(session: Session, actor: User, role: str, desired: dict[str, str]) -> list[Change]:
    """What saving ``desired`` (``"area.action"`` → scope or "none") would change, checked
    against the hard rules; cells not in ``desired`` stay as they are."""
    _require(actor, "grant.view")
    role = _role(role)
    state = current(session, role)
    changes = []
    for area, actions in policy.AREAS.items():
        for action in actions:
            key = f"{area}.{action}"
            if key not in desired:
                continue
            after, before = str(desired[key] or NONE), state.get(key, NONE)
            if after not in SCOPES:
                raise ValidationFailed(N_("Unknown scope %(scope)s."), field="scope",
                                       scope=after)
            if after == before:
                continue
            reason = lock_reason(role, area, action)
            if reason is not None:
                raise RuleViolation(reason, rule="R-ROLE-2", field=key)
            if after != NONE:
                check_allowed(role, area, action, after)
            changes.append(Change(area, action, before, after))
    unknown = set(desired) - {f"{a}.{act}" for a, acts in policy.AREAS.items() for act in acts}
    if unknown:
        raise ValidationFailed(N_("Unknown action %(action)s."), field="action",
                               action=sorted(unknown)[0])
    return changes


@verb
def apply_role(session: Session, actor: User, role: str, desired: dict[str, Any],
               expected: str | None = None) -> list[Change]:
    """Save one role's matrix: one audit entry ``grant.matrix_change`` with the before/after
    of the changed permissions. ``expected`` is the fingerprint the preview showed."""
    _require(actor, "grant.change")
    role = _role(role)
    if expected is not None and fingerprint(current(session, role)) != expected:
        raise Conflict(N_("The grants of this role were changed by someone else since the "
                          "preview; review the changes again."))
    changes = plan(session, actor, role, {k: str(v) for k, v in desired.items()})
    if not changes:
        return []
    rows = {(g.area, g.action): g for g in session.scalars(
        select(Grant).where(Grant.role == role))}
    for ch in changes:
        row = rows.get((ch.area, ch.action))
        if ch.after == NONE:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(Grant(role=role, area=ch.area, action=ch.action, scope=ch.after))
        else:
            row.scope = ch.after
    session.flush()
    if session.scalar(select(Grant.id).where(Grant.area == "grant",
                                             Grant.action == "change").limit(1)) is None:
        raise RuleViolation(N_("The last grant to manage grants cannot be removed."),
                            rule="R-ROLE-5", field="grant.change")
    audit.record(session, actor, "grant.matrix_change", ("Role", role),
                 before={ch.key: ch.before for ch in changes},
                 after={ch.key: ch.after for ch in changes})
    return changes
