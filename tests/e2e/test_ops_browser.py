"""Browser tests of the notification channels (issue 20): a person chooses what also reaches
them by e-mail / 企业微信; the system administrator reads a dead letter and sends it again."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

pytestmark = pytest.mark.e2e


def test_a_salesperson_chooses_notification_channels(page, sign_in, screenshot):
    sign_in("sales1")
    page.click("#portal-user-menu")  # the person's own menu under their name
    page.click("text=通知设置")
    page.wait_for_selector("h1:has-text('通知渠道')")
    assert page.is_disabled("input[value='email:customer']")  # no e-mail address on file
    page.check("input[value='wecom:customer']")
    page.check("input[value='wecom:*']")
    screenshot(page, "notification-channels-zh-1440")
    with page.expect_navigation():
        page.click("button:has-text('保存')")
    assert page.is_visible("text=通知渠道已保存。")
    assert page.is_checked("input[value='wecom:customer']")
    assert page.is_checked("input[value='wecom:*']")
    assert page.is_disabled("input[value='dingtalk:*']")       # 钉钉 is not configured
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "notification-channels-zh-390")


def test_the_system_administrator_sends_a_dead_letter_again(page, sign_in, live_server,
                                                           screenshot):
    from models import Notification, OutboxMessage, User
    from portal import clock

    engine = create_engine(live_server.database_url)
    with Session(engine) as s:
        finance = s.scalars(select(User).where(User.username == "finance1")).one()
        note = Notification(user_id=finance.id, kind="credit.awaiting_review",
                            message="Credit line #%(line)s of %(customer)s is waiting for your "
                                    "review.", params={"line": "3", "customer": "华东机电"},
                            target_type="CreditLine", target_id="3",
                            dedupe_key="e2e-dead-letter", created_at=clock.now())
        s.add(note)
        s.flush()
        s.add(OutboxMessage(notification_id=note.id, user_id=finance.id, channel="wecom",
                            status="dead", attempts=8, next_attempt_at=clock.now(),
                            created_at=clock.now(),
                            last_error="webhook: errcode 93000: invalid webhook url"))
        s.commit()
    engine.dispose()
    sign_in("sysadmin1")
    page.goto("/admin/outbox/")
    page.wait_for_selector("text=死信")
    assert page.is_visible("text=93000")
    screenshot(page, "outbox-queue-zh-1440")
    with page.expect_navigation():
        page.click("button:has-text('重新发送')")
    assert page.is_visible("text=消息已重新排队")
    assert page.is_visible("text=待发送")
    screenshot(page, "outbox-queue-requeued-zh-1440")
