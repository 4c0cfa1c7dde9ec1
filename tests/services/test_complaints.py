"""Complaints (R-COMP-1 .. R-COMP-10) through the service layer, with a frozen clock."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    AuditEntry,
    CalendarDay,
    Complaint,
    ComplaintCounter,
    ComplaintEvent,
    ComplaintReminder,
    Notification,
    User,
)
from portal import clock
from portal.services import complaints as svc
from portal.services.errors import (
    Conflict,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from tests.conftest import ON_POSTGRES
from tests.factories import make_user

# Monday 10 March 2025, 10:00 in Shanghai.
MONDAY = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def _data(world, **over):
    data = {"customer_id": world.customers["sales1"][0].id, "channel": "phone",
            "type": "complaint", "cause": "service", "description": "送货迟到三天"}
    data.update(over)
    return data


def _register(session, world, actor=None, **over) -> Complaint:
    return svc.register_complaint(session, actor or world.service, _data(world, **over))


@pytest.fixture
def service2(session, world) -> User:
    u = make_user(session, "service2", ["service"], department=world.d1)
    session.commit()
    return u


def _denied(session, action: str) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == action, AuditEntry.outcome == "denied"))


def _notes(session, user, kind=None) -> list[Notification]:
    stmt = select(Notification).where(Notification.user_id == user.id)
    if kind:
        stmt = stmt.where(Notification.kind == kind)
    return list(session.scalars(stmt.order_by(Notification.id)))


def _walk_to(session, world, c, status, handler=None, approver=None):
    handler = handler or world.service
    approver = approver or world.manager
    steps = ["assigned", "investigating", "proposed", "approved", "replied", "closed"]
    for step in steps[:steps.index(status) + 1]:
        if step == "assigned":
            svc.assign(session, world.service, c.id, handler.id)
        elif step == "investigating":
            svc.start_investigation(session, handler, c.id)
        elif step == "proposed":
            svc.propose_resolution(session, handler, c.id, "道歉并补发", 0)
        elif step == "approved":
            svc.approve(session, approver, c.id)
        elif step == "replied":
            svc.reply(session, handler, c.id, "已电话告知客户")
        elif step == "closed":
            svc.close(session, world.service, c.id, 4, responsibility={"department_id": world.d1.id, "cause": "non_quality"})
    return c


# --- R-COMP-1 numbering ---------------------------------------------------------------------


def test_R_COMP_1_number_is_yymm_plus_serial_and_restarts_each_month(session, world):
    with clock.frozen(MONDAY):
        a = _register(session, world)
        b = _register(session, world, type="inquiry")
    with clock.frozen(datetime(2025, 4, 1, 1, 0, tzinfo=UTC)):
        c = _register(session, world, type="suggestion")
    assert (a.number, b.number, c.number) == ("25030001", "25030002", "25040001")


def test_R_COMP_1_month_follows_company_time(session, world):
    # 31 March 2025 17:00 UTC is already 1 April in Shanghai.
    with clock.frozen(datetime(2025, 3, 31, 17, 0, tzinfo=UTC)):
        assert _register(session, world).number == "25040001"


def test_R_COMP_1_refused_registration_uses_no_number(session, world):
    with clock.frozen(MONDAY):
        a = _register(session, world)
        with pytest.raises(ValidationFailed) as err:
            _register(session, world, description="  ")
        assert err.value.field == "description"
        svc.next_number(session, MONDAY)  # allocated then rolled back: given back
        session.rollback()
        b = _register(session, world)
    assert (a.number, b.number) == ("25030001", "25030002")
    assert session.get(ComplaintCounter, "2503").last_serial == 2


def test_R_COMP_1_serial_digits_setting(session, world):
    from models import Setting

    session.merge(Setting(key="complaint.serial_digits", value="5"))
    session.commit()
    from portal import settings

    settings.forget(session)
    with clock.frozen(MONDAY):
        assert _register(session, world).number == "250300001"


def _engine_for_threads():
    """The app's database, without the pool limit (20 threads each hold a connection)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from portal.extensions import db

    return create_engine(db.engine.url.render_as_string(hide_password=False), poolclass=NullPool)


