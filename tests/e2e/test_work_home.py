"""The work-first home page and the 待办 bell in a real browser (issue 14), on the demo company:
a salesperson clears a due follow-up from the home page; reception registers a walk-in and is
told who serves it and who is next; the bell counts down as notifications are opened. Each
role's home page is saved at 1440 and 390 px wide (``$E2E_SCREENSHOT_DIR``)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from werkzeug.serving import make_server

pytestmark = pytest.mark.e2e

# The demo company and its server live at 10:00 on a Wednesday, company time. On the wall clock
# the prospect "due later today" was already overdue from 23:55 in China (the module failed when
# run at 23:57 there), and the demo's rotation of "today" changed under the server at midnight.
MOMENT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    """Overrides tests/conftest.py's: the module's server keeps the clock ``demo_server`` set."""
    yield


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The demo company (``flask portal demo-data``), the scheduled tick run once, and one
    prospect of the first salesperson whose first follow-up falls due later today."""
    from flask_migrate import upgrade

    from models import User
    from portal import clock, create_app, demo
    from portal.cli_tick import run_all
    from portal.extensions import db
    from portal.services import calendar
    from tests.factories import make_customer

    clock.set_now(MOMENT)
    tmp = tmp_path_factory.mktemp("e2e-demo")
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'demo.sqlite3'}",
                     STORAGE_PATH=str(tmp / "storage"), WTF_CSRF_ENABLED=True)
    info: dict = {"logins": [(u, r) for u, r, _p, _d in demo.DEMO_LOGINS],
                  "password": demo.DEMO_PASSWORD, "app": app}
    with app.app_context():
        upgrade()
        demo.load(db.session)
        sales = db.session.query(User).filter_by(username=next(
            u for u, r, _p, _d in demo.DEMO_LOGINS if r == "sales")).one()
        now = clock.now()
        end_of_day = calendar.end_of_company_day(calendar.company_date(now))
        due = min(now + timedelta(hours=2), end_of_day - timedelta(minutes=5))
        fresh = make_customer(db.session, sales, name="今日回访测试客户", status="prospect",
                              registered_at=due - timedelta(days=3))
        db.session.commit()
        info["due_customer"] = fresh.name
        info["sales"] = sales.username
        run_all(db.session, now)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    info["url"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield info
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()
        clock.set_now(None)


@pytest.fixture
def demo_page(browser, demo_server):
    context = browser.new_context(base_url=demo_server["url"], locale="zh-CN",
                                  viewport={"width": 1440, "height": 900})
    context.set_default_timeout(20_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def _sign_in(page, server: dict, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", server["password"])
    with page.expect_navigation():
        page.click("#login-submit")
    if page.url.split("?")[0].endswith("/login/code"):  # R-ROLE-6: the demo key's code
        from types import SimpleNamespace

        from portal import demo
        from tests.e2e.conftest import forget_last_code
        from tests.factories import totp_code

        forget_last_code(SimpleNamespace(app=server["app"]), username)
        page.fill("#code", totp_code(demo.DEMO_TOTP_SECRET))
        with page.expect_navigation():
            page.click("#code-submit")


def _bell(page) -> int:
    return int(page.locator("#inbox-count").get_attribute("data-unread"))


def test_salesperson_clears_a_due_follow_up_from_the_home_page(demo_page, demo_server,
                                                               screenshot):
    page = demo_page
    _sign_in(page, demo_server, demo_server["sales"])
    page.goto("/admin/")
    follow = page.locator("#work-follow_ups")
    row = follow.locator("li", has_text=demo_server["due_customer"])
    assert row.count() == 1
    assert "今天到期" in row.inner_text()
    before = int(follow.locator("[data-count]").get_attribute("data-count"))
    with page.expect_navigation():
        row.get_by_role("link", name="记录回访").click()
    page.select_option("select[name=kind]", "call")
    page.fill("textarea[name=notes]", "电话回访，约周六看样品")
    with page.expect_navigation():
        page.locator("form:has(select[name=kind]) [type=submit]").first.click()
    screenshot(page, "issue14-sales-follow-up-saved")
    page.goto("/admin/")
    follow = page.locator("#work-follow_ups")
    assert follow.locator("li", has_text=demo_server["due_customer"]).count() == 0
    assert int(follow.locator("[data-count]").get_attribute("data-count")) == before - 1
    screenshot(page, "issue14-sales-after-follow-up")


def test_reception_registers_a_walk_in_and_sees_who_serves_it_and_who_is_next(
        demo_page, demo_server, screenshot):
    page = demo_page
    reception = next(u for u, r in demo_server["logins"] if r == "reception")
    _sign_in(page, demo_server, reception)
    page.goto("/admin/")
    lead = page.locator("#work-rotation .portal-lead").inner_text()
    m = re.search(r"下一位接待：(\S+)", lead)
    assert m, lead
    expected = m.group(1)
    page.goto("/admin/receptionrecord/new/")
    page.locator("select[name=kind]").select_option("visit", force=True)  # select2 hides it
    page.fill("input[name=visitor_name]", "赵先生")
    with page.expect_navigation():
        page.locator("form:has(input[name=visitor_name]) [type=submit]").first.click()
    message = page.locator(".alert-success", has_text="下一位接待").inner_text()
    assert f"由 {expected} 接待" in message, message
    nxt = re.search(r"下一位接待：(\S+)", message).group(1)
    page.goto("/admin/")
    assert f"下一位接待：{nxt}" in page.locator("#work-rotation .portal-lead").inner_text()
    screenshot(page, "issue14-reception-after-walk-in")


def test_the_bell_counts_down(demo_page, demo_server, screenshot):
    page = demo_page
    service = next(u for u, r in demo_server["logins"] if r == "service")
    _sign_in(page, demo_server, service)
    page.goto("/admin/")
    start = _bell(page)
    assert start >= 2, "the demo's complaint steps should have left 待办 for the service desk"
    page.locator("a.portal-bell").click()
    page.wait_for_url(re.compile(r"/admin/inbox/"))
    screenshot(page, "issue14-inbox")
    link = page.locator(".portal-inbox a[href*='/admin/inbox/open']").first
    with page.expect_navigation():
        link.click()
    assert "/admin/inbox/" not in page.url  # went to the record
    assert _bell(page) == start - 1
    page.goto("/admin/inbox/")
    with page.expect_navigation():
        page.get_by_role("button", name="全部标为已读").click()
    assert _bell(page) == 0
    assert "没有未读的待办" in page.content()


@pytest.mark.parametrize("width", [1440, 390])
def test_every_roles_home_page(browser, demo_server, screenshot, width):
    for username, role in demo_server["logins"]:
        context = browser.new_context(base_url=demo_server["url"], locale="zh-CN",
                                      viewport={"width": width, "height": 900})
        page = context.new_page()
        try:
            _sign_in(page, demo_server, username)
            page.goto("/admin/")
            html = page.content()
            assert "请从上方菜单选择" not in html, role
            assert page.locator("[data-section]").count() >= 1, role
            screenshot(page, f"issue14-home-{role}-{width}")
        finally:
            context.close()
