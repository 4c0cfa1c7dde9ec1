"""The working-day calendar console (issue 15, R-COMP-2): the month-grid editor, the import
of the official holidays, the sysadmin's warning and the deadlines that follow."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from models import AuditEntry, CalendarDay
from portal import clock
from portal.cli import portal_cli
from portal.services import complaints, workcalendar
from tests.admin.conftest import audit_seq, entries_since, fingerprint

# Wednesday 30 September 2026, 10:00 in Shanghai.
SEP_30 = datetime(2026, 9, 30, 2, 0, tzinfo=UTC)


def _register(session, world):
    return complaints.register_complaint(session, world.service, {
        "customer_id": world.customers["sales1"][0].id, "channel": "phone",
        "type": "complaint", "cause": "service", "description": "交车延误"})


def test_R_COMP_2_C2_national_day_set_in_the_editor_moves_the_deadline(session, world,
                                                                         clients):
    c = clients["sysadmin"]
    page = c.get("/admin/calendarday/month/?month=2026-10&day=2026-10-01")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "2026 年 10 月" in html and 'id="cal-edit-form"' in html

    mark = audit_seq()
    resp = c.post("/admin/calendarday/set/", data={
        "day": "2026-10-01", "until": "2026-10-07", "kind": "holiday", "name": "国庆节",
        "month": "2026-10"})
    assert resp.status_code == 302 and "/admin/calendarday/month/" in resp.headers["Location"]
    resp = c.post("/admin/calendarday/set/", data={
        "day": "2026-10-10", "kind": "workday", "name": "国庆节调休", "month": "2026-10"})
    assert resp.status_code == 302
    added = [e for e in entries_since(mark) if e.action == "setting.calendar_add"]
    assert len(added) == 8 and all(e.outcome == "ok" for e in added)
    assert {e.target_id for e in added} >= {"2026-10-01", "2026-10-07", "2026-10-10"}

    html = c.get("/admin/calendarday/month/?month=2026-10").get_data(as_text=True)
    assert 'data-day="2026-10-03" data-kind="holiday"' in html
    assert 'data-day="2026-10-10" data-kind="workday"' in html

    with clock.frozen(SEP_30):
        complaint = _register(session, world)
    # 1–7 Oct skipped, Thu 8, Fri 9 and the make-up Saturday 10 Oct count: 3 working days.
    assert workcalendar_date(complaint.deadline_at) == date(2026, 10, 10)


def workcalendar_date(moment: datetime) -> date:
    from portal.services import calendar

    return calendar.company_date(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def test_R_COMP_2_calendar_change_leaves_registered_deadlines_alone(session, world, clients):
    with clock.frozen(SEP_30):
        before = _register(session, world)
    assert workcalendar_date(before.deadline_at) == date(2026, 10, 5)  # Thu, Fri, Mon
    clients["sysadmin"].post("/admin/calendarday/set/", data={
        "day": "2026-10-01", "until": "2026-10-07", "kind": "holiday", "name": "国庆节"})
    session.expire_all()
    assert workcalendar_date(before.deadline_at) == date(2026, 10, 5)
    with clock.frozen(SEP_30):
        after = _register(session, world)
    assert workcalendar_date(after.deadline_at) == date(2026, 10, 12)  # Thu 8, Fri 9, Mon 12


def test_R_COMP_2_back_to_normal_and_bad_input(session, world, clients):
    c = clients["sysadmin"]
    c.post("/admin/calendarday/set/", data={"day": "2026-05-01", "kind": "holiday",
                                            "name": "劳动节"})
    assert session.get(CalendarDay, date(2026, 5, 1)).name == "劳动节"
    c.post("/admin/calendarday/set/", data={"day": "2026-05-01", "kind": "normal"})
    session.expire_all()
    assert session.get(CalendarDay, date(2026, 5, 1)) is None
    state = fingerprint()
    for bad in ({"day": "2026-13-01", "kind": "holiday"},
                {"day": "2026-05-01", "kind": "vacation"},
                {"day": "2026-05-10", "until": "2026-05-01", "kind": "holiday"},
                {"day": "2026-01-01", "until": "2026-03-01", "kind": "holiday"}):
        resp = c.post("/admin/calendarday/set/", data=bad, follow_redirects=True)
        assert resp.status_code == 200
        assert "alert-danger" in resp.get_data(as_text=True) or "error" in resp.get_data(
            as_text=True)
    assert fingerprint() == state


def test_R_COMP_2_create_page_opens_for_sysadmin_only(world, clients):
    assert clients["sysadmin"].get("/admin/calendarday/new/").status_code == 200
    resp = clients["sysadmin"].post("/admin/calendarday/new/", data={
        "day": "2026-06-19", "kind": "holiday", "name": "端午节"})
    assert resp.status_code == 302
    assert clients["sales"].get("/admin/calendarday/new/").status_code == 403
    secadmin = clients["secadmin"]  # logged in before the fingerprint (login writes)
    state = fingerprint()
    assert secadmin.post("/admin/calendarday/set/", data={
        "day": "2026-06-20", "kind": "holiday"}).status_code == 403
    assert fingerprint() == state


def test_R_COMP_2_import_command_fills_spring_festival_and_national_day(app, session):
    result = app.test_cli_runner().invoke(portal_cli, ["calendar-import", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "2026:" in result.output and "covers 2004-" in result.output

    def day(iso: str) -> CalendarDay:
        return session.get(CalendarDay, date.fromisoformat(iso))

    assert (day("2026-02-17").kind, day("2026-02-17").name) == ("holiday", "春节")
    assert (day("2026-02-14").kind, day("2026-02-14").name) == ("workday", "春节")  # Saturday
    assert (day("2026-10-01").kind, day("2026-10-01").name) == ("holiday", "国庆节")
    assert day("2026-10-10").kind == "workday"  # Saturday make-up day for 国庆
    assert day("2026-09-20").kind == "workday"  # Sunday make-up day
    assert day("2026-03-03") is None
    entry = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "setting.calendar_import")).one()
    assert entry.actor_name == "system"
    # idempotent: a second run changes nothing
    again = app.test_cli_runner().invoke(portal_cli, ["calendar-import", "--year", "2026"])
    assert "(0 changed)" in again.output


def test_R_COMP_2_import_of_an_unpublished_year_says_what_to_do(app, session):
    first, last = workcalendar.official_years()
    result = app.test_cli_runner().invoke(portal_cli, ["calendar-import", "--year",
                                                       str(last + 1)])
    assert result.exit_code == 1
    assert f"covers {first}-{last}" in result.output and "calendar editor" in result.output
    ok = app.test_cli_runner().invoke(portal_cli, ["calendar-import", "--year", str(last + 1),
                                                   "--skip-missing"])
    assert ok.exit_code == 0


def test_R_COMP_2_import_button_in_the_editor(session, world, clients):
    resp = clients["sysadmin"].post("/admin/calendarday/import/", data={"year": "2025"},
                                    follow_redirects=True)
    assert resp.status_code == 200
    assert "已导入 2025 年法定节假日" in resp.get_data(as_text=True)
    assert session.get(CalendarDay, date(2025, 10, 8)).kind == "holiday"


def test_R_COMP_2_sysadmin_warned_in_december_when_next_year_is_empty(session, world,
                                                                       clients):
    assert workcalendar.next_year_warning(session, date(2026, 11, 30)) is None
    warning = workcalendar.next_year_warning(session, date(2026, 12, 1))
    assert warning is not None and warning.year == 2027
    with clock.frozen(datetime(2025, 12, 2, 2, 0, tzinfo=UTC)):
        html = clients["sysadmin"].get("/admin/").get_data(as_text=True)
        assert "2026 年的工作日历" in html and "/admin/calendarday/month/?month=2026-01" in html
        assert "2026 年的工作日历" not in clients["sales"].get("/admin/").get_data(as_text=True)
        workcalendar.import_official_year(session, world.sysadmin, 2026)
        assert "2026 年的工作日历" not in clients["sysadmin"].get("/admin/").get_data(
            as_text=True)
