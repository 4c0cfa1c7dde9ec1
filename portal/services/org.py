"""Departments (部门) and branches (门店/展厅): created and renamed by the system administrator.
Neither is ever deleted: customers, users and history point at them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.org import Branch, Department, User
from portal import audit, policy
from portal.services.accepts import accepts
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.unit import check_version, load, verb

FIELDS = ("code", "name")


def _text(data: dict[str, Any], key: str, limit: int, required: bool = True) -> str | None:
    raw = data.get(key)
    value = "" if raw is None else str(raw).strip()
    if required and not value:
        raise ValidationFailed(N_("%(field_name)s is required."), field=key, field_name=key)
    if value and len(value) > limit:
        raise ValidationFailed(N_("%(field_name)s is longer than %(limit)s characters."),
                               field=key, field_name=key, limit=limit)
    return value or None


def _clean(session: Session, model: type, data: dict[str, Any], current: Any = None
           ) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if current is None or "code" in data:
        clean["code"] = _text(data, "code", 32)
        clash = session.scalar(select(model.id).where(model.code == clean["code"]))
        if clash is not None and (current is None or clash != current.id):
            raise ValidationFailed(N_("The code %(code)s is already used."), field="code",
                                   code=clean["code"])
    if current is None or "name" in data:
        clean["name"] = _text(data, "name", 100)
    return clean


def _department_id(session: Session, actor: User, data: dict[str, Any]) -> int:
    raw = data.get("department_id")
    try:
        dept = session.scalar(policy.scope(select(Department), actor, Department)
                              .where(Department.id == int(raw)))
    except (TypeError, ValueError):
        dept = None
    if dept is None:
        raise ValidationFailed(N_("Choose a department."), field="department")
    return dept.id


@verb
@accepts(*FIELDS)
def create_department(session: Session, actor: User, data: dict[str, Any]) -> Department:
    if not policy.can(actor, "org.add", Department):
        raise PermissionDenied("org.add", Department)
    dept = Department(**_clean(session, Department, data))
    session.add(dept)
    session.flush()
    audit.record(session, actor, "org.add", dept, after=audit.snapshot(dept))
    return dept


@verb
@accepts(*FIELDS)
def update_department(session: Session, actor: User, department_id: int, data: dict[str, Any],
                      expected_version: int | None = None) -> Department:
    dept = load(session, actor, Department, department_id, "org.change")
    if not policy.can(actor, "org.change", dept):
        raise PermissionDenied("org.change", dept)
    check_version(dept, expected_version)
    before = audit.snapshot(dept, list(FIELDS))
    for key, value in _clean(session, Department, data, dept).items():
        setattr(dept, key, value)
    session.flush()
    audit.record(session, actor, "org.change", dept, before=before,
                 after=audit.snapshot(dept, list(FIELDS)))
    return dept


@verb
@accepts(*FIELDS, "department_id")
def create_branch(session: Session, actor: User, data: dict[str, Any]) -> Branch:
    if not policy.can(actor, "org.add", Branch):
        raise PermissionDenied("org.add", Branch)
    fields = _clean(session, Branch, data)
    fields["department_id"] = _department_id(session, actor, data)
    branch = Branch(**fields)
    session.add(branch)
    session.flush()
    audit.record(session, actor, "org.add", branch, after=audit.snapshot(branch))
    return branch


@verb
@accepts(*FIELDS, "department_id")
def update_branch(session: Session, actor: User, branch_id: int, data: dict[str, Any],
                  expected_version: int | None = None) -> Branch:
    """Renaming is free; moving a branch to another department moves its scope, so the
    customers and users of the branch follow (their department columns are updated)."""
    from models import Customer, ReceptionRecord

    branch = load(session, actor, Branch, branch_id, "org.change")
    if not policy.can(actor, "org.change", branch):
        raise PermissionDenied("org.change", branch)
    check_version(branch, expected_version)
    keys = [*FIELDS, "department_id"]
    before = audit.snapshot(branch, keys)
    for key, value in _clean(session, Branch, data, branch).items():
        setattr(branch, key, value)
    if "department_id" in data:
        new_dept = _department_id(session, actor, data)
        if new_dept != branch.department_id:
            branch.department_id = new_dept
            for model in (Customer, User, ReceptionRecord):
                for row in session.scalars(select(model).where(model.branch_id == branch.id)):
                    row.department_id = new_dept
    session.flush()
    audit.record(session, actor, "org.change", branch, before=before,
                 after=audit.snapshot(branch, keys))
    return branch
