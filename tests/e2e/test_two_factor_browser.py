"""R-ROLE-6 in the browser: an administrator who has not set up two-factor sign-in is sent to
the enrolment page, reads the key from it (as an authenticator app would from the QR code),
turns it on with a code, sees the ten recovery codes once, and from then on signs in with the
password and a code. Screenshots in Chinese and English, desktop and phone (390 px)."""

from __future__ import annotations

from portal.services import two_factor
from tests.factories import PASSWORD

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def _new_admin(live_server, username: str) -> None:
    """A system administrator without a second factor (the world's own are enrolled)."""
    from portal.extensions import db
    from tests.factories import make_user

    with live_server.app.app_context():
        make_user(db.session, username, ["sysadmin"], two_factor=False)
        db.session.commit()
        db.session.remove()


def _both_sizes(page, screenshot, name: str) -> None:
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"{name}: {width} px wide at 390 px"
    screenshot(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)


def _enrol(page, screenshot, name: str) -> str:
    assert page.url.endswith("/account/two-factor")
    assert page.locator("#enrol-qr svg").count() == 1
    secret = page.get_attribute("#enrol-secret", "data-secret")
    assert secret
    _both_sizes(page, screenshot, f"two-factor-enrol-{name}")
    page.fill("#code", two_factor.code_at(secret, two_factor.time_step()))
    with page.expect_navigation():
        page.click("#enrol-submit")
    assert page.locator("#recovery-codes li").count() == 10
    _both_sizes(page, screenshot, f"two-factor-recovery-codes-{name}")
    with page.expect_navigation():
        page.click("#recovery-continue")
    assert "/admin" in page.url
    return secret


def _sign_in_with_code(page, screenshot, username: str, secret: str, name: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("#login-submit")
    assert page.url.endswith("/login/code")
    page.goto("/admin/")  # the password alone opens nothing
    assert "/login" in page.url
    page.goto("/login/code")
    _both_sizes(page, screenshot, f"two-factor-code-{name}")
    # the enrolment used this step's code: a person types the next one
    page.fill("#code", two_factor.code_at(secret, two_factor.time_step() + 1))
    with page.expect_navigation():
        page.click("#code-submit")
    assert page.url.rstrip("/").endswith("/admin")


def _sign_out(page) -> None:
    page.context.clear_cookies()


def test_R_ROLE_6_administrator_enrols_and_signs_in_with_a_code(page, live_server, sign_in,
                                                                 screenshot):
    _new_admin(live_server, "sysadmin_zh")
    sign_in("sysadmin_zh")  # password only: the wall sends the administrator to enrol
    assert "双因素登录" in page.inner_text("h1")
    assert "完成之前无法进行其他操作" in page.inner_text("#enrol-required")
    page.goto("/admin/user/")
    assert page.url.endswith("/account/two-factor")  # nothing else before enrolling
    secret = _enrol(page, screenshot, "zh")
    _sign_out(page)
    _sign_in_with_code(page, screenshot, "sysadmin_zh", secret, "zh")

    _new_admin(live_server, "sysadmin_en")
    _sign_out(page)
    page.goto("/lang/en")
    sign_in("sysadmin_en")
    assert "Two-factor sign-in" in page.inner_text("h1")
    secret = _enrol(page, screenshot, "en")
    _sign_out(page)
    page.goto("/lang/en")
    _sign_in_with_code(page, screenshot, "sysadmin_en", secret, "en")


def test_R_ROLE_6_required_roles_are_ticked_by_name_in_the_settings(page, sign_in, screenshot):
    sign_in("sysadmin1")  # the test world's administrators are enrolled: password and code
    page.goto("/admin/setting/")
    row = page.locator('tr[data-key="two_factor.required_roles"]')
    assert row.locator("input[type=checkbox]:checked").count() == 4
    assert "总经理" in row.inner_text()
    row.scroll_into_view_if_needed()
    screenshot(page, "two-factor-setting-zh")
