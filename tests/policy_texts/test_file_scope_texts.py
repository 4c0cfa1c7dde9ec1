"""Issue 16, R-FILE-2 as the confidentiality policy writes it: members of a knowledge scope can be
removed and the responsible manager changed (by the general manager or that manager), with a
reason; a person who leaves or changes department loses their memberships at once. Both doors."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEntry, FileScopeMember
from models.enums import Level
from portal import policy
from portal.services import files, users
from portal.services.errors import DomainError
from tests.doors.conftest import gid, gql_ok, submit_form
from tests.files.conftest import cleared, upload  # noqa: F401

REMOVE = """mutation($f: ID!, $u: ID!, $r: String!, $v: Int!) { removeFileScopeMember(
  fileId: $f, userId: $u, reason: $r, expectedVersion: $v) {
  ok errors { message } result { id } } }"""
MANAGER = """mutation($f: ID!, $u: ID!, $r: String!, $v: Int!) { changeFileResponsibleManager(
  fileId: $f, managerId: $u, reason: $r, expectedVersion: $v) {
  ok errors { message } result { id } } }"""


def _version(session, f) -> int:
    session.expire_all()
    return session.get(type(f), f.id).version


def _members(session, f) -> set[int]:
    session.expire_all()
    return set(session.scalars(select(FileScopeMember.user_id)
                               .where(FileScopeMember.file_id == f.id)))


def _confidential(w, upload):  # noqa: F811
    f = upload(w.manager, Level.CONFIDENTIAL)
    assert f.responsible_manager_id == w.manager.id
    return f


def test_R_FILE_2_members_are_removed_with_a_reason_through_both_doors(
        cleared, session, upload, login, api):  # noqa: F811
    w = cleared
    f = _confidential(w, upload)
    w.sales1.clearance = w.sales2.clearance = Level.CONFIDENTIAL
    session.commit()
    files.add_scope_member(session, w.manager, f.id, w.sales1.id)
    files.add_scope_member(session, w.manager, f.id, w.sales2.id)
    assert policy.can_read_file(w.sales1, f)
    with pytest.raises(DomainError):  # a member cannot take others out
        files.remove_scope_member(session, w.sales1, f.id, w.sales2.id, "不需要了")
    with pytest.raises(DomainError):  # a reason is required
        files.remove_scope_member(session, w.manager, f.id, w.sales1.id, " ")
    assert _members(session, f) == {w.sales1.id, w.sales2.id}
    # portal: picked by name on the file's page
    client = login(w.manager)
    page = client.get(f"/admin/file/scope/remove/?id={f.id}").get_data(as_text=True)
    assert w.sales1.full_name in page
    submit_form(client, f"/admin/file/scope/remove/?id={f.id}",
                {"user_id": w.sales1.id, "reason": "项目结束，不再需要知悉"})
    assert _members(session, f) == {w.sales2.id}
    assert not policy.can_read_file(session.get(type(w.sales1), w.sales1.id), f)
    # GraphQL
    gql_ok(api(w.manager), REMOVE, {"f": gid("ConfidentialFile", f.id),
                                    "u": gid("User", w.sales2.id), "r": "调岗",
                                    "v": _version(session, f)},
           "removeFileScopeMember")
    assert _members(session, f) == set()
    reasons = session.scalars(select(AuditEntry.detail).where(
        AuditEntry.action == "file.remove_scope_member",
        AuditEntry.target_id == str(f.id))).all()
    assert set(reasons) == {"项目结束，不再需要知悉", "调岗"}


def test_R_FILE_2_the_responsible_manager_is_changed_by_the_gm_or_that_manager(
        cleared, session, upload, login, api):  # noqa: F811
    w = cleared
    f = _confidential(w, upload)
    with pytest.raises(DomainError):  # another manager may not take it over
        files.change_responsible_manager(session, w.manager2, f.id, w.manager2.id, "接手")
    # the responsible manager hands it on (portal, picked by name)
    client = login(w.manager)
    page = client.get(f"/admin/file/manager/?id={f.id}").get_data(as_text=True)
    assert w.manager2.full_name in page or "manager2" in page
    submit_form(client, f"/admin/file/manager/?id={f.id}",
                {"manager_id": w.manager2.id, "reason": "部门调整，由二部经理负责"})
    session.expire_all()
    f = session.get(type(f), f.id)
    assert f.responsible_manager_id == w.manager2.id
    assert policy.can_read_file(w.manager2, f) and not policy.can_read_file(w.manager, f)
    # the general manager changes it back (GraphQL)
    gql_ok(api(w.gm), MANAGER, {"f": gid("ConfidentialFile", f.id),
                                "u": gid("User", w.manager.id), "r": "恢复原责任经理",
                                "v": f.version},
           "changeFileResponsibleManager")
    session.expire_all()
    assert session.get(type(f), f.id).responsible_manager_id == w.manager.id
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "file.change_manager", AuditEntry.target_id == str(f.id),
        AuditEntry.detail == "恢复原责任经理"))


def test_R_FILE_2_leaving_or_changing_department_removes_memberships(
        cleared, session, upload):  # noqa: F811
    w = cleared
    first = upload(w.sales1, Level.SECRET, customer_id=w.customers["sales1"][0].id)
    second = upload(w.sales1, Level.SECRET, customer_id=w.customers["sales1"][1].id)
    files.add_scope_member(session, w.sales1, first.id, w.sales2.id)
    files.add_scope_member(session, w.sales1, second.id, w.supervisor.id)
    assert policy.can_read_file(w.sales2, first)
    # sales2 moves to the other department: out of every knowledge scope at once
    users.update_user(session, w.sysadmin, w.sales2.id, {"branch_id": w.b3.id})
    assert _members(session, first) == set()
    assert not policy.can_read_file(session.get(type(w.sales2), w.sales2.id), first)
    # the supervisor leaves: the same
    users.deactivate_user(session, w.sysadmin, w.supervisor.id, "离职")
    assert _members(session, second) == set()
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "file.remove_scope_member", AuditEntry.target_id == str(second.id)))
