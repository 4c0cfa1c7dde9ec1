"""R-ROLE-1 in the browser (issue 12): the front desk looks an old customer up by exact name,
opens the walk-in form from the answer, and the form shows the archive it will link (code,
name, owner) in Chinese and in English; the desk has no customer create page."""

from __future__ import annotations


def test_R_ROLE_1_walk_in_form_shows_the_archive_looked_up(page, sign_in, live_server,
                                                           screenshot):
    name = live_server.customers["sales1"][0]
    sign_in("reception1")
    page.goto(f"/admin/receptionrecord/lookup/?q={name}")
    assert name in page.content()
    with page.expect_navigation():
        page.locator("a", has_text="登记来访并关联此档案").first.click()
    box = page.locator("#linked-archive")
    assert "本次来访将关联老客户档案" in box.inner_text()
    assert name in box.inner_text() and "Sales1" in box.inner_text()
    assert page.locator('input[name="create_customer"]').count() == 0
    screenshot(page, "reception_walk_in_linked_zh")
    linked_url = page.url
    page.goto("/lang/en")
    page.goto(linked_url)
    box = page.locator("#linked-archive")
    assert "This visit will be linked to an existing customer archive" in box.inner_text()
    assert name in box.inner_text()
    screenshot(page, "reception_walk_in_linked_en")
    # a new visitor: the form offers the prospect archive; the customer create page is closed
    page.goto("/admin/receptionrecord/new/")
    assert page.locator('input[name="create_customer"]').count() == 1
    screenshot(page, "reception_walk_in_new_en")
    response = page.goto("/admin/customer/new/")
    assert response is not None and response.status == 403
