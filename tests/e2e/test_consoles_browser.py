"""The administrators' consoles in a real browser (issue 15): each console is used as its
person would and screenshotted (look at them: $E2E_SCREENSHOT_DIR)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def test_calendar_month_editor_sets_national_day(page, sign_in, screenshot):
    sign_in("sysadmin1")
    page.goto("/admin/calendarday/month/?month=2026-10")
    page.click('td[data-day="2026-10-01"] a')
    page.click("label[for=kind-holiday]")
    page.fill("#cal-name", "国庆节")
    page.fill("#cal-until", "2026-10-07")
    with page.expect_navigation():
        page.click("#cal-save")
    page.click('td[data-day="2026-10-10"] a')
    page.click("label[for=kind-workday]")
    page.fill("#cal-name", "国庆节调休")
    with page.expect_navigation():
        page.click("#cal-save")
    assert page.locator('td[data-day="2026-10-05"]').get_attribute("data-kind") == "holiday"
    assert page.locator('td[data-day="2026-10-10"]').get_attribute("data-kind") == "workday"
    assert "国庆节" in page.locator('td[data-day="2026-10-03"]').inner_text()
    assert page.locator("#cal-coverage").is_visible()
    screenshot(page, "console-calendar-zh")
