"""R-AUD-5 in the browser: the security auditor opens 月度安全报告 from the menu, picks a month,
reads the figures and badges, in Chinese and English, on a desktop and on a 390 px phone
(screenshots: security-report-*.png)."""

from __future__ import annotations


def _seed(live_server) -> None:
    from portal import audit
    from portal.extensions import db

    with live_server.app.app_context():
        for _ in range(2):
            audit.record(db.session, None, "auth.login", "User", outcome="denied",
                         detail="wrong password", actor_name="mallory")
        audit.record(db.session, None, "customer.change", ("Customer", 1), outcome="denied",
                     detail="admin: row outside scope", actor_name="sales1")
        db.session.commit()
        db.session.remove()


def test_R_AUD_5_security_auditor_reads_the_monthly_report(page, sign_in, screenshot,
                                                           live_server):
    _seed(live_server)
    sign_in("secauditor1")
    page.goto("/admin/security-report/")
    assert "月度安全报告" in page.inner_text("h1")
    failed = page.locator('[data-figure="failed_sign_ins"]')
    assert int(failed.inner_text().split()[-1]) >= 2
    assert page.locator('[data-section="refusals"] .badge-danger').count() >= 1
    screenshot(page, "security-report-zh")
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width  # no sideways stretch of the page on a phone
    screenshot(page, "security-report-zh-390")
    page.goto("/lang/en")
    page.goto("/admin/security-report/")
    assert "Monthly security report" in page.inner_text("h1")
    screenshot(page, "security-report-en-390")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()
    screenshot(page, "security-report-en")
    # another month through the picker
    page.fill("#p-month", "2026-01")
    with page.expect_navigation():
        page.click("#security-report-month button[type=submit]")
    assert "month=2026-01" in page.url
