"""Issue 12 (2): the three administrators check each other (R-ROLE-2). A password reset,
deactivation or reactivation of an account holding sysadmin, secadmin or secauditor is a
two-person action: requested by one, carried out when a second of the three confirms; all
three are notified; refusable, expiring, audited. Acting alone is refused (one denied entry,
nothing changed) through the portal, GraphQL and the service."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Notification, PendingAction, User
from portal import clock
from portal.passwords import verify_password
from portal.services import two_person, users
from portal.services.errors import RuleViolation, ValidationFailed
from tests.graphql.conftest import make_token
from tests.security import campaign

NEW = "Brand-new-pass-2026"
REQUEST = """mutation($k: AccountActionKind!, $u: ID!, $r: String!, $p: String) {
  requestAccountAction(kind: $k, userId: $u, reason: $r, newPassword: $p) {
    ok errors { code message rule } result { id state kind } } }"""
CONFIRM = """mutation($id: ID!) { confirmPendingAction(pendingActionId: $id) {
  ok errors { code message rule } result { state } } }"""
REFUSE = """mutation($id: ID!, $n: String!) { refusePendingAction(pendingActionId: $id, note: $n) {
  ok errors { code message } result { state } } }"""


def _sod(ok: bool) -> None:
    campaign.tally("sod_cases", "sod_unexpected", not ok)


def _gql(client, session, user, query, variables):
    token = make_token(session, user)
    resp = client.post("/graphql", json={"query": query, "variables": variables},
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def _fresh(session, user) -> User:
    session.expire_all()
    return session.get(User, user.id)


def test_R_ROLE_2_sysadmin_cannot_act_alone_on_admin_accounts(world, session, client, unchanged):
    for target in (world.secadmin, world.secauditor):
        with unchanged(denied=1), pytest.raises(RuleViolation):
            users.reset_password(session, world.sysadmin, target, NEW)
        with unchanged(denied=1), pytest.raises(RuleViolation):
            users.deactivate_user(session, world.sysadmin, target.id, "takeover")
        token = make_token(session, world.sysadmin)
        with unchanged(denied=1, exclude=frozenset({"api_tokens"})):  # last use recorded
            out = client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
                "query": 'mutation($u: ID!, $v: Int!) { deactivateUser(userId: $u, '
                         'reason: "x", expectedVersion: $v) { ok errors { rule } } }',
                "variables": {"u": f"User:{target.id}", "v": target.version}
            }).get_json()
            assert out["data"]["deactivateUser"]["errors"][0]["rule"] == "R-ROLE-2"
        fresh = _fresh(session, target)
        _sod(fresh.is_active and verify_password(fresh.password_hash, "Test-password-1"))


def test_R_ROLE_2_two_person_password_reset_through_the_portal(world, session, login, unchanged):
    sysadmin, secadmin, secauditor = (login(world.sysadmin), login(world.secadmin),
                                      login(world.secauditor))
    raw = make_token(session, world.secadmin)
    page = sysadmin.get(f"/admin/user/password/?ids={world.secadmin.id}").get_data(as_text=True)
    assert "另一位管理员确认" in page
    resp = sysadmin.post(f"/admin/user/password/?ids={world.secadmin.id}",
                         data={"new_password": NEW})
    assert resp.status_code == 302
    p = session.scalar(select(PendingAction))
    assert p.kind == "user.reset_password" and p.status == "pending"
    assert NEW not in (p.params or "")  # only the hash waits
    _sod(verify_password(_fresh(session, world.secadmin).password_hash, "Test-password-1"))
    # all three administrators are told
    told = set(session.scalars(select(Notification.user_id)).all())
    assert {world.sysadmin.id, world.secadmin.id, world.secauditor.id} <= told
    # the requester cannot confirm their own request; the target cannot confirm either
    with unchanged(denied=1):
        sysadmin.post(f"/admin/pendingaction/confirm/?id={p.id}", data={})
    with unchanged(denied=1):
        secadmin.post(f"/admin/pendingaction/confirm/?id={p.id}", data={})
    # nobody else sees the page
    assert login(world.gm).get("/admin/pendingaction/").status_code == 403
    # the security auditor confirms: carried out now
    assert secauditor.get("/admin/pendingaction/").status_code == 200
    resp = secauditor.post(f"/admin/pendingaction/confirm/?id={p.id}", data={})
    assert resp.status_code == 302
    fresh = _fresh(session, world.secadmin)
    assert verify_password(fresh.password_hash, NEW)
    assert session.get(PendingAction, p.id).status == "confirmed"
    # the reset ended the account's API tokens (R-ROLE-6)
    assert client_works(login, session, raw) is False
    actions = [a for (a,) in session.execute(select(AuditEntry.action).where(
        AuditEntry.outcome == "ok"))]
    assert "two_person.request" in actions and "two_person.confirm" in actions
    assert "user.reset_password" in actions


def client_works(login, session, raw) -> bool:
    from flask import current_app

    resp = current_app.test_client().post("/graphql", json={"query": "{ me { user { id } } }"},
                                          headers={"Authorization": f"Bearer {raw}"})
    return resp.status_code == 200 and not resp.get_json().get("errors")


def test_R_ROLE_2_two_person_deactivation_and_reactivation_through_graphql(world, session,
                                                                          client):
    target = world.secauditor
    out = _gql(client, session, world.sysadmin, REQUEST, {
        "k": "DEACTIVATE", "u": f"User:{target.id}", "r": "离职"})
    payload = out["data"]["requestAccountAction"]
    assert payload["ok"], payload
    pid = payload["result"]["id"]
    _sod(_fresh(session, target).is_active)
    # the requester confirming: refused with the rule
    out = _gql(client, session, world.sysadmin, CONFIRM, {"id": pid})
    assert out["data"]["confirmPendingAction"]["errors"][0]["rule"] == "R-ROLE-2"
    _sod(_fresh(session, target).is_active)
    out = _gql(client, session, world.secadmin, CONFIRM, {"id": pid})
    assert out["data"]["confirmPendingAction"]["result"]["state"] == "confirmed"
    assert not _fresh(session, target).is_active
    # reactivation: also two-person; the list shows it to the three
    out = _gql(client, session, world.sysadmin, REQUEST, {
        "k": "REACTIVATE", "u": f"User:{target.id}", "r": "返岗"})
    pid = out["data"]["requestAccountAction"]["result"]["id"]
    listed = _gql(client, session, world.secadmin, "{ pendingActions { id kind state } }", {})
    assert [p["id"] for p in listed["data"]["pendingActions"]] == [pid]
    out = _gql(client, session, world.secadmin, CONFIRM, {"id": pid})
    assert out["data"]["confirmPendingAction"]["ok"]
    assert _fresh(session, target).is_active


def test_R_ROLE_2_two_person_refused_cancelled_and_expired(world, session, client):
    target = world.secadmin
    p = two_person.request_action(session, world.sysadmin, "user.deactivate", target.id, {},
                                  "test")
    with pytest.raises(ValidationFailed):  # the same request twice
        two_person.request_action(session, world.sysadmin, "user.deactivate", target.id, {},
                                  "again")
    out = _gql(client, session, world.secauditor, REFUSE, {"id": f"PendingAction:{p.id}",
                                                           "n": "无依据"})
    assert out["data"]["refusePendingAction"]["result"]["state"] == "refused"
    with pytest.raises(ValidationFailed):
        two_person.confirm_action(session, world.secauditor, p.id)
    _sod(_fresh(session, target).is_active)
    # withdrawn by the requester
    p2 = two_person.request_action(session, world.sysadmin, "user.deactivate", target.id, {},
                                   "test")
    assert two_person.refuse_action(session, world.sysadmin, p2.id, "撤回").status == "cancelled"
    # expired unconfirmed
    p3 = two_person.request_action(session, world.sysadmin, "user.deactivate", target.id, {},
                                   "test")
    clock.set_now(clock.now() + timedelta(hours=25))
    assert two_person.state(session.get(PendingAction, p3.id)) == "expired"
    with pytest.raises(ValidationFailed):
        two_person.confirm_action(session, world.secauditor, p3.id)
    _sod(_fresh(session, target).is_active)
    # a business role cannot confirm at all (one denied entry)
    p4 = two_person.request_action(session, world.sysadmin, "user.deactivate", target.id, {},
                                   "test")
    mark = session.scalar(select(func.max(AuditEntry.seq)))
    out = _gql(client, session, world.gm, CONFIRM, {"id": f"PendingAction:{p4.id}"})
    assert not out["data"]["confirmPendingAction"]["ok"]
    denied = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.seq > mark, AuditEntry.outcome == "denied"))
    assert denied == 1
    _sod(_fresh(session, target).is_active)


def test_R_ROLE_2_ordinary_accounts_are_reactivated_directly(world, session, login):
    users.deactivate_user(session, world.sysadmin, world.sales3.id, "休假")
    c = login(world.sysadmin)
    page = c.get(f"/admin/user/details/?id={world.sales3.id}").get_data(as_text=True)
    assert "恢复账号" in page
    versions = f"{world.sales3.id}:{_fresh(session, world.sales3).version}"
    assert f'name="versions" value="{versions}"' in c.get(
        f"/admin/user/reactivate/?ids={world.sales3.id}").get_data(as_text=True)
    resp = c.post(f"/admin/user/reactivate/?ids={world.sales3.id}",
                  data={"reason": "返岗", "versions": versions})
    assert resp.status_code == 302
    assert _fresh(session, world.sales3).is_active
    assert session.scalar(select(func.count()).select_from(PendingAction)) == 0


def test_R_ROLE_2_two_person_notifications_name_the_action_in_the_readers_language(
        world, session, login):
    """The 待办 of a two-person request names the action (重置密码 / Reset the password), never
    its key ``user.reset_password``, in the inbox and through GraphQL."""
    from flask import current_app

    login(world.sysadmin).post(f"/admin/user/password/?ids={world.secadmin.id}",
                               data={"new_password": NEW})
    note = session.scalar(select(Notification).where(
        Notification.user_id == world.secadmin.id))
    assert note is not None and note.kind == "two_person.requested"
    zh = login(world.secadmin).get("/admin/inbox/").get_data(as_text=True)
    assert "重置密码" in zh and "user.reset_password" not in zh
    token = make_token(session, world.secadmin)
    for lang, expected in (("zh_Hans_CN", "重置密码"), ("en", "Reset the password")):
        world.secadmin.language = lang  # GraphQL answers in the account's language
        session.commit()
        out = current_app.test_client().post(
            "/graphql", json={"query": "{ myNotifications { edges { node { message } } } }"},
            headers={"Authorization": f"Bearer {token}"}).get_json()
        messages = [e["node"]["message"] for e in out["data"]["myNotifications"]["edges"]]
        assert any(expected in m for m in messages), messages
        assert not any("user.reset_password" in m for m in messages)
