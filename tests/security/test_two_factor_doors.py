"""R-ROLE-6 two-factor sign-in through the doors: a password alone does not sign an enrolled
user in (portal code page), wrong and replayed codes are refused and lock the account, a
recovery code works once, a user who must use two factors can do nothing but enrol (portal and
GraphQL), API tokens and second-factor resets only from a two-factor session, the reset is a
two-person action in the portal and refused with a token in GraphQL."""

from __future__ import annotations

from sqlalchemy import func, select

from models import AuditEntry, PendingAction, User
from models.org import TwoFactor
from portal.services import two_factor
from tests.factories import PASSWORD, TOTP_SECRET, pass_second_factor, totp_code
from tests.graphql.conftest import make_token

WRONG = "000000"


def _wrong_code() -> str:
    near = {two_factor.code_at(TOTP_SECRET, two_factor.time_step() + s) for s in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in near)


def _password(client, user):
    return client.post("/login", data={"username": user.username, "password": PASSWORD})


def _fresh(session, user) -> User:
    session.expire_all()
    return session.get(User, user.id)


def _unenrol(session, user) -> None:
    session.execute(TwoFactor.__table__.delete().where(TwoFactor.user_id == user.id))
    session.commit()


def _count(session, action: str, outcome: str) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == action, AuditEntry.outcome == outcome)) or 0)


def test_R_ROLE_6_password_alone_does_not_sign_in_an_administrator(world, session, client):
    resp = _password(client, world.gm)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login/code")
    assert client.get("/admin/").status_code == 302  # nothing but the code page
    assert client.get("/account/tokens").status_code == 302
    page = client.get("/login/code").get_data(as_text=True)
    assert 'id="code"' in page and "验证器" in page
    refused = client.post("/login/code", data={"code": _wrong_code()})
    assert refused.status_code == 401 and "动态码错误" in refused.get_data(as_text=True)
    assert _fresh(session, world.gm).failed_logins == 1
    ok = client.post("/login/code", data={"code": totp_code()})
    assert ok.status_code == 302 and client.get("/admin/").status_code == 200
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")
                            .order_by(AuditEntry.id.desc())).first()
    assert entry.outcome == "ok" and entry.detail == "password and second factor"
    assert _count(session, "auth.two_factor", "denied") == 1
    assert _count(session, "auth.two_factor", "ok") == 1
    # the notice after sign-in counts the wrong code as a failed attempt
    c2 = client.application.test_client()
    _password(c2, world.gm)
    pass_second_factor(c2, world.gm)
    page = c2.get("/admin/").get_data(as_text=True)
    assert "失败" in page


def test_R_ROLE_6_replayed_code_is_refused_at_sign_in(world, session, app):
    first, second = app.test_client(), app.test_client()
    _password(first, world.secadmin)
    code = totp_code()
    assert first.post("/login/code", data={"code": code}).status_code == 302
    _password(second, world.secadmin)
    assert second.post("/login/code", data={"code": code}).status_code == 401
    denied = session.scalars(select(AuditEntry.detail).where(
        AuditEntry.action == "auth.two_factor", AuditEntry.outcome == "denied")).all()
    assert denied == [two_factor.REPLAYED]


def test_R_ROLE_6_wrong_codes_lock_the_account_and_the_password_buys_no_more(world, session,
                                                                           app):
    limit = app.config["LOGIN_MAX_FAILURES"]
    c = app.test_client()
    _password(c, world.sysadmin)
    for _ in range(limit - 2):
        assert c.post("/login/code", data={"code": _wrong_code()}).status_code == 401
    _password(c, world.sysadmin)  # the right password again does not clear the count
    assert _fresh(session, world.sysadmin).failed_logins == limit - 2
    c.post("/login/code", data={"code": _wrong_code()})
    last = c.post("/login/code", data={"code": _wrong_code()})
    assert last.status_code == 302 and last.headers["Location"].endswith("/login")
    user = _fresh(session, world.sysadmin)
    assert user.locked_until is not None
    assert _count(session, "auth.lockout", "denied") == 1
    # locked: the password is refused like a wrong one, and no code page is reached
    assert _password(app.test_client(), world.sysadmin).status_code == 401


def test_R_ROLE_6_recovery_code_signs_in_once(world, session, app):
    _unenrol(session, world.gm)
    secret = two_factor.begin_enrolment(session, world.gm)
    codes = two_factor.confirm_enrolment(
        session, world.gm, two_factor.code_at(secret, two_factor.time_step())).recovery_codes
    c = app.test_client()
    _password(c, world.gm)
    assert "恢复码" in c.get("/login/code?recovery=1").get_data(as_text=True)
    assert c.post("/login/code", data={"recovery_code": codes[0]}).status_code == 302
    assert c.get("/admin/").status_code == 200
    c2 = app.test_client()
    _password(c2, world.gm)
    assert c2.post("/login/code", data={"recovery_code": codes[0]}).status_code == 401
    assert two_factor.status(session, world.gm).recovery_codes_left == 9


