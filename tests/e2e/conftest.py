"""Browser-test harness: the real app (CSRF on) on a migrated temporary SQLite database seeded
with ``tests.factories.build_world``, served by werkzeug on 127.0.0.1:<free port> in a background
thread, and driven by Playwright for Python with Debian's Chromium (``/usr/bin/chromium``).

Without a browser the tests skip with a clear reason, unless ``E2E_REQUIRE_BROWSER=1`` (set by
``.ci/run``), where they fail: in CI the browser tests must really run. Playwright's own browser
download is never used. Screenshots go to ``$E2E_SCREENSHOT_DIR`` (or pytest's temp folder)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _no_browser(reason: str) -> None:
    if os.environ.get("E2E_REQUIRE_BROWSER") == "1":
        pytest.fail(f"E2E_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@dataclass
class LiveServer:
    url: str
    # username → names of the customers that user owns (from build_world)
    customers: dict[str, list[str]] = field(default_factory=dict)
    # username → names of the customers the policy lets that user view
    visible: dict[str, list[str]] = field(default_factory=dict)
    # the server's database, for tests that seed rows the UI cannot create (e.g. a dead letter)
    database_url: str = ""
    # the served app (tests prepare records through its services, in an app context)
    app: object = None

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from models import Customer
    from portal import create_app, policy
    from portal.extensions import db
    from tests.factories import build_world

    tmp = tmp_path_factory.mktemp("e2e")
    app = create_app(
        "testing",
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp / 'e2e.sqlite3'}",
        STORAGE_PATH=str(tmp / "storage"),
        WTF_CSRF_ENABLED=True,  # the browser goes through the real forms, tokens and all
        # channels shown as available on the notification settings page (nothing is sent: no
        # sender runs in the browser tests)
        SMTP_HOST="127.0.0.1", WECOM_WEBHOOK_URL="http://127.0.0.1:9/cgi-bin/webhook/send",
    )
    server_info = LiveServer(url="", database_url=f"sqlite:///{tmp / 'e2e.sqlite3'}", app=app)
    with app.app_context():
        upgrade()
        world = build_world(db.session)
        for username, customers in world.customers.items():
            server_info.customers[username] = [c.name for c in customers]
        for user in (world.sales1, world.auditor):
            stmt = policy.scope(select(Customer), user, Customer)
            server_info.visible[user.username] = list(db.session.scalars(stmt.with_only_columns(
                Customer.name)))
        db.session.remove()

    server = make_server("127.0.0.1", 0, app, threaded=True)
    server_info.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, name="e2e-server", daemon=True)
    thread.start()
    try:
        yield server_info
    finally:
        server.shutdown()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        _no_browser(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - dev extras always have it
        _no_browser("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server: LiveServer) -> Iterator[object]:
    """A fresh browser context (no cookies) per test."""
    context = browser.new_context(base_url=live_server.url, locale="zh-CN",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("E2E_SCREENSHOT_DIR")
    path = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def screenshot(screenshot_dir: Path) -> Callable[[object, str], Path]:
    def _take(pg, name: str) -> Path:
        target = screenshot_dir / f"{name}.png"
        pg.screenshot(path=str(target), full_page=True)
        return target
    return _take


def forget_last_code(live_server: LiveServer, username: str) -> None:
    """Tests sign one account in many times within a 30-second step; a person would wait for
    the next code (the replay guard has its own tests)."""
    from sqlalchemy import select, update

    from models import User
    from models.org import TwoFactor
    from portal.extensions import db

    with live_server.app.app_context():
        uid = db.session.scalar(select(User.id).where(User.username == username))
        db.session.execute(update(TwoFactor).where(TwoFactor.user_id == uid)
                           .values(last_step=None))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def sign_in(page, live_server) -> Callable[[str, str | None], None]:
    """Log in through the real login form at /login (CSRF token included by the page); an
    account with a second factor types the code of the tests' fixed secret (R-ROLE-6)."""
    from tests.factories import PASSWORD, totp_code

    def _sign_in(username: str, password: str | None = None) -> None:
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password or PASSWORD)
        with page.expect_navigation():
            page.click("#login-submit")
        if page.url.split("?")[0].endswith("/login/code"):
            forget_last_code(live_server, username)
            page.fill("#code", totp_code())
            with page.expect_navigation():
                page.click("#code-submit")
    return _sign_in