def _concurrent_registrations(app, world, n: int) -> list[str]:
    engine = _engine_for_threads()
    customer_id = world.customers["sales1"][0].id
    actor_id = world.service.id
    numbers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)
    lock = threading.Lock()

    def worker() -> None:
        try:
            with app.app_context(), Session(engine) as s:
                actor = s.get(User, actor_id)
                barrier.wait(timeout=30)
                c = svc.register_complaint(s, actor, {
                    "customer_id": customer_id, "channel": "hotline",
                    "type": "inquiry", "cause": "other", "description": "并发登记"})
                with lock:
                    numbers.append(c.number)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(n)]
    # the clock is process-wide: freeze it once for all writers, not per thread
    with clock.frozen(MONDAY):
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    engine.dispose()
    assert not errors, errors
    return numbers


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="20-way concurrency needs PostgreSQL row locks "
                    "(SQLite runs the 4-way variant below)")
def test_R_COMP_1_twenty_concurrent_registrations_get_distinct_consecutive_numbers(
        app, session, world):
    numbers = _concurrent_registrations(app, world, 20)
    assert sorted(numbers) == [f"2503{i:04d}" for i in range(1, 21)]
    session.expire_all()
    assert session.get(ComplaintCounter, "2503").last_serial == 20


def test_R_COMP_1_concurrent_registrations_on_any_database(app, session, world):
    numbers = _concurrent_registrations(app, world, 4)
    assert sorted(numbers) == [f"2503{i:04d}" for i in range(1, 5)]


# --- R-COMP-2 deadlines -----------------------------------------------------------------------


def test_R_COMP_2_inquiry_is_due_within_24_hours(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world, type="inquiry")
    assert c.deadline_at == MONDAY + timedelta(hours=24)


def test_R_COMP_2_complaint_due_in_3_working_days_skipping_weekend(session, world):
    friday = datetime(2025, 3, 14, 2, 0, tzinfo=UTC)
    with clock.frozen(friday):
        c = _register(session, world)
    # Mon 17, Tue 18, Wed 19 → end of Wednesday 19 March, Shanghai time.
    assert c.deadline_at == datetime(2025, 3, 19, 15, 59, 59, tzinfo=UTC)


def test_R_COMP_2_deadline_skips_holidays_and_counts_make_up_days(session, world):
    session.add_all([CalendarDay(day=date(2025, 3, 11), kind="holiday", name="假日"),
                     CalendarDay(day=date(2025, 3, 15), kind="workday", name="调休上班")])
    session.commit()
    with clock.frozen(MONDAY):
        c = _register(session, world)
    # Tue 11 holiday; Wed 12, Thu 13, Fri 14 → Fri 14.
    assert svc.calendar.company_date(c.deadline_at) == date(2025, 3, 14)
    with clock.frozen(datetime(2025, 3, 13, 2, 0, tzinfo=UTC)):
        d = _register(session, world, customer_id=world.customers["sales2"][0].id)
    # Thu 13 → Fri 14, Sat 15 (make-up working day), Mon 17.
    assert svc.calendar.company_date(d.deadline_at) == date(2025, 3, 17)


