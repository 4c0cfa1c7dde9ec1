"""Authentication and sessions (security.md campaign A, R-ROLE-4)."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from models import AuditEntry, User
from portal.services import users
from tests.factories import PASSWORD


def _post_login(client, username, password, next_url=None):
    url = "/login" + (f"?next={next_url}" if next_url else "")
    return client.post(url, data={"username": username, "password": password})


def test_login_succeeds_and_rotates_session(world, client):
    with client.session_transaction() as s:
        s["planted"] = "by-attacker"
    resp = _post_login(client, "sales1", PASSWORD)
    assert resp.status_code == 302
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s["_user_id"].startswith(f"{world.sales1.id}:")


def test_unknown_user_and_wrong_password_answer_identically(world, client):
    unknown = _post_login(client, "nobody-here", PASSWORD)
    wrong = _post_login(client, "sales1", "wrong-password-9")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.get_data() == wrong.get_data()


def test_lockout_counted_per_account(world, client, session, app):
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit):
        assert _post_login(client, "sales1", "wrong-password-9").status_code == 401
    # locked: even the right password is refused, with the same answer
    assert _post_login(app.test_client(), "sales1", PASSWORD).status_code == 401
    session.expire_all()
    assert session.get(User, world.sales1.id).locked_until is not None
    lockouts = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.lockout")).all()
    assert len(lockouts) == 1
    # another account is not affected
    assert _post_login(app.test_client(), "sales2", PASSWORD).status_code == 302


def test_failed_login_is_audited_without_the_password(world, client, session):
    _post_login(client, "sales1", "wrong-password-9")
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "auth.login")).one()
    assert entry.outcome == "denied"
    assert "wrong-password-9" not in (entry.detail or "") + (entry.after or "")


def test_cookie_captured_before_logout_is_refused_after(world, login, app):
    c = login(world.sales1)
    with c.session_transaction() as s:
        captured = dict(s)
    assert c.post("/logout").status_code == 302
    thief = app.test_client()
    with thief.session_transaction() as s:
        s.update(captured)
    resp = thief.get("/admin/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_R_ROLE_4_deactivation_takes_effect_on_next_request(world, login, session):
    c = login(world.sales1)
    assert c.get("/admin/").status_code == 200
    users.deactivate_user(session, world.sysadmin, world.sales1.id, "left the company")
    resp = c.get("/admin/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert _post_login(c, "sales1", PASSWORD).status_code == 401


def test_role_revocation_invalidates_old_sessions(world, login, session):
    c = login(world.finance)
    assert c.get("/admin/").status_code == 200
    users.revoke_role(session, world.secadmin, world.finance, "finance")
    resp = c.get("/admin/")
    assert resp.status_code == 302


@pytest.mark.parametrize("target", ["//evil.com", "\\\\evil.com", "javascript:alert(1)",
                                    "https://evil.com/x", "/\\evil.com", "http:evil.com"])
def test_open_redirects_refused(world, client, target):
    resp = _post_login(client, "sales1", PASSWORD, next_url=target)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert "evil" not in location and not location.startswith("javascript")


def test_safe_next_is_followed(world, client):
    resp = _post_login(client, "sales1", PASSWORD, next_url="/admin/")
    assert resp.headers["Location"].endswith("/admin/")


def test_password_rehashed_when_parameters_change(world, client, session):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    user = session.get(User, world.sales2.id)
    user.password_hash = weak
    session.commit()
    assert _post_login(client, "sales2", PASSWORD).status_code == 302
    session.expire_all()
    new_hash = session.get(User, world.sales2.id).password_hash
    assert new_hash != weak and "m=19456,t=2,p=1" in new_hash


def test_change_own_password(world, login, app):
    other_device = login(world.sales1)
    c = login(world.sales1)
    resp = c.post("/account/password", data={"current_password": PASSWORD,
                                             "new_password": "Another-pass-42",
                                             "confirm_password": "Another-pass-42"})
    assert resp.status_code == 302
    assert _post_login(app.test_client(), "sales1", "Another-pass-42").status_code == 302
    assert c.get("/admin/").status_code == 200  # the changer's own session is renewed
    # a cookie issued before the change (another device) is refused now
    assert other_device.get("/admin/").status_code == 302


def test_weak_new_password_refused_and_nothing_changes(world, login, app):
    c = login(world.sales1)
    resp = c.post("/account/password", data={"current_password": PASSWORD,
                                             "new_password": "short",
                                             "confirm_password": "short"})
    assert resp.status_code == 400
    assert _post_login(app.test_client(), "sales1", PASSWORD).status_code == 302


def test_sysadmin_resets_password_and_sessions_end(world, login, session, app):
    c = login(world.sales2)
    users.reset_password(session, world.sysadmin, world.sales2, "Reset-by-admin-7")
    assert c.get("/admin/").status_code == 302
    assert _post_login(app.test_client(), "sales2", "Reset-by-admin-7").status_code == 302


def test_salesperson_cannot_reset_passwords(world, session):
    from portal.services.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        users.reset_password(session, world.sales1, world.sales2, "Reset-by-peer-7")
    denied = session.scalars(select(AuditEntry).where(AuditEntry.outcome == "denied")).all()
    assert [e.action for e in denied] == ["user.reset_password"]


def test_production_cookies_are_hardened(monkeypatch):
    from portal.config import load_config

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db")
    monkeypatch.setenv("AUDIT_HMAC_KEY", "k" * 32)
    cfg = load_config("production")
    assert cfg.SESSION_COOKIE_SECURE and cfg.SESSION_COOKIE_HTTPONLY
    assert cfg.SESSION_COOKIE_SAMESITE == "Lax"
    assert cfg.REMEMBER_COOKIE_SECURE and cfg.REMEMBER_COOKIE_DURATION == 0
    assert cfg.SQLALCHEMY_DATABASE_URI.startswith("postgresql+psycopg://")
    assert cfg.GRAPHQL_INTROSPECTION is False and cfg.GRAPHQL_GRAPHIQL is False
