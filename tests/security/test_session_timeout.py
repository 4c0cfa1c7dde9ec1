"""R-ROLE-6: the portal session ends on the server after 30 idle minutes or 12 hours, with a
controlled clock; the page carries the warning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models import AuditEntry
from models.settings import Setting
from portal import session_timeout, settings

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class Clock:
    """The session's wall clock, moved by hand."""

    def __init__(self) -> None:
        self.t = T0.timestamp()

    def advance(self, delta: timedelta) -> None:
        self.t += delta.total_seconds()


@pytest.fixture
def frozen(monkeypatch):
    c = Clock()
    monkeypatch.setattr(session_timeout, "wall_clock", lambda: c.t)
    return c


def test_R_ROLE_6_idle_session_ends_on_the_server(world, login, session, frozen):
    c = login(world.sales1)
    frozen.advance(timedelta(minutes=29))
    assert c.get("/admin/").status_code == 200  # activity renews the idle time
    frozen.advance(timedelta(minutes=29))
    assert c.get("/admin/").status_code == 200
    frozen.advance(timedelta(minutes=30))
    resp = c.get("/admin/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    assert c.get("/admin/").status_code == 302  # the session is gone, not just this request
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.session_timeout"))
    assert entry is not None and entry.detail == "idle"


def test_R_ROLE_6_absolute_lifetime_ends_an_active_session(world, login, session, frozen):
    c = login(world.sales1)
    for _ in range(12 * 3):  # busy every 20 minutes for 12 hours
        frozen.advance(timedelta(minutes=20))
        if c.get("/admin/").status_code != 200:
            break
    assert frozen.t - T0.timestamp() == 12 * 3600
    assert c.get("/admin/").status_code == 302
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.session_timeout"))
    assert entry.detail == "absolute lifetime"


def test_R_ROLE_6_idle_limit_is_a_setting_and_keepalive_renews(world, login, session, frozen):
    session.add(Setting(key="session.idle_minutes", value="10"))
    session.commit()
    settings.forget(session)
    c = login(world.sales1)
    page = c.get("/admin/").get_data(as_text=True)
    assert 'data-idle-seconds="600"' in page and "session_timeout.js" in page
    frozen.advance(timedelta(minutes=9))
    assert c.post("/account/keepalive").get_json() == {"ok": True, "idle_seconds": 600}
    frozen.advance(timedelta(minutes=9))
    assert c.get("/admin/").status_code == 200
    frozen.advance(timedelta(minutes=10))
    assert c.post("/account/keepalive").status_code == 401
    assert c.get("/admin/").status_code == 302


def test_R_ROLE_6_graphql_cookie_session_times_out_too(world, login, frozen):
    c = login(world.sales1)
    frozen.advance(timedelta(minutes=31))
    assert c.post("/graphql", json={"query": "{ me { username } }"}).status_code == 401
