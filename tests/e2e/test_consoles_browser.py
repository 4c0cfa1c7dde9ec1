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


def test_settings_console_reset_asks_first(page, sign_in, screenshot):
    sign_in("sysadmin1")
    page.goto("/admin/setting/")
    page.fill('input[name="value:complaint.close_working_days"]', "4")
    with page.expect_navigation():
        page.click("#save-complaint")
    row = page.locator('tr[data-key="complaint.close_working_days"]')
    assert "已修改" in row.inner_text()
    screenshot(page, "console-settings-zh")
    page.once("dialog", lambda d: d.dismiss())  # "cancel" keeps the value
    row.locator(".reset-button").click()
    assert page.locator('input[name="value:complaint.close_working_days"]').input_value() == "4"
    page.once("dialog", lambda d: d.accept())
    with page.expect_navigation():
        row.locator(".reset-button").click()
    assert page.locator('input[name="value:complaint.close_working_days"]').input_value() == "3"
    page.goto("/lang/en")
    page.goto("/admin/setting/")
    assert "Complaint closed within" in page.content()
    screenshot(page, "console-settings-en")


def test_grants_matrix_finance_reads_complaints(page, sign_in, screenshot):
    sign_in("secadmin1")
    page.goto("/admin/grant/matrix/")
    assert "销售顾问" in page.content()
    screenshot(page, "console-grants-overview-zh")
    page.goto("/admin/grant/matrix/?role=finance")
    page.select_option('select[name="scope:complaint.view"]', "all")
    assert "changed" in page.locator('tr[data-perm="complaint.view"]').get_attribute("class")
    screenshot(page, "console-grants-finance-zh")
    with page.expect_navigation():
        page.click("#grant-preview")
    assert "将修改财务信用主管的 1 项权限" in page.locator("#grant-preview-title").inner_text()
    screenshot(page, "console-grants-preview-zh")
    with page.expect_navigation():
        page.click("#grant-apply")
    assert page.locator('select[name="scope:complaint.view"]').input_value() == "all"
    page.goto("/admin/grant/matrix/?role=auditor")
    assert page.locator("text=审计员只读").first.is_visible()
    screenshot(page, "console-grants-auditor-zh")


def test_audit_log_for_people(page, sign_in, screenshot):
    # entries to read: the calendar and grants tests above, or a sign-in at least
    sign_in("auditor1")
    page.goto("/admin/auditentry/")
    assert "/admin/auditentry/log/" in page.url
    with page.expect_navigation():
        page.click("#audit-verify")
    assert page.locator("#audit-status-ok").is_visible()
    page.select_option("#f-group", "auth")
    with page.expect_navigation():
        page.click("#audit-search")
    assert page.locator(".audit-entry").count() >= 1
    assert "登录" in page.locator(".audit-action").first.inner_text()
    page.select_option("#f-group", "")
    with page.expect_navigation():
        page.click("#audit-search")
    screenshot(page, "console-audit-zh")
    page.goto("/lang/en")
    page.goto("/admin/auditentry/log/")
    assert "Audit chain check" in page.content()
    screenshot(page, "console-audit-en")


def test_reports_read_in_one_language_with_full_width_charts(page, sign_in, screenshot):
    sign_in("gm")
    page.goto("/admin/reports/complaints")
    for i in range(page.locator(".report-chart").count()):  # the world may have no data
        box = page.locator(".report-chart").nth(i).bounding_box()
        assert box and box["width"] > 900  # full width at 1280 px
    assert " / " not in page.locator(".report-figures").inner_text()
    screenshot(page, "console-reports-complaints-zh")
    page.goto("/admin/reports/credit")
    screenshot(page, "console-reports-credit-zh")
    page.goto("/admin/reports/complaints?print=1")
    assert page.locator("text=呈总经理阅").is_visible()
    screenshot(page, "console-reports-print-zh")
    page.goto("/lang/en")
    page.goto("/admin/reports/complaints")
    assert "Monthly complaint statistics" in page.content()
    screenshot(page, "console-reports-complaints-en")
