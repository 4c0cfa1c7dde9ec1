"""R-ROLE-6 in the browser: the change-password page with its rules, and the idle-timeout
warning (the page's clock is fast-forwarded; the server's limit is checked in
tests/security/test_session_timeout.py)."""

from __future__ import annotations


def test_R_ROLE_6_change_password_page_shows_the_rules(page, sign_in, screenshot):
    sign_in("sales2")
    page.goto("/account/password")
    page.fill("#current_password", "Test-password-1")
    page.fill("#new_password", "password1234")
    page.fill("#confirm_password", "password1234")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "3 类" in page.inner_text(".alert-danger")
    assert "至少 12 个字符" in page.inner_text("form")
    screenshot(page, "account-change-password-zh")


def test_R_ROLE_6_idle_warning_counts_down_and_stay_signed_in(page, sign_in, screenshot):
    page.clock.install()
    sign_in("sales2")
    page.goto("/admin/")
    warning = page.locator("#session-timeout-warning")
    assert not warning.is_visible()
    page.clock.fast_forward("28:30")
    page.wait_for_timeout(200)
    assert warning.is_visible()
    assert "即将自动退出登录" in warning.inner_text()
    screenshot(page, "session-timeout-warning-zh")
    with page.expect_response("**/account/keepalive") as resp:
        warning.locator("[data-stay]").click()
    assert resp.value.status == 200
    page.wait_for_timeout(200)
    assert not warning.is_visible()