def test_R_COMP_2_one_documented_extension_to_at_most_7_working_days(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        deadline = c.deadline_at
        with pytest.raises(RuleViolation) as err:
            svc.extend(session, world.service, c.id, "需要厂家鉴定", 8)
        assert err.value.rule == "R-COMP-2"
        with pytest.raises(ValidationFailed) as err:
            svc.extend(session, world.service, c.id, "  ", 7)
        assert err.value.field == "reason"
        session.refresh(c)
        assert c.deadline_at == deadline and not c.extended
        svc.extend(session, world.service, c.id, "需要厂家鉴定", 7)
        session.refresh(c)
        assert c.extended and c.extension_reason == "需要厂家鉴定"
        assert svc.calendar.company_date(c.deadline_at) == date(2025, 3, 19)
        with pytest.raises(RuleViolation) as err:
            svc.extend(session, world.service, c.id, "再延一次", 7)
        assert err.value.rule == "R-COMP-2"
    assert any("extended" in (e.note or "") for e in c.events)


# --- R-COMP-3 major complaints ----------------------------------------------------------------


def test_R_COMP_3_repeat_complaint_is_major_and_escalated_to_managers(session, world):
    with clock.frozen(MONDAY):
        first = _register(session, world)
    with clock.frozen(MONDAY + timedelta(days=30)):
        second = _register(session, world)
    assert first.severity == "general" and first.escalated_at is None
    assert second.severity == "major" and "repeat" in second.major_reason
    assert second.escalated_at == MONDAY + timedelta(days=30)
    assert _notes(session, world.manager, "complaint.major")
    assert _notes(session, world.gm, "complaint.major")
    assert not _notes(session, world.manager2, "complaint.major")  # other department


def test_R_COMP_3_no_repeat_after_the_window(session, world):
    with clock.frozen(MONDAY):
        _register(session, world)
    with clock.frozen(MONDAY + timedelta(days=91)):
        assert _register(session, world).severity == "general"


@pytest.mark.parametrize("flags", [{"to_manufacturer_or_media": True},
                                   {"collective_customers": 3},
                                   {"refund_or_exchange": True},
                                   {"threats_or_disturbance": True}])
def test_R_COMP_3_registration_flags_make_it_major(session, world, flags):
    with clock.frozen(MONDAY):
        c = _register(session, world, **flags)
    assert c.severity == "major" and c.major_reason


def test_R_COMP_3_two_customers_is_not_collective(session, world):
    with clock.frozen(MONDAY):
        assert _register(session, world, collective_customers=2).severity == "general"


def test_R_COMP_3_major_resolution_needs_general_manager(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world, refund_or_exchange=True)
        _walk_to(session, world, c, "proposed")
        before = _denied(session, "complaint.approve_major")
        with pytest.raises(PermissionDenied) as err:
            svc.approve(session, world.manager, c.id)
        assert err.value.rule == "R-COMP-3"
        assert _denied(session, "complaint.approve_major") == before + 1
        session.refresh(c)
        assert c.status == "proposed"
        svc.approve(session, world.gm, c.id)
        assert c.status == "approved"


def test_R_COMP_3_tick_escalates_a_major_complaint_not_yet_escalated(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
    c.severity, c.major_reason = "major", "媒体曝光"
    session.commit()
    counts = svc.tick(session, MONDAY + timedelta(hours=1))
    assert counts["escalations"] == 1
    assert svc.tick(session, MONDAY + timedelta(hours=2))["escalations"] == 0
    session.refresh(c)
    assert c.escalated_at == MONDAY + timedelta(hours=1)
    assert _notes(session, world.gm, "complaint.major")


# --- R-COMP-4 first responder -------------------------------------------------------------


def test_R_COMP_4_first_responder_stays_accountable_and_is_told_of_each_step(
        session, world, service2):
    with clock.frozen(MONDAY):
        c = _register(session, world)  # received by world.service
        _walk_to(session, world, c, "closed", handler=service2)
    assert c.received_by_id == world.service.id and c.handler_id == service2.id
    steps = [n for n in _notes(session, world.service) if n.kind in (
        "complaint.step", "complaint.assigned", "complaint.awaiting_approval")]
    assert len(steps) == 6  # assigned, investigating, proposed, approved, replied, closed
    from portal.services.unit import load

    assert load(session, world.service, Complaint, c.id, "complaint.view").id == c.id


def test_R_COMP_4_handler_with_own_scope_and_receiver_can_view(session, world):
    """The policy's complaint scope always includes the first responder and the handler."""
    from portal import policy

    with clock.frozen(MONDAY):
        c = _register(session, world, customer_id=world.customers["sales4"][0].id)
    stmt = policy.scope(select(Complaint.id), world.service, Complaint)
    assert c.id in session.scalars(stmt).all()
    # sales1 (own scope) does not see a complaint about sales4's customer
    assert c.id not in session.scalars(policy.scope(select(Complaint.id), world.sales1,
                                                    Complaint)).all()


# --- R-COMP-5 conflict of interest ------------------------------------------------------------


def test_R_COMP_5_accused_cannot_be_assigned(session, world, service2):
    with clock.frozen(MONDAY):
        c = _register(session, world, accused_user_id=service2.id)
        with pytest.raises(RuleViolation) as err:
            svc.assign(session, world.service, c.id, service2.id)
    assert err.value.rule == "R-COMP-5" and err.value.field == "handler_id"
    session.refresh(c)
    assert c.handler_id is None and c.status == "registered"


def test_R_COMP_5_accused_cannot_approve_or_close(session, world, service2):
    with clock.frozen(MONDAY):
        c = _register(session, world, accused_user_id=world.manager.id)
        _walk_to(session, world, c, "proposed", handler=service2)
        with pytest.raises(RuleViolation) as err:
            svc.approve(session, world.manager, c.id)
        assert err.value.rule == "R-COMP-5"
        svc.approve(session, world.gm, c.id)
        svc.reply(session, service2, c.id)
        c.accused_user_id = world.service.id
        session.commit()
        with pytest.raises(RuleViolation):
            svc.close(session, world.service, c.id, 5, responsibility={"department_id": world.d1.id, "cause": "non_quality"})
        session.refresh(c)
        assert c.status == "replied" and c.satisfaction is None
        svc.close(session, service2, c.id, 5, responsibility={"department_id": world.d1.id, "cause": "non_quality"})
        assert c.status == "closed"


def test_R_COMP_5_accused_cannot_register_against_themselves(session, world):
    with clock.frozen(MONDAY), pytest.raises(RuleViolation) as err:
        _register(session, world, accused_user_id=world.service.id)
    assert err.value.rule == "R-COMP-5"
    assert session.scalar(select(func.count(Complaint.id))) == 0


# --- R-COMP-6 workflow ------------------------------------------------------------------------


def test_R_COMP_6_full_workflow_records_each_step(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        _walk_to(session, world, c, "closed")
    events = session.scalars(select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id)
                             .order_by(ComplaintEvent.id)).all()
    assert [e.to_status for e in events] == ["registered", "assigned", "investigating",
                                            "proposed", "approved", "replied", "closed"]
    assert all(e.actor_id and e.at == MONDAY for e in events)
    assert events[0].from_status is None and events[1].from_status == "registered"
    assert c.satisfaction == 4 and c.closed_at == MONDAY


def test_R_COMP_6_only_allowed_transitions(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        assert set(svc.allowed_transitions(c)) == {"assigned", "rejected"}
        with pytest.raises(RuleViolation) as err:
            svc.close(session, world.service, c.id, 5, responsibility={"department_id": world.d1.id, "cause": "non_quality"})
        assert err.value.rule == "R-COMP-6"
        _walk_to(session, world, c, "investigating")
        with pytest.raises(RuleViolation):
            svc.reject(session, world.service, c.id, "无理投诉")
    session.refresh(c)
    assert c.status == "investigating" and c.rejection_reason is None


def test_R_COMP_6_reject_needs_a_reason(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        with pytest.raises(ValidationFailed) as err:
            svc.reject(session, world.service, c.id, " ")
        assert err.value.field == "reason"
        svc.reject(session, world.service, c.id, "客户误会, 非我司产品")
    assert c.status == "rejected" and c.rejection_reason.startswith("客户误会")
    assert svc.allowed_transitions(c) == ()


def test_R_COMP_6_approval_refused_goes_back_to_investigation(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        _walk_to(session, world, c, "proposed")
        with pytest.raises(ValidationFailed):
            svc.approve(session, world.manager, c.id, accept=False)
        svc.approve(session, world.manager, c.id, accept=False, note="补偿方案不足")
    assert c.status == "investigating"


def test_R_COMP_6_only_the_handler_works_on_it(session, world, service2):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        svc.assign(session, world.service, c.id, service2.id)
        with pytest.raises(PermissionDenied):
            svc.start_investigation(session, world.service, c.id)
    session.refresh(c)
    assert c.status == "assigned"


def test_R_COMP_6_stale_version_is_a_conflict(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        with pytest.raises(Conflict):
            svc.assign(session, world.service, c.id, world.service.id,
                       expected_version=c.version + 5)
        svc.assign(session, world.service, c.id, world.service.id, expected_version=c.version)


def test_R_COMP_6_wrong_role_is_denied_and_audited_once(session, world):
    with clock.frozen(MONDAY):
        before = _denied(session, "complaint.add")
        with pytest.raises(PermissionDenied):
            _register(session, world, actor=world.sales1)
        assert _denied(session, "complaint.add") == before + 1
        assert session.scalar(select(func.count(Complaint.id))) == 0
        c = _register(session, world)
        for n, actor in enumerate((world.auditor, world.sales1), start=1):
            with pytest.raises(PermissionDenied):
                svc.assign(session, actor, c.id, world.service.id)
            assert _denied(session, "complaint.assign") == n
    session.refresh(c)
    assert c.status == "registered" and c.handler_id is None


# --- R-COMP-7 overdue, reminders, transfer ------------------------------------------------


def test_R_COMP_7_overdue_is_derived_from_dates(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world, type="inquiry")
    assert not svc.is_overdue(c, MONDAY + timedelta(hours=23))
    assert svc.is_overdue(c, MONDAY + timedelta(hours=25))
    ids = session.scalars(select(Complaint.id).where(
        svc.overdue_clause(MONDAY + timedelta(hours=25)))).all()
    assert ids == [c.id]
    with clock.frozen(MONDAY):
        svc.reject(session, world.service, c.id, "重复登记")
    assert not svc.is_overdue(c, MONDAY + timedelta(days=30))


def test_R_COMP_7_tick_records_one_reminder_per_day(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world, type="inquiry")
        svc.assign(session, world.service, c.id, world.service.id)
    later = MONDAY + timedelta(hours=30)
    assert svc.tick(session, later)["reminders"] == 1
    assert svc.tick(session, later + timedelta(minutes=5))["reminders"] == 0
    assert len(session.scalars(select(ComplaintReminder)).all()) == 1
    assert svc.tick(session, later + timedelta(days=1))["reminders"] == 1
    assert len(session.scalars(select(ComplaintReminder)).all()) == 2
    assert _notes(session, world.service, "complaint.overdue")


def test_R_COMP_7_transfer_suggestion_3_working_days_after_registration(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world, type="inquiry")
    # registered Monday: the ground exists from the end of Thursday (3 working days later)
    assert svc.tick(session, c.deadline_at + timedelta(days=2))["transfer_suggestions"] == 0
    counts = svc.tick(session, c.deadline_at + timedelta(days=3, minutes=1))  # Friday
    assert counts["transfer_suggestions"] >= 2  # first responder + department manager
    assert _notes(session, world.manager, "complaint.transfer")
    again = svc.tick(session, c.deadline_at + timedelta(days=4))
    assert again["transfer_suggestions"] == 0


def test_R_COMP_7_manual_reminder(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        r = svc.remind(session, world.manager, c.id, "请尽快处理")
    assert r.created_by_id == world.manager.id and r.note == "请尽快处理"
    with clock.frozen(MONDAY), pytest.raises(PermissionDenied):
        svc.remind(session, world.sales1, c.id, "x")


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="needs PostgreSQL for parallel writers")
def test_R_COMP_7_two_ticks_at_once_record_one_reminder(app, session, world):
    engine = _engine_for_threads()
    with clock.frozen(MONDAY):
        _register(session, world, type="inquiry")
    later = MONDAY + timedelta(hours=30)
    results: list[dict] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        with app.app_context(), Session(engine) as s:
            barrier.wait(timeout=30)
            results.append(svc.tick(s, later))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    engine.dispose()
    assert sum(r["reminders"] for r in results) == 1
    session.expire_all()
    assert len(session.scalars(select(ComplaintReminder)).all()) == 1


# --- R-COMP-8 statistics ----------------------------------------------------------------------


def test_R_COMP_8_monthly_statistics(session, world):
    with clock.frozen(MONDAY):
        a = _register(session, world)
        _walk_to(session, world, a, "closed")  # closed at once: on time, satisfaction 4
        _register(session, world, type="inquiry", cause="billing",
                  customer_id=world.customers["sales4"][0].id)
    with clock.frozen(datetime(2025, 4, 2, 2, 0, tzinfo=UTC)):
        _register(session, world)  # next month: not counted
        stats = svc.monthly_statistics(session, world.gm, 2025, 3)
    assert stats["total"] == 2
    assert stats["by_type"] == {"complaint": 1, "inquiry": 1}
    assert stats["by_cause"] == {"billing": 1, "service": 1}
    assert stats["by_severity"] == {"general": 2}
    assert stats["by_department"] == {"销售一部": 1, "销售二部": 1}
    assert stats["closed"] == 1 and stats["on_time_rate"] == 1.0
    assert stats["avg_handling_hours"] == 0.0 and stats["avg_satisfaction"] == 4.0
    assert stats["open_overdue"] == 1


def test_R_COMP_8_statistics_are_scoped(session, world):
    with clock.frozen(MONDAY):
        _register(session, world)
        _register(session, world, customer_id=world.customers["sales4"][0].id)
        assert svc.monthly_statistics(session, world.manager2, 2025, 3)["total"] == 1
        assert svc.monthly_statistics(session, world.sales1, 2025, 3)["total"] == 1
        before = _denied(session, "report.view")
        with pytest.raises(PermissionDenied):
            svc.monthly_statistics(session, world.sysadmin, 2025, 3)
        assert _denied(session, "report.view") == before + 1


# --- R-COMP-9 retention -----------------------------------------------------------------------


def test_R_COMP_9_records_cannot_be_deleted(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        with pytest.raises(RuleViolation) as err:
            svc.delete_complaint(session, world.gm, c.id)
        assert err.value.rule == "R-COMP-9"
        _walk_to(session, world, c, "closed")
    assert c.retain_until == MONDAY + timedelta(days=365)
    with clock.frozen(MONDAY + timedelta(days=364)), pytest.raises(RuleViolation):
        svc.delete_complaint(session, world.gm, c.id)
    with clock.frozen(MONDAY + timedelta(days=400)), pytest.raises(PermissionDenied):
        svc.delete_complaint(session, world.gm, c.id)
    assert session.get(Complaint, c.id) is not None


# --- R-COMP-10 compensation ---------------------------------------------------------------


def test_R_COMP_10_compensation_above_threshold_needs_general_manager(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        _walk_to(session, world, c, "investigating")
        svc.propose_resolution(session, world.service, c.id, "退款", "6000")
        with pytest.raises(PermissionDenied) as err:
            svc.approve(session, world.manager, c.id)
        assert err.value.rule == "R-COMP-10"
        session.refresh(c)
        assert c.status == "proposed" and c.compensation_approved_by_id is None
        svc.approve(session, world.gm, c.id)
    assert c.compensation_approved_by_id == world.gm.id
    assert c.compensation_amount == Decimal("6000.00")


def test_R_COMP_10_compensation_at_threshold_is_the_manager_s(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        _walk_to(session, world, c, "investigating")
        svc.propose_resolution(session, world.service, c.id, "部分退款", 5000)
        svc.approve(session, world.manager, c.id)
    assert c.status == "approved" and c.compensation_approved_by_id == world.manager.id


def test_R_COMP_10_negative_compensation_is_invalid(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        _walk_to(session, world, c, "investigating")
        with pytest.raises(ValidationFailed) as err:
            svc.propose_resolution(session, world.service, c.id, "x", "-1")
    assert err.value.field == "compensation_amount"


def test_R_COMP_6_allowed_operations_name_the_verbs_for_the_buttons(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        assert svc.allowed_operations(c) == {"assign", "reject", "extend", "remind",
                                             "regrade_major"}
        _walk_to(session, world, c, "proposed")
        assert svc.allowed_operations(c) == {"approve", "extend", "remind", "regrade_major"}
        svc.extend(session, world.service, c.id, "等待鉴定", 5)
        assert svc.allowed_operations(c) == {"approve", "remind", "regrade_major"}
        svc.approve(session, world.manager, c.id)
        svc.reply(session, world.service, c.id)
        assert svc.allowed_operations(c) == {"close", "remind", "regrade_major"}
        svc.close(session, world.service, c.id, 5, responsibility={"department_id": world.d1.id, "cause": "non_quality"})
        assert svc.allowed_operations(c) == set()
