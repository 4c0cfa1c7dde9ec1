"""Issue 14 in a real browser: service assigns a complaint with the people picker; a manager
approves a resolution with a comment and sees it on the timeline; the lists, the customer page
and the decision pages at 1440 and 390 px (screenshots in the artifacts folder)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

pytestmark = pytest.mark.e2e


def _with_app(live_server, fn):
    from portal.extensions import db

    with live_server.app.app_context():
        try:
            return fn(db.session)
        finally:
            db.session.remove()


def _user(session, username):
    from sqlalchemy import select

    from models import User

    return session.scalar(select(User).where(User.username == username))


def _registered_complaint(live_server, description: str, which: int = 0
                          ) -> tuple[int, str]:
    from sqlalchemy import select

    from models import Customer
    from portal.services import complaints

    def make(session):
        service = _user(session, "service1")
        customer = session.scalar(select(Customer).where(
            Customer.name == live_server.customers["sales1"][which]))
        c = complaints.register_complaint(session, service, {
            "customer_id": customer.id, "channel": "phone", "type": "complaint",
            "cause": "quality", "description": description})
        session.commit()
        return c.id, c.number

    return _with_app(live_server, make)


def _proposed_complaint(live_server, resolution: str, amount: str) -> tuple[int, str]:
    from portal.services import complaints

    complaint_id, number = _registered_complaint(live_server, "车门异响，客户要求检修", 1)

    def advance(session):
        service = _user(session, "service1")
        complaints.assign(session, _user(session, "manager1"), complaint_id, service.id)
        complaints.start_investigation(session, service, complaint_id)
        complaints.propose_resolution(session, service, complaint_id, resolution,
                                      Decimal(amount))
        session.commit()

    _with_app(live_server, advance)
    return complaint_id, number


def _wide_and_narrow(page, screenshot, name: str) -> None:
    page.set_viewport_size({"width": 1440, "height": 900})
    screenshot(page, f"{name}-1440")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, f"{name}-390")
    page.set_viewport_size({"width": 1440, "height": 900})


def test_service_assigns_a_complaint_with_the_picker(page, sign_in, live_server, screenshot):
    complaint_id, number = _registered_complaint(live_server, "保养后仪表盘报警")
    sign_in("service1")
    page.goto(f"/admin/complaint/details/?id={complaint_id}")
    with page.expect_navigation():
        page.locator(".portal-actions a", has_text="分派").click()
    assert "处理人编号" not in page.content()
    picker = page.locator("#handler_id")
    options = picker.locator("option").all_inner_texts()
    assert options and all("·" in o for o in options), options  # name · branch, no ids
    _wide_and_narrow(page, screenshot, "complaint-assign")
    # pick through the Select2 widget, as a person would
    page.locator(".select2-container").first.click()
    page.locator(".select2-results li, .select2-result").first.click()
    chosen = picker.evaluate("el => el.options[el.selectedIndex].text")
    with page.expect_navigation():
        page.click("#workflow-submit")
    body = page.locator("body").inner_text()
    assert "已完成：分派" in body
    assert chosen.split(" · ")[0] in body
    assert re.search(r"已分派", page.locator(".portal-timeline").inner_text())


def test_manager_approves_with_a_comment_and_sees_the_timeline(page, sign_in, live_server,
                                                               screenshot):
    resolution = "免费更换车门密封条，并赠送一次保养"
    complaint_id, number = _proposed_complaint(live_server, resolution, "800")
    sign_in("manager1")
    page.goto(f"/admin/complaint/details/?id={complaint_id}")
    _wide_and_narrow(page, screenshot, "complaint-details")
    with page.expect_navigation():
        page.locator(".portal-actions a", has_text="批准方案").click()
    context = page.locator(".decision-context").inner_text()
    assert resolution in context and "¥800.00" in context  # what is being decided
    assert "方案提出人" in context
    assert page.locator(".portal-decision a", has_text="退回重新调查").count() == 1
    page.fill("#note", "同意，请本周内完成")
    _wide_and_narrow(page, screenshot, "complaint-approve")
    with page.expect_navigation():
        page.click("#workflow-submit")
    assert "已完成：批准方案" in page.locator("body").inner_text()
    timeline = page.locator(".portal-timeline").inner_text()
    assert "已批准" in timeline and "同意，请本周内完成" in timeline
    assert "孙" in timeline or "manager1" not in timeline  # people by name, not login


def test_lists_and_customer_page_at_both_widths(page, sign_in, live_server, screenshot):
    sign_in("sales1")
    page.goto("/admin/customer/")
    assert page.locator(".container-fluid").count() == 1
    _wide_and_narrow(page, screenshot, "customer-list")
    page.set_viewport_size({"width": 390, "height": 844})
    first_cell = page.locator("table.model-list tbody tr td.col-code").first
    assert first_cell.get_attribute("data-label") == "客户编号"  # card layout labels
    page.set_viewport_size({"width": 1440, "height": 900})
    with page.expect_navigation():
        page.locator("table.model-list td.col-name a").first.click()
    header = page.locator(".portal-customer-header").inner_text()
    assert "归属人" in header and "状态" in header
    tabs = page.locator("#customer-tabs").inner_text()
    for tab in ("基本信息", "回访记录", "变更记录"):
        assert tab in tabs
    _wide_and_narrow(page, screenshot, "customer-page")
    with page.expect_navigation():
        page.locator(".portal-actions a", has_text="记录回访").click()
    page.select_option("#kind", "call")
    page.select_option("#intent", "hot")
    page.fill("#notes", "客户周末来店试驾")
    with page.expect_navigation():
        page.click("form.portal-form button[type=submit]")
    assert "/admin/customer/details/" in page.url  # back on the customer
    assert "回访已记录" in page.locator(".alert").first.inner_text()
    assert "热" in page.locator(".portal-customer-header").inner_text()
    page.goto("/admin/complaint/")
    _wide_and_narrow(page, screenshot, "complaint-list-sales")
