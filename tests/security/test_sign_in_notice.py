"""R-ROLE-6: after signing in the user sees the previous attempt (company time, address,
result) and the failures since the last successful sign-in."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from portal import clock
from tests.factories import PASSWORD


def _sign_in(client, password: str, addr: str):
    return client.post("/login", data={"username": "sales1", "password": password},
                       environ_base={"REMOTE_ADDR": addr})


def _notice(client) -> str:
    return client.get("/admin/").get_data(as_text=True)


def test_R_ROLE_6_previous_sign_in_and_failures_since_are_shown(world, app):
    c = app.test_client()
    c.get("/lang/en")
    with clock.frozen(datetime(2026, 3, 2, 1, 5, tzinfo=UTC)):
        assert _sign_in(c, PASSWORD, "10.0.0.7").status_code == 302
        assert "first sign-in" in _notice(c)
    intruder = app.test_client()
    with clock.frozen(datetime(2026, 3, 3, 14, 30, tzinfo=UTC)):
        for _ in range(2):
            assert _sign_in(intruder, "guess-" + PASSWORD, "203.0.113.9").status_code == 401
    c = app.test_client()
    c.get("/lang/en")
    with clock.frozen(datetime(2026, 3, 4, 1, 0, tzinfo=UTC)):
        assert _sign_in(c, PASSWORD, "10.0.0.7").status_code == 302
        page = _notice(c)
    # audit entries carry the wall-clock time: shown in company time (UTC+8) to the minute
    assert re.search(r"Previous sign-in: \d{4}-\d\d-\d\d \d\d:\d\d from 203\.0\.113\.9, "
                     r"FAILED\. Failed sign-ins since your last successful one: 2\.", page), page
    c = app.test_client()
    c.get("/lang/en")
    with clock.frozen(datetime(2026, 3, 5, 1, 0, tzinfo=UTC)):
        assert _sign_in(c, PASSWORD, "10.0.0.8").status_code == 302
        page = _notice(c)
    assert "from 10.0.0.7, successful. Failed sign-ins since: 0." in page

