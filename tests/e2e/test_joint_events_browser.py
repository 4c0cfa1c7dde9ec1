"""R-CUST-10 joint events in a real browser: 销售二部's head submits a list naming a customer
销售一部 already confirmed (refused, with the department and when), the coordinator's board shows
the conflict as a red badge and rules on it with a reason. Screenshots (zh and en, 1440 and
390 px) of the submission page and the board in the artifacts folder."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.e2e.test_work_pages import _user, _wide_and_narrow, _with_app

pytestmark = pytest.mark.e2e


def test_R_CUST_10_submission_and_board_in_the_browser(page, sign_in, live_server, screenshot):
    from sqlalchemy import select

    from models import Customer, Department
    from portal import clock
    from portal.services import joint_events as je

    contested_name = live_server.customers["sales3"][0]

    def prepare(session):
        d1, d2 = session.scalars(select(Department).order_by(Department.id)).all()[:2]
        event = je.create_event(session, _user(session, "gm"), name="浏览器测试联谊会",
                                event_date=clock.today() + timedelta(days=4),
                                session_kind="afternoon", venue="总部三楼会议厅",
                                department_ids=[d1.id, d2.id],
                                coordinator_id=_user(session, "service1").id)
        contested = session.scalar(select(Customer).where(Customer.name == contested_name))
        je.submit_list(session, _user(session, "manager1"), event.id, [contested.id])
        return event.id

    event_id = _with_app(live_server, prepare)
    sign_in("manager2")
    page.goto(f"/admin/joint-events/submit?id={event_id}")
    assert "提交邀约敲定名单" in page.content()
    page.select_option("#customers", label=page.locator("#customers option").first.inner_text())
    page.fill("#lookups", contested_name)
    _wide_and_narrow(page, screenshot, "i18-joint-submit-zh")
    with page.expect_navigation():
        page.locator("form.joint-submit [type=submit]").click()
    content = page.content()
    assert "他部已敲定 1 位" in content and "已由 销售一部 于" in content
    assert "badge-danger" in content
    _wide_and_narrow(page, screenshot, "i18-joint-my-list-zh")
    page.goto("/lang/en")
    page.goto(f"/admin/joint-events/submit?id={event_id}")
    assert "Submit the confirmed-invitation list" in page.content()
    _wide_and_narrow(page, screenshot, "i18-joint-submit-en")
    page.context.clear_cookies()

    sign_in("service1")
    page.goto(f"/admin/joint-events/board?id={event_id}")
    assert "待裁定" in page.content()
    _wide_and_narrow(page, screenshot, "i18-joint-board-zh")
    conflict = page.locator(".joint-conflict").first
    conflict.locator("select[name=winner]").select_option(label="销售一部")
    conflict.locator("input[name=reason]").first.fill("一部先建档并先敲定")
    with page.expect_navigation():
        conflict.locator("button", has_text="裁定").click()
    assert "已裁定" in page.content() and "一部先建档并先敲定" in page.content()
    page.goto("/lang/en")
    page.goto(f"/admin/joint-events/board?id={event_id}")
    assert "Coordinator's board" in page.content() and "Ruled" in page.content()
    _wide_and_narrow(page, screenshot, "i18-joint-board-en")
