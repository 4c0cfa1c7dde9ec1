"""Campaign A, account security (R-ROLE-6, R-AUD-5): the attempts an assessor makes on the
account controls, each answered as expected (never a 5xx), changing nothing it must not change,
and leaving the audit entry it must leave. Counted into the campaign line as
``account security N cases M unexpected``.

- password reuse (each of the last five, portal and GraphQL): refused, the hash unchanged, one
  denied entry;
- expired administrator password: every portal page leads to the change page, every GraphQL
  query refused (403, one denied entry);
- idle session: past the idle limit the old cookie is signed out, on the portal and GraphQL;
- API token after a password change: 401 for every token the user held;
- the monthly security report for each role but the security auditor: 403 in the portal, in
  its CSV and in GraphQL, nothing changed, one denied entry each.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models import User
from models.base import utcnow
from portal import session_timeout
from portal.passwords import hash_password
from portal.services import password_policy
from tests.factories import PASSWORD
from tests.graphql.conftest import Api, make_token
from tests.security import campaign
from tests.security.conftest import ROLES

CHANGE = """mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c,
  newPassword: $n) { ok errors { rule } } }"""
TOKEN_USE = frozenset({"api_tokens"})  # a token's last use is recorded on every request
OLD = [f"Former-pass-{i}-Ab" for i in range(1, 6)]


def _case(ok: bool, what: str) -> None:
    campaign.tally("account_cases", "account_unexpected", not ok)
    assert ok, what


def _hash_of(session, user) -> str:
    session.expire_all()
    return session.scalar(select(User.password_hash).where(User.id == user.id))


def test_campaign_password_reuse_refused_in_both_doors(session, world, login, app,
                                                       unchanged):
    user = session.get(User, world.sales2.id)
    for old in [*OLD, PASSWORD]:  # the current password last: five earlier ones in history
        password_policy.store_password(session, user, hash_password(old), must_change=False)
    session.commit()
    c = login(world.sales2)
    api = Api(app.test_client(), make_token(session, world.sales2))
    for old in OLD[1:]:  # the last five passwords before the current one … and the current
        before = _hash_of(session, world.sales2)
        with unchanged(denied=1):
            resp = campaign.check_response(c.post("/account/password", data={
                "current_password": PASSWORD, "new_password": old, "confirm_password": old}))
        _case(resp.status_code in (200, 400) and _hash_of(session, world.sales2) == before,
              f"portal reuse of {old}: {resp.status_code}")
        with unchanged(denied=1, exclude=TOKEN_USE):
            out = api(CHANGE, {"c": PASSWORD, "n": old})
        _case(out["data"]["changeMyPassword"]["ok"] is False
              and out["data"]["changeMyPassword"]["errors"][0]["rule"] == "R-ROLE-6",
              f"graphql reuse of {old}: {out}")


def test_campaign_expired_admin_password_holds_everything_back(session, world, login, app,
                                                               unchanged):
    for admin in (world.sysadmin, world.secadmin, world.secauditor):
        c = login(admin)
        api = Api(app.test_client(), make_token(session, admin))
        session.get(User, admin.id).password_changed_at = utcnow() - timedelta(days=91)
        session.commit()
        for path in ("/admin/", "/admin/user/", "/admin/security-report/", "/admin/inbox/"):
            resp = campaign.check_response(c.get(path))
            _case(resp.status_code == 302
                  and resp.headers["Location"].endswith("/account/password"),
                  f"{admin.username} {path}: {resp.status_code}")
        for doc in ("{ me { username } }", '{ securityReport(month: "2026-10") { month } }'):
            with unchanged(denied=1, exclude=TOKEN_USE):
                resp = campaign.check_response(api.post(doc))
            _case(resp.status_code == 403, f"{admin.username} graphql: {resp.status_code}")


def test_campaign_idle_session_is_signed_out(session, world, login, monkeypatch):
    now = [datetime(2026, 3, 2, 1, 0, tzinfo=UTC).timestamp()]
    monkeypatch.setattr(session_timeout, "wall_clock", lambda: now[0])
    for user in (world.sales1, world.secauditor, world.gm):
        c = login(user)
        now[0] += timedelta(minutes=31).total_seconds()
        resp = campaign.check_response(c.get("/admin/"))
        _case(resp.status_code == 302 and "/login" in resp.headers["Location"],
              f"{user.username} after 31 idle minutes: {resp.status_code}")
        gql = campaign.check_response(c.post("/graphql", json={"query": "{ me { username } }"}))
        _case(gql.status_code == 401, f"{user.username} graphql cookie: {gql.status_code}")


def test_campaign_tokens_end_with_the_password_change(session, world, app):
    user = world.sales3
    tokens = [make_token(session, user) for _ in range(3)]
    api = Api(app.test_client(), tokens[0])
    out = api(CHANGE, {"c": PASSWORD, "n": "Brand-new-pass-42"})
    _case(out["data"]["changeMyPassword"]["ok"] is True, f"change: {out}")
    for raw in tokens:
        resp = campaign.check_response(Api(app.test_client(), raw).post("{ me { username } }"))
        _case(resp.status_code == 401, f"token after change: {resp.status_code}")


@pytest.mark.parametrize("role", [r for r in ROLES if r != "secauditor"])
def test_campaign_security_report_refused_to_other_roles(session, world, clients, app,
                                                         unchanged, role):
    c = clients[role]
    for path in ("/admin/security-report/?month=2026-10",
                 "/admin/security-report/?month=2026-10&format=csv"):
        with unchanged(denied=1):
            resp = campaign.check_response(c.get(path))
        _case(resp.status_code == 403, f"{role} {path}: {resp.status_code}")
    api = Api(app.test_client(), make_token(session, world.roles[role]))
    with unchanged(denied=1, exclude=TOKEN_USE):
        out = api('{ securityReport(month: "2026-10") { month csv } }')
    _case(out["data"] == {"securityReport": None}
          and out["errors"][0]["extensions"]["code"] == "FORBIDDEN", f"{role} graphql: {out}")
