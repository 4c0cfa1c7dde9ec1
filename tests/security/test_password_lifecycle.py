"""R-ROLE-6 password lifecycle through both doors: strength, common list, login name, reuse of
the last five, administrator expiry, and the change forced at first sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEntry, User
from models.base import utcnow
from models.settings import Setting
from portal import settings
from portal.passwords import verify_password
from portal.services import password_policy, users
from portal.services.errors import RuleViolation
from tests.factories import PASSWORD
from tests.graphql.conftest import Api, make_token

CHANGE = """mutation($c: String!, $n: String!) { changeMyPassword(currentPassword: $c,
  newPassword: $n) { ok errors { code rule message } } }"""


def _change(c, new: str, current: str = PASSWORD):
    return c.post("/account/password", data={"current_password": current,
                                             "new_password": new, "confirm_password": new})


def _denied(session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")))


@pytest.mark.parametrize("weak", [
    "Short-1a",            # under 12 characters
    "alllowercaseletters",  # one character kind
    "lowercase-and-dash",   # two kinds
    "password1234",         # on the common list (and two kinds)
])
def test_R_ROLE_6_weak_password_refused_in_portal_and_nothing_changes(world, login, session,
                                                                     weak):
    c = login(world.sales1)
    resp = _change(c, weak)
    assert resp.status_code == 400
    session.expire_all()
    assert verify_password(session.get(User, world.sales1.id).password_hash, PASSWORD)
    assert [e.action for e in _denied(session)] == ["user.change_password"]
    assert "R-ROLE-6" in _denied(session)[0].detail


def test_R_ROLE_6_common_list_and_login_name_refused(world, session):
    assert "password" in password_policy.common_passwords()
    assert len(password_policy.common_passwords()) > 19_000
    with pytest.raises(RuleViolation, match="common"):
        password_policy.check_strength(session, "Password1234", "x")  # list is case-blind
    with pytest.raises(RuleViolation, match="login name"):
        password_policy.check_strength(session, "Zhang.Wei.2026", "zhang.wei.2026")


def test_R_ROLE_6_length_and_kinds_are_settings(world, session):
    session.add(Setting(key="password.min_length", value="16"))
    session.commit()
    settings.forget(session)
    with pytest.raises(RuleViolation, match="16"):
        password_policy.check_strength(session, "Fifteen-chars-1", "x")
    password_policy.check_strength(session, "Sixteen-chars-12", "x")


def test_R_ROLE_6_last_five_passwords_not_reused(world, login, session):
    c = login(world.sales1)
    chain = [f"Rotation-pass-{i}x" for i in range(1, 6)]
    assert _change(c, chain[0]).status_code == 302
    c = login(world.sales1, chain[0])
    assert _change(c, PASSWORD, chain[0]).status_code == 400  # the previous one
    assert _change(c, chain[0], chain[0]).status_code == 400  # the current one
    current = chain[0]
    for new in chain[1:]:
        assert _change(c, new, current).status_code == 302
        current = new
        c = login(world.sales1, current)
    # five changes later the original is six back: allowed again
    assert _change(c, PASSWORD, current).status_code == 302
    # the history keeps only what the rule needs (current + 4 earlier)
    from models.org import PasswordHistory
    kept = session.scalar(select(func.count()).select_from(PasswordHistory)
                          .where(PasswordHistory.user_id == world.sales1.id))
    assert kept == 4


def test_R_ROLE_6_admin_reset_forces_a_new_password_at_first_sign_in(world, login, session, app):
    users.reset_password(session, world.sysadmin, world.sales2, "Reset-by-admin-7")
    c = login(world.sales2, "Reset-by-admin-7")
    resp = c.get("/admin/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/account/password")
    page = c.get("/account/password").get_data(as_text=True)
    assert "Choose your own password" in page or "设置自己的密码" in page
    # the API refuses the cookie session too, with an audit entry
    api = Api(c)
    assert api.post("{ me { username } }").status_code == 403
    assert any("R-ROLE-6" in (e.detail or "") for e in _denied(session))
    assert _change(c, "Own-choice-pass-9", "Reset-by-admin-7").status_code == 302
    assert c.get("/admin/").status_code == 200


def test_R_ROLE_6_account_created_by_admin_must_change(world, login, session):
    user = users.create_user(session, world.sysadmin, {"username": "newbie",
                                                       "password": "Given-by-admin-3"})
    assert user.must_change_password
    c = login(user, "Given-by-admin-3")
    assert c.get("/admin/").status_code == 302
    assert _change(c, "Newbie-own-pass-4", "Given-by-admin-3").status_code == 302
    session.expire_all()
    assert not session.get(User, user.id).must_change_password


def test_R_ROLE_6_creation_and_console_validate_the_password(world, session):
    with pytest.raises(RuleViolation):
        users.create_user(session, world.sysadmin, {"username": "weakling",
                                                    "password": "qwertyuiop12"})
    assert session.scalar(select(User.id).where(User.username == "weakling")) is None
    assert [e.action for e in _denied(session)] == ["users.create_user"]
    with pytest.raises(RuleViolation):
        users.bootstrap_user(session, username="root2", full_name="Root",
                             password="root2", roles=["sysadmin"])


def test_R_ROLE_6_admin_password_expires_others_do_not(world, login, session):
    old = utcnow() - timedelta(days=91)
    for u in (world.secadmin, world.sales1):
        session.get(User, u.id).password_changed_at = old
    session.commit()
    assert password_policy.change_required(session, world.secadmin) == password_policy.EXPIRED
    c = login(world.secadmin)
    assert c.get("/admin/").status_code == 302
    assert "expired" in c.get("/account/password").get_data(as_text=True) \
        or "已过期" in c.get("/account/password").get_data(as_text=True)
    assert login(world.sales1).get("/admin/").status_code == 200
    # 0 = never
    session.add(Setting(key="password.admin_max_age_days", value="0"))
    session.commit()
    settings.forget(session)
    assert password_policy.change_required(session, world.secadmin) is None


def test_R_ROLE_6_graphql_change_my_password_ends_tokens(world, app, session):
    token = make_token(session, world.sales1)
    api = Api(app.test_client(), token)
    weak = api(CHANGE, {"c": PASSWORD, "n": "short"})["data"]["changeMyPassword"]
    assert weak["ok"] is False and weak["errors"][0]["rule"] == "R-ROLE-6"
    wrong = api(CHANGE, {"c": "not-it", "n": "Strong-new-pass-1"})["data"]["changeMyPassword"]
    assert wrong["ok"] is False
    session.expire_all()
    assert verify_password(session.get(User, world.sales1.id).password_hash, PASSWORD)
    ok = api(CHANGE, {"c": PASSWORD, "n": "Strong-new-pass-1"})["data"]["changeMyPassword"]
    assert ok["ok"] is True, ok
    assert api.post("{ me { username } }").status_code == 401  # the token ended with it


def test_R_ROLE_6_graphql_must_change_user_may_only_change_the_password(world, session, app):
    """An account created by an administrator (or reset, or expired) holds an API token: every
    query and every other mutation stays refused (403, audited), but ``changeMyPassword`` goes
    through — with the same rules as the portal (common password, reuse) — and then the token
    ends like every token of a password change."""
    user = users.create_user(session, world.sysadmin, {"username": "apinewbie",
                                                       "password": "Given-by-admin-3"})
    api = Api(app.test_client(), make_token(session, user))
    before = len(_denied(session))
    for doc in ("{ me { username } }",
                'mutation { markRead(all: true) { marked } }',
                # a password change smuggled next to a query, or after another operation
                'mutation { changeMyPassword(currentPassword: "x", newPassword: "y") { ok } '
                "  me: __typename } query Q { me { username } }",
                "mutation { ...F } fragment F on Mutation { markRead(all: true) { marked } }"):
        resp = api.post(doc)
        assert resp.status_code == 403, doc
        assert resp.get_json()["errors"][0]["extensions"]["code"] == "PASSWORD_CHANGE_REQUIRED"
    assert len(_denied(session)) == before + 4
    # the rules of the portal: a common password and the current one are refused
    for weak in ("password1234", "Given-by-admin-3"):
        out = api(CHANGE, {"c": "Given-by-admin-3", "n": weak})
        assert out["data"]["changeMyPassword"]["ok"] is False, weak
        assert out["data"]["changeMyPassword"]["errors"][0]["rule"] == "R-ROLE-6"
    wrong = api(CHANGE, {"c": "not-my-password", "n": "Apinewbie-own-9x"})
    assert wrong["data"]["changeMyPassword"]["ok"] is False
    session.expire_all()
    assert session.get(User, user.id).must_change_password
    out = api(CHANGE, {"c": "Given-by-admin-3", "n": "Apinewbie-own-9x"})
    assert out["data"]["changeMyPassword"]["ok"] is True, out
    session.expire_all()
    fresh = session.get(User, user.id)
    assert not fresh.must_change_password
    assert verify_password(fresh.password_hash, "Apinewbie-own-9x")
    assert api.post("{ me { username } }").status_code == 401  # the token ended
    again = Api(app.test_client(), make_token(session, fresh))
    assert again.post("{ me { username } }").status_code == 200  # no longer held back


def test_R_ROLE_6_graphql_expired_admin_password_changed_through_the_api(world, session, app):
    session.get(User, world.secadmin.id).password_changed_at = utcnow() - timedelta(days=91)
    session.commit()
    api = Api(app.test_client(), make_token(session, world.secadmin))
    assert api.post("{ me { username } }").status_code == 403
    out = api(CHANGE, {"c": PASSWORD, "n": "Secadmin-fresh-77"})
    assert out["data"]["changeMyPassword"]["ok"] is True, out
    session.expire_all()
    assert password_policy.change_required(session, session.get(User, world.secadmin.id)) is None
