"""Issue 16 in a real browser: a correction request filed from a dealt customer's page and
consented to by the department manager (R-CUST-8); a confidential file's knowledge-scope pages
(R-FILE-2); a suspended credit line's badge (R-CRED-4). Screenshots in the artifacts folder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_work_pages import _user, _wide_and_narrow, _with_app

pytestmark = pytest.mark.e2e


def _customer(session, live_server, which: int = 1):
    from sqlalchemy import select

    from models import Customer

    return session.scalar(select(Customer).where(
        Customer.name == live_server.customers["sales1"][which]))


def test_R_CUST_8_correction_request_and_consent_in_the_browser(page, sign_in, live_server,
                                                                 screenshot):
    from portal.services import customers

    def deal(session):
        c = _customer(session, live_server)
        customers.record_deal(session, _user(session, "sales1"), c.id)
        return c.id, c.name

    customer_id, name = _with_app(live_server, deal)
    sign_in("sales1")
    page.goto(f"/admin/customer/details/?id={customer_id}")
    with page.expect_navigation():
        page.locator(".portal-actions a", has_text="申请更正原始资料").click()
    # the phone, not the name: other browser tests find this customer by its name
    page.fill("#phone", "13912345678")
    page.fill("#reason", "营业执照名称登记错误")
    _wide_and_narrow(page, screenshot, "i16-correction-request")
    with page.expect_navigation():
        page.locator("form [type=submit]").last.click()
    assert "更正申请已提交" in page.content()
    page.context.clear_cookies()
    sign_in("manager1")
    page.goto("/admin/correctionrequest/")
    _wide_and_narrow(page, screenshot, "i16-correction-list")
    with page.expect_navigation():
        page.locator("table a[href*='details']").first.click()
    with page.expect_navigation():
        page.locator(".portal-actions a", has_text="同意更正").click()
    page.fill("#comment", "核对营业执照无误")
    with page.expect_navigation():
        page.locator("form [type=submit]").last.click()
    assert "已同意" in page.content()
    _wide_and_narrow(page, screenshot, "i16-correction-approved")


def test_R_FILE_2_scope_pages_and_R_CRED_4_suspended_badge(page, sign_in, live_server,
                                                           screenshot):
    from models.enums import Level
    from portal import clock
    from portal.services import credit, files
    from tests.doors.test_credit_doors import A_ANSWERS

    def prepare(session):
        manager, sales2 = _user(session, "manager1"), _user(session, "sales2")
        manager.clearance = Level.TOP_SECRET
        sales2.clearance = Level.CONFIDENTIAL
        session.commit()
        f = files.upload_file(session, manager, {"title": "授信评估报告（机密）",
                                                 "level": int(Level.CONFIDENTIAL)},
                              "评估结论：A级。\n".encode(), "评估.txt")
        files.add_scope_member(session, manager, f.id, sales2.id)
        c = _customer(session, live_server, 0)
        finance, gm = _user(session, "finance1"), _user(session, "gm")
        credit.evaluate(session, finance, c.id, A_ANSWERS)
        line = credit.propose_line(session, manager, c.id, {
            "kind": "temporary", "limit_amount": "50000", "term_days": 30})
        credit.review_line(session, finance, line.id, True)
        credit.approve_line(session, gm, line.id, True)
        with clock.frozen(clock.now() + timedelta(seconds=1)):
            credit.evaluate(session, finance, c.id, {**A_ANSWERS, "bad_debt_2y": True})
        return f.id, c.id

    file_id, customer_id = _with_app(live_server, prepare)
    sign_in("manager1")
    page.goto(f"/admin/file/details/?id={file_id}")
    assert "移出知悉人" in page.content() and "更换责任经理" in page.content()
    _wide_and_narrow(page, screenshot, "i16-file-details")
    with page.expect_navigation():
        page.locator(".portal-actions a", has_text="移出知悉人").click()
    _wide_and_narrow(page, screenshot, "i16-file-remove-member")
    page.goto("/admin/creditline/")
    assert "已暂停" in page.content()
    _wide_and_narrow(page, screenshot, "i16-credit-suspended")
    page.goto(f"/admin/customer/details/?id={customer_id}")
    page.locator("a[href='#tab-credit']").click()
    _wide_and_narrow(page, screenshot, "i16-customer-credit-tab")