def test_R_ROLE_6_enrol_first_wall_in_the_portal(world, session, app):
    _unenrol(session, world.sysadmin)
    c = app.test_client()
    resp = _password(c, world.sysadmin)
    assert resp.status_code == 302
    for path in ("/admin/", "/admin/user/", "/account/tokens", "/admin/setting/"):
        r = c.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/account/two-factor"), path
    assert c.post("/account/tokens", data={"name": "x", "expires_in_days": "30"}
                  ).status_code == 302
    page = c.get("/account/two-factor").get_data(as_text=True)
    assert "<svg" in page and 'id="enrol-secret"' in page and "http" not in \
        page.split('id="enrol-qr"')[1].split("</svg>")[0].split("xmlns")[0]
    secret = two_factor.pending_secret(session, _fresh(session, world.sysadmin))
    assert f'data-secret="{secret}"' in page
    wrong = c.post("/account/two-factor", data={"code": _wrong_code()})
    assert wrong.status_code == 400 and not two_factor.enrolled(session, world.sysadmin)
    done = c.post("/account/two-factor",
                  data={"code": two_factor.code_at(secret, two_factor.time_step())})
    assert done.status_code == 201 and done.get_data(as_text=True).count("<li>") == 10
    assert done.headers["Cache-Control"] == "no-store"
    assert c.get("/admin/user/").status_code == 200  # enrolled: the portal opens
    assert c.post("/account/tokens", data={"name": "手机", "expires_in_days": "30"}
                  ).status_code == 201  # this session was signed in with two factors
    assert _count(session, "two_factor.enrol", "ok") == 1


def test_R_ROLE_6_enrol_first_wall_in_graphql(world, session, app):
    _unenrol(session, world.sysadmin)
    raw = make_token(session, world.sysadmin)  # a token from before the control
    query = {"query": "{ me { user { username } } }"}
    refused = app.test_client().post("/graphql", json=query,
                                     headers={"Authorization": f"Bearer {raw}"})
    assert refused.status_code == 403
    assert refused.get_json()["errors"][0]["extensions"]["code"] == "TWO_FACTOR_REQUIRED"
    c = app.test_client()
    _password(c, world.sysadmin)
    assert c.post("/graphql", json=query).status_code == 403  # the cookie of the wall
    # an enrolled administrator's token works (tokens are created in two-factor sessions)
    raw2 = make_token(session, world.secadmin)
    ok = app.test_client().post("/graphql", json=query,
                                headers={"Authorization": f"Bearer {raw2}"})
    assert ok.status_code == 200 and ok.get_json()["data"]["me"]["user"]["username"] == "secadmin1"
    # users who need no second factor are not affected
    raw3 = make_token(session, world.sales1)
    assert app.test_client().post("/graphql", json=query, headers={
        "Authorization": f"Bearer {raw3}"}).status_code == 200


def test_R_ROLE_6_reset_is_two_person_in_the_portal_and_refused_with_a_token(world, session,
                                                                            app, login):
    target = world.gm
    sysadmin = login(world.sysadmin)
    page = sysadmin.get(f"/admin/user/details/?id={target.id}").get_data(as_text=True)
    assert "重置双因素" in page
    resp = sysadmin.post(f"/admin/user/two-factor/?ids={target.id}", data={"reason": "手机丢失"})
    assert resp.status_code == 302
    p = session.scalar(select(PendingAction))
    assert p.kind == two_factor.RESET_KIND and p.status == "pending"
    assert two_factor.enrolled(session, target)
    refused = sysadmin.post(f"/admin/pendingaction/confirm/?id={p.id}", data={})
    assert "三员分立" in refused.get_data(as_text=True)
    assert two_factor.enrolled(session, _fresh(session, target))  # not by the requester
    secadmin = login(world.secadmin)
    assert secadmin.post(f"/admin/pendingaction/confirm/?id={p.id}", data={}).status_code == 302
    assert not two_factor.enrolled(session, _fresh(session, target))
    # the holder enrols again at the next sign-in
    c = app.test_client()
    _password(c, target)
    assert c.get("/admin/").headers["Location"].endswith("/account/two-factor")

    # GraphQL with a token: refused with a clear error, nothing requested, one denied entry
    enrolled_again = world.secauditor
    raw = make_token(session, world.sysadmin)
    before = session.scalar(select(func.count()).select_from(PendingAction))
    out = app.test_client().post("/graphql", headers={"Authorization": f"Bearer {raw}"}, json={
        "query": 'mutation($u: ID!) { requestAccountAction(kind: RESET_TWO_FACTOR, userId: $u, '
                 'reason: "x") { ok errors { rule message } } }',
        "variables": {"u": f"User:{enrolled_again.id}"}}).get_json()
    payload = out["data"]["requestAccountAction"]
    assert payload["ok"] is False and payload["errors"][0]["rule"] == "R-ROLE-6"
    assert "API token" in payload["errors"][0]["message"] or "令牌" in \
        payload["errors"][0]["message"]
    assert session.scalar(select(func.count()).select_from(PendingAction)) == before
    assert session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == two_factor.RESET_KIND, AuditEntry.outcome == "denied")) == 1
