"""Issue 12 (10), finished: the state-change verbs that still went through without the version
the user saw — 登记成交, 认领, 关闭档案, 客户移交, 停用/恢复账号, 催办, and the knowledge-scope
verbs of a file — require it too, through both doors (security B, G; R-AUD-4).

For every verb:
- GraphQL: ``expectedVersion: Int!``; without it the request is refused before anything runs;
  a stale one answers ``conflict``. Portal: the form carries the version (``version`` on one-row
  forms, ``versions`` = "id:version,…" on forms acting on selected rows); without it a clear
  message, with a stale one the conflict message.
- A refusal changes nothing. A stale version leaves exactly one 'denied' audit entry naming
  the reason (optimistic lock, the version seen and the current one); a missing one is the
  client's input error and changes nothing.
- With the version the user saw, the verb goes through."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from models import AuditEntry, Complaint, ConfidentialFile, Customer, User
from models.enums import Level
from portal.services import complaints, files, users
from tests.doors.conftest import expire_ownership, form_versions
from tests.files.conftest import cleared, upload  # noqa: F401
from tests.graphql.conftest import Api, make_token

MISSING = "没有说明您看到的是记录的哪个版本"
CONFLICT = "已有其他人修改了它"


@dataclass
class Case:
    """One verb through both doors. ``record`` is re-read for its current version."""
    model: type
    record_id: int
    gql_user: Any
    mutation: str  # its arguments, without expectedVersion; ``$id`` is the record
    name: str
    portal_user: Any
    url: str
    form: dict[str, str]
    several: bool = False  # the form acts on selected rows: ``versions`` = "id:version"
    done: Callable[[Any], bool] = lambda r: True
    variables: dict[str, Any] = field(default_factory=dict)


def _fresh(session, case: Case) -> Any:
    session.expire_all()
    return session.get(case.model, case.record_id)


def _deal(world, session, _upload) -> Case:
    c = world.customers["sales1"][0]
    expire_ownership(session, c)
    return Case(Customer, c.id, world.sales1, f'recordDeal(customerId: "Customer:{c.id}"',
                "recordDeal", world.sales1, f"/admin/customer/deal/?id={c.id}", {},
                done=lambda r: r.deal_at is not None)


def _claim(world, session, _upload) -> Case:
    c = world.customers["sales1"][0]
    expire_ownership(session, c)
    return Case(Customer, c.id, world.sales2, f'claimCustomer(customerId: "Customer:{c.id}"',
                "claimCustomer", world.sales2, f"/admin/customer/claim/?id={c.id}", {},
                done=lambda r: r.owner_id == world.sales2.id)


def _close(world, session, _upload) -> Case:
    c = world.customers["sales1"][0]
    return Case(Customer, c.id, world.manager,
                f'closeCustomer(customerId: "Customer:{c.id}", reason: "客户注销"',
                "closeCustomer", world.manager, f"/admin/customer/close/?id={c.id}",
                {"reason": "客户注销"}, done=lambda r: r.status == "closed")


def _reassign(world, session, _upload) -> Case:
    c = world.customers["sales1"][0]
    expire_ownership(session, c)
    return Case(Customer, c.id, world.supervisor,
                f'reassignOwner(customerId: "Customer:{c.id}", newOwnerId: '
                f'"User:{world.sales2.id}", reason: "建档过期移交"', "reassignOwner",
                world.supervisor, f"/admin/customer/reassign/?ids={c.id}",
                {"ids": str(c.id), "new_owner": str(world.sales2.id), "reason": "建档过期移交"},
                several=True, done=lambda r: r.owner_id == world.sales2.id)


def _deactivate(world, session, _upload) -> Case:
    u = world.sales3
    return Case(User, u.id, world.sysadmin,
                f'deactivateUser(userId: "User:{u.id}", reason: "离职"', "deactivateUser",
                world.sysadmin, f"/admin/user/deactivate/?ids={u.id}",
                {"ids": str(u.id), "reason": "离职"}, several=True,
                done=lambda r: not r.is_active)


def _reactivate(world, session, _upload) -> Case:
    u = world.sales3
    users.deactivate_user(session, world.sysadmin, u.id, "休假")
    return Case(User, u.id, world.sysadmin,
                f'reactivateUser(userId: "User:{u.id}", reason: "返岗"', "reactivateUser",
                world.sysadmin, f"/admin/user/reactivate/?ids={u.id}",
                {"ids": str(u.id), "reason": "返岗"}, several=True,
                done=lambda r: r.is_active)


def _remind(world, session, _upload) -> Case:
    c = complaints.register_complaint(session, world.service, {
        "customer_id": world.customers["sales1"][0].id, "channel": "phone",
        "type": "complaint", "cause": "service", "description": "送货迟到三天"})
    return Case(Complaint, c.id, world.manager,
                f'remindComplaint(complaintId: "Complaint:{c.id}", note: "请今天答复"',
                "remindComplaint", world.manager,
                f"/admin/complaint/workflow/?id={c.id}&op=remind", {"note": "请今天答复"},
                done=lambda r: bool(r.reminders))


def _follow_up_intent(world, session, _upload) -> Case:
    """记录回访 with a new intent level: the intent is a change of the archive."""
    c = world.customers["sales1"][0]
    other = "hot" if c.intent != "hot" else "cold"
    return Case(Customer, c.id, None, "", "", world.sales1,
                f"/admin/customer/follow-up/?ids={c.id}",
                {"ids": str(c.id), "kind": "call", "notes": "电话回访", "intent": other},
                several=True, done=lambda r: r.intent == other and bool(r.follow_ups))


def _classified(world, session, upload) -> ConfidentialFile:  # noqa: F811
    for u in (world.sales1, world.sales2):
        u.clearance = Level.CONFIDENTIAL
    world.manager.clearance = Level.TOP_SECRET
    world.manager2.clearance = Level.CONFIDENTIAL
    session.commit()
    return upload(world.manager, Level.CONFIDENTIAL)


def _scope_add(world, session, upload) -> Case:  # noqa: F811
    f = _classified(world, session, upload)
    return Case(ConfidentialFile, f.id, None, "", "", world.manager,
                f"/admin/file/scope/?id={f.id}", {"user_id": str(world.sales1.id)},
                done=lambda r: {m.user_id for m in r.scope_members} == {world.sales1.id})


def _scope_remove(world, session, upload) -> Case:  # noqa: F811
    f = _classified(world, session, upload)
    files.add_scope_member(session, world.manager, f.id, world.sales1.id)
    return Case(ConfidentialFile, f.id, world.manager,
                f'removeFileScopeMember(fileId: "ConfidentialFile:{f.id}", '
                f'userId: "User:{world.sales1.id}", reason: "项目结束"', "removeFileScopeMember",
                world.manager, f"/admin/file/scope/remove/?id={f.id}",
                {"user_id": str(world.sales1.id), "reason": "项目结束"},
                done=lambda r: not r.scope_members)


def _manager(world, session, upload) -> Case:  # noqa: F811
    f = _classified(world, session, upload)
    return Case(ConfidentialFile, f.id, world.manager,
                f'changeFileResponsibleManager(fileId: "ConfidentialFile:{f.id}", '
                f'managerId: "User:{world.manager2.id}", reason: "部门调整"',
                "changeFileResponsibleManager", world.manager, f"/admin/file/manager/?id={f.id}",
                {"manager_id": str(world.manager2.id), "reason": "部门调整"},
                done=lambda r: r.responsible_manager_id == world.manager2.id)


CASES = {"record_deal": _deal, "claim_customer": _claim, "close_customer": _close,
         "reassign_owner": _reassign, "deactivate_user": _deactivate,
         "reactivate_user": _reactivate, "remind_complaint": _remind,
         "follow_up_with_intent": _follow_up_intent,
         "add_scope_member": _scope_add, "remove_scope_member": _scope_remove,
         "change_responsible_manager": _manager}


def _denied_reasons(session, mark: int) -> list[str]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry.detail).where(
        AuditEntry.seq > mark, AuditEntry.outcome == "denied")))


def _mark(session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))


@pytest.mark.parametrize("verb", sorted(CASES))
def test_R_AUD_4_every_state_change_needs_the_version_through_graphql(
        verb, app, world, session, upload, unchanged):  # noqa: F811
    case = CASES[verb](world, session, upload)
    if case.gql_user is None:
        pytest.skip("the portal is this verb's only door (no GraphQL mutation)")
    api = Api(app.test_client(), make_token(session, case.gql_user))
    api("{ me { user { id } } }")  # the token's first use is recorded once
    payload = "{ ok errors { code message } }"
    with unchanged(denied=0, exclude=frozenset({"api_tokens"})):
        body = api.post(f"mutation {{ {case.name}: {case.mutation}) {payload} }}").get_json()
        assert body.get("data") is None and any(
            "expectedVersion" in e["message"] for e in body["errors"]), body
    stale = _fresh(session, case).version + 5
    mark = _mark(session)
    with unchanged(denied=1, exclude=frozenset({"api_tokens"})):
        body = api(f"mutation {{ {case.name}: {case.mutation}, expectedVersion: {stale}) "
                   f"{payload} }}")
        answer = body["data"][case.name]
        assert not answer["ok"] and answer["errors"][0]["code"] == "conflict", body
    [reason] = _denied_reasons(session, mark)
    assert reason.startswith(f"optimistic lock (version {stale} seen, "), reason
    seen = _fresh(session, case).version
    body = api(f"mutation {{ {case.name}: {case.mutation}, expectedVersion: {seen}) "
               f"{payload} }}")
    assert body["data"][case.name]["ok"], body
    assert case.done(_fresh(session, case))


@pytest.mark.parametrize("verb", sorted(CASES))
def test_R_AUD_4_every_state_change_needs_the_version_through_the_portal(
        verb, login, world, session, upload, unchanged):  # noqa: F811
    case = CASES[verb](world, session, upload)
    client = login(case.portal_user)
    carried = form_versions(client, case.url)
    key = "versions" if case.several else "version"
    current = _fresh(session, case).version
    expected = f"{case.record_id}:{current}" if case.several else str(current)
    assert carried == {key: expected}, carried  # the form carries what the user saw
    with unchanged(denied=0):
        resp = client.post(case.url, data=case.form, follow_redirects=True)
        assert resp.status_code == 200 and MISSING in resp.get_data(as_text=True)
    stale = f"{case.record_id}:{current + 5}" if case.several else str(current + 5)
    mark = _mark(session)
    with unchanged(denied=1):
        resp = client.post(case.url, data={**case.form, key: stale}, follow_redirects=True)
        assert resp.status_code == 200 and CONFLICT in resp.get_data(as_text=True)
    [reason] = _denied_reasons(session, mark)
    assert reason.startswith(f"optimistic lock (version {current + 5} seen, "), reason
    resp = client.post(case.url, data={**case.form, key: expected})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    assert case.done(_fresh(session, case))
