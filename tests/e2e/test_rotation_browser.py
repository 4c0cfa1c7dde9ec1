"""R-RECV-1 in the browser: the supervisor sees today's rotation and registers an approved
go-out (issue 16)."""

from __future__ import annotations


def test_R_RECV_1_supervisor_registers_an_approved_go_out(page, sign_in, live_server, screenshot):
    sign_in("supervisor1")
    page.goto("/admin/receptionrecord/rotation/")
    assert "今日轮流接待" in page.content() and "下一位" in page.content()
    page.locator("button[value=go_out]").first.click()
    page.wait_for_load_state()
    assert "外出（已批准）" in page.content()
    screenshot(page, "rotation_approved_go_out")
