"""R-CUST-9 in a real browser: a salesperson of another department asks to borrow an archive
from the customer list's search, the archive's department manager approves it from the 待办 in
one click, the salesperson opens the archive (read only, the page says until when). Screenshots
in Chinese and English, 1440 px and 390 px."""

from __future__ import annotations

import pytest

from tests.e2e.test_work_pages import _wide_and_narrow, _with_app

pytestmark = pytest.mark.e2e


def test_R_CUST_9_borrow_approve_from_todo_and_read_in_the_browser(page, sign_in, live_server,
                                                                    screenshot):
    from sqlalchemy import select

    from models import Customer

    def archive(session):
        c = session.scalar(select(Customer).where(
            Customer.name == live_server.customers["sales2"][0]))
        return c.id, c.code, c.name

    customer_id, code, name = _with_app(live_server, archive)
    sign_in("sales4")  # department 2; the archive belongs to department 1
    page.goto(f"/admin/customer/?search={code}")
    assert name not in page.content()
    with page.expect_navigation():
        page.locator("a.portal-loan-request").click()
    assert page.input_value("#archive") == code
    page.fill("#reason", "客户来电说在东区展厅看过样品，需要查阅意向和回访记录")
    _wide_and_narrow(page, screenshot, "i18-loan-request-zh")
    with page.expect_navigation():
        page.locator("form [type=submit]").last.click()
    assert "借阅申请已提交" in page.content() and "待审批" in page.content()

    page.context.clear_cookies()
    sign_in("manager1")
    page.goto("/admin/inbox/")
    assert code in page.content()
    _wide_and_narrow(page, screenshot, "i18-loan-todo-zh")
    with page.expect_navigation():
        page.locator("a[href*='/admin/inbox/open']", has_text=code).first.click()
    assert "批准借阅" in page.content()
    _wide_and_narrow(page, screenshot, "i18-loan-decide-zh")
    with page.expect_navigation():
        page.locator("button", has_text="批准借阅").click()
    assert "已批准借阅" in page.content() and "借阅中" in page.content()

    page.context.clear_cookies()
    sign_in("sales4")
    page.goto(f"/admin/customer/details/?id={customer_id}")
    content = page.content()
    assert name in content and "借阅中（借阅 #" in content
    assert not page.locator(".nav-tabs a[href*='/edit/']").count()  # read only
    _wide_and_narrow(page, screenshot, "i18-loan-archive-zh")
    page.goto("/admin/archiveloan/?preset=mine")
    assert code in page.content()
    _wide_and_narrow(page, screenshot, "i18-loan-mine-zh")

    page.goto("/lang/en")
    page.goto(f"/admin/customer/details/?id={customer_id}")
    assert "On loan to you (loan #" in page.content()
    _wide_and_narrow(page, screenshot, "i18-loan-archive-en")
    page.goto("/admin/archiveloan/?preset=mine")
    assert "My loans" in page.content() and "On loan" in page.content()
    _wide_and_narrow(page, screenshot, "i18-loan-mine-en")
    page.goto("/admin/archiveloan/request/")
    _wide_and_narrow(page, screenshot, "i18-loan-request-en")
