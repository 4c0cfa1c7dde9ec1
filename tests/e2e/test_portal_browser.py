"""What a person sees in a real browser (issue 3): login, row scopes in the customer list,
read-only auditors, the language switch, the failed-login message."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

CJK = re.compile(r"[\u4e00-\u9fff]")


def _path(page) -> str:
    return re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]


def test_failed_login_shows_the_message(page, screenshot):
    page.goto("/login")
    page.fill("#username", "sales2")
    page.fill("#password", "wrong-password-1")
    with page.expect_navigation():
        page.click("#login-submit")
    error = page.locator("#login-error")
    assert error.is_visible()
    wrong_password = error.inner_text().strip()
    assert wrong_password
    assert _path(page) == "/login"
    screenshot(page, "login-failed")

    # An unknown user gets exactly the same answer (no account enumeration).
    page.fill("#username", "nobody-here")
    page.fill("#password", "wrong-password-1")
    with page.expect_navigation():
        page.click("#login-submit")
    assert page.locator("#login-error").inner_text().strip() == wrong_password
    # Still not signed in: the portal sends us back to the login page.
    page.goto("/admin/")
    assert _path(page) == "/login"


def test_switching_to_english_changes_the_ui(page, screenshot):
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    chinese = page.locator("#login-submit").inner_text().strip()
    chinese_title = page.title()
    screenshot(page, "login-zh")
    assert CJK.search(chinese), f"the default (Chinese) login button reads {chinese!r}"

    english_link = page.locator('a[href$="/lang/en"]')
    assert english_link.count() == 1
    with page.expect_navigation():
        english_link.click()
    assert _path(page) == "/login"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#login-submit").inner_text().strip() == "Sign in"
    assert page.title() != chinese_title
    assert not CJK.search(page.locator("label[for=username]").inner_text())
    screenshot(page, "login-en")

    # …and back to Chinese.
    with page.expect_navigation():
        page.locator('a[href$="/lang/zh_Hans_CN"]').click()
    assert page.locator("#login-submit").inner_text().strip() == chinese


def test_english_chosen_before_login_stays_after_login(page, sign_in, screenshot):
    """A person picks English on the login page, signs in, and the portal is in English."""
    page.goto("/login")
    with page.expect_navigation():
        page.locator('a[href$="/lang/en"]').click()
    sign_in("sales1")
    page.goto("/admin/customer/")
    list_tab = page.locator("ul.nav-tabs li").first.inner_text().strip()
    assert list_tab.startswith("List"), f"list tab reads {list_tab!r}"
    nav = page.locator("nav").first.inner_text()
    assert not CJK.search(nav.replace("简体中文", "")), f"navigation not in English: {nav!r}"
    screenshot(page, "customer-list-en")

    # Switching back to Chinese from inside the portal works too.
    with page.expect_navigation():
        page.locator('a[href$="/lang/zh_Hans_CN"]').first.click()
    assert CJK.search(page.locator("ul.nav-tabs li").first.inner_text())


def test_salesperson_sees_only_their_customers(page, sign_in, live_server, screenshot):
    own = live_server.customers["sales1"]
    others = [name for user, names in live_server.customers.items() if user != "sales1"
              for name in names]
    assert own and others
    assert sorted(live_server.visible["sales1"]) == sorted(own), "policy: sales see their own"

    sign_in("sales1")
    assert _path(page).startswith("/admin"), f"login did not land in the portal: {page.url}"
    response = page.goto("/admin/customer/")
    assert response is not None and response.status == 200, (
        f"/admin/customer/ answered {response.status if response else None}")
    rows = page.locator("table.model-list tbody tr")
    body = rows.all_inner_texts()
    listed = "\n".join(body)
    for name in own:
        assert name in listed, f"sales1 should see own customer {name}"
    for name in others:
        assert name not in page.content(), f"sales1 must not see {name}"
    assert rows.count() == len(own)
    # Control for the auditor test below: a salesperson may create and edit customers.
    assert page.locator('a[href*="/admin/customer/new/"]').count() >= 1
    assert page.locator('a[href*="/admin/customer/edit/"]').count() >= 1
    screenshot(page, "customer-list-sales1")


def test_auditor_sees_no_create_or_edit_buttons(page, sign_in, live_server, screenshot):
    visible = live_server.visible["auditor1"]
    assert visible, "the auditor's scope should include customers"

    sign_in("auditor1")
    response = page.goto("/admin/customer/")
    assert response is not None and response.status == 200
    listed = "\n".join(page.locator("table.model-list tbody tr").all_inner_texts())
    assert any(name in listed for name in visible), "the auditor reads customers in scope"
    for selector in ('a[href*="/new/"]', 'a[href*="/edit/"]', 'form[action*="/delete/"]',
                     'input[name="rowid"]', 'form[action*="/action/"]',
                     'a[href*="/import"]'):
        assert page.locator(selector).count() == 0, f"auditor sees {selector}"
    screenshot(page, "customer-list-auditor1")

    # The home page offers no create link either.
    page.goto("/admin/")
    assert page.locator('a[href*="/new/"]').count() == 0


def test_forms_need_a_csrf_token(page, live_server):
    """The harness really runs with CSRF on: a POST without the form's token is refused."""
    from tests.factories import PASSWORD

    response = page.request.post(live_server("/login"),
                                 form={"username": "sales1", "password": PASSWORD},
                                 max_redirects=0)
    assert response.status == 400
