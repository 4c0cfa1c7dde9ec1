"""Issue 16, complaints as the company's complaint policy (客户投诉处理管理制度) writes them:
re-grading major at any open step (R-COMP-3), handing the customer to another department when
a complaint is not resolved within 3 working days of registration (R-COMP-7), statistics of the
cases closed in the month and the reminder on the 1st (R-COMP-8), and registration on a
weekend (R-COMP-2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Complaint, Customer, OwnerChange
from portal import clock
from portal.services import complaint_escalation as esc
from portal.services import complaints as svc
from portal.services.errors import PermissionDenied, RuleViolation, ValidationFailed
from tests.services.test_complaints import MONDAY, _notes, _register, _walk_to

SATURDAY = datetime(2025, 3, 15, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def _denied(session, action: str) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == action, AuditEntry.outcome == "denied"))


# --- R-COMP-2: a registration on a weekend ---------------------------------------------------


def test_R_COMP_2_registration_on_a_weekend_counts_from_monday(session, world):
    with clock.frozen(SATURDAY):
        c = _register(session, world)
        inquiry = _register(session, world, type="inquiry")
    # 3 working days after Saturday: Monday, Tuesday, Wednesday → end of Wednesday 19 March
    deadline = c.deadline_at.astimezone(clock.COMPANY_TZ)
    assert (deadline.year, deadline.month, deadline.day) == (2025, 3, 19)
    assert deadline.hour == 23 and deadline.minute == 59
    # an inquiry is answered within 24 hours, weekend or not
    assert inquiry.deadline_at == SATURDAY + timedelta(hours=24)


# --- R-COMP-3: re-graded major later ---------------------------------------------------------


@pytest.mark.parametrize("status", ["registered", "assigned", "investigating", "proposed"])
def test_R_COMP_3_regrade_major_at_any_open_step_escalates(session, world, status):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        if status != "registered":
            _walk_to(session, world, c, status)
        assert c.severity == "general"
        svc_c = esc.regrade_major(session, world.service, c.id, "客户已向媒体投诉")
    assert svc_c.severity == "major" and svc_c.major_reason == "客户已向媒体投诉"
    assert svc_c.escalated_at == MONDAY and svc_c.status == status
    assert _notes(session, world.gm, "complaint.major")
    assert _notes(session, world.manager, "complaint.major")
    assert "complaint.approve_major" in svc.approval_actions(session, svc_c)


def test_R_COMP_3_regrade_after_manager_approval_needs_the_general_manager(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        _walk_to(session, world, c, "approved")
        esc.regrade_major(session, world.manager, c.id, "同一客户第三次投诉")
        assert c.status == "proposed"
        with pytest.raises(PermissionDenied):  # the department manager alone is not enough
            svc.approve(session, world.manager, c.id)
        svc.approve(session, world.gm, c.id)
    assert c.status == "approved"


def test_R_COMP_3_regrade_needs_a_reason_and_the_grant(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        with pytest.raises(ValidationFailed):
            esc.regrade_major(session, world.service, c.id, "  ")
        with pytest.raises(PermissionDenied):
            esc.regrade_major(session, world.sales1, c.id, "媒体")
        assert _denied(session, "complaint.assign") == 1
        _walk_to(session, world, c, "closed")
        with pytest.raises(RuleViolation):
            esc.regrade_major(session, world.service, c.id, "媒体")
    session.expire_all()
    assert session.get(Complaint, c.id).severity == "general"


# --- R-COMP-7: hand the customer to another department ---------------------------------------

THURSDAY_NIGHT = datetime(2025, 3, 13, 16, 30, tzinfo=UTC)  # Fri 00:30 Shanghai


def test_R_COMP_7_not_resolved_in_3_working_days_customer_goes_to_another_department(
        session, world):
    customer = world.customers["sales1"][0]
    with clock.frozen(MONDAY):
        c = _register(session, world)
        svc.extend(session, world.service, c.id, "需要厂家检测", 7)  # the deadline moves…
    # …but the ground is 3 working days after registration: Thursday 13 March, end of day.
    with clock.frozen(datetime(2025, 3, 13, 15, 0, tzinfo=UTC)):  # Thu 23:00 Shanghai
        assert not esc.transfer_allowed(session, c)
        with pytest.raises(RuleViolation) as err:
            esc.hand_to_other_department(session, world.manager, c.id, world.sales4.id, "久拖")
        assert err.value.rule == "R-COMP-7"
    with clock.frozen(THURSDAY_NIGHT):
        assert "hand_to_other_department" in svc.allowed_operations(c)
        with pytest.raises(ValidationFailed):  # same department: not a hand-over
            esc.hand_to_other_department(session, world.manager, c.id, world.sales3.id, "久拖")
        with pytest.raises(PermissionDenied):  # service staff do not reassign customers
            esc.hand_to_other_department(session, world.service, c.id, world.sales4.id, "久拖")
        esc.hand_to_other_department(session, world.manager, c.id, world.sales4.id,
                                     "三个工作日未处理好，移交销售二部")
    session.expire_all()
    customer = session.get(Customer, customer.id)
    assert customer.owner_id == world.sales4.id and customer.department_id == world.d2.id
    change = session.scalars(select(OwnerChange).where(OwnerChange.customer_id == customer.id)
                             .order_by(OwnerChange.id.desc())).first()
    assert change.from_user_id == world.sales1.id and change.to_user_id == world.sales4.id
    assert "R-COMP-7" in change.reason and change.changed_by_id == world.manager.id
    assert _notes(session, world.sales4, "complaint.handed_over")


def test_R_COMP_7_resolved_complaint_gives_no_ground(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        _walk_to(session, world, c, "approved")
    with clock.frozen(THURSDAY_NIGHT), pytest.raises(RuleViolation):
        esc.hand_to_other_department(session, world.gm, c.id, world.sales4.id, "久拖")


def test_R_COMP_7_tick_suggests_the_handover_3_working_days_after_registration(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        svc.extend(session, world.service, c.id, "需要厂家检测", 7)
    assert svc.tick(session, datetime(2025, 3, 13, 15, 0, tzinfo=UTC))[
        "transfer_suggestions"] == 0
    counts = svc.tick(session, THURSDAY_NIGHT)
    assert counts["transfer_suggestions"] >= 2  # first responder + department manager
    assert _notes(session, world.manager, "complaint.transfer")
    assert svc.tick(session, THURSDAY_NIGHT + timedelta(hours=1))["transfer_suggestions"] == 0


# --- R-COMP-8: the cases closed in the month; the reminder on the 1st -------------------------


def test_R_COMP_8_statistics_count_the_cases_closed_in_the_month(session, world):
    with clock.frozen(datetime(2025, 2, 26, 2, 0, tzinfo=UTC)):
        february = _register(session, world)
        _walk_to(session, world, february, "replied")
    with clock.frozen(MONDAY):  # closed in March, registered in February
        svc.close(session, world.service, february.id, 5, responsibility={"department_id": world.d1.id, "cause": "non_quality"})
        march = _register(session, world, cause="quality")
    with clock.frozen(datetime(2025, 4, 2, 2, 0, tzinfo=UTC)):
        stats = svc.monthly_statistics(session, world.gm, 2025, 3)
        feb = svc.monthly_statistics(session, world.gm, 2025, 2)
    assert stats["total"] == 1 and stats["by_cause"] == {"quality": 1}  # registered
    assert stats["closed"] == 1 and stats["closed_by_type"] == {"complaint": 1}
    assert stats["closed_by_cause"] == {"service": 1}
    assert stats["avg_satisfaction"] == 5.0 and stats["on_time_rate"] == 0.0
    assert feb["total"] == 1 and feb["closed"] == 0
    assert march.status == "registered"


def test_R_COMP_8_service_lead_is_reminded_on_the_first(session, world):
    first = datetime(2025, 4, 1, 1, 0, tzinfo=UTC)  # 09:00 on 1 April in Shanghai
    assert svc.tick(session, first - timedelta(days=1))["statistics_reminders"] == 0
    assert svc.tick(session, first)["statistics_reminders"] >= 1
    notes = _notes(session, world.service, "complaint.statistics_due")
    assert len(notes) == 1 and notes[0].params["month"] == "2025-03"
    assert "10th" in notes[0].message
    assert svc.tick(session, first + timedelta(hours=2))["statistics_reminders"] == 0
