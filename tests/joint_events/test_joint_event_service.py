"""R-CUST-10 joint events (多事业部联合使用顾客资源): cut-offs in company time, duplicate refusal
at submission, late submission loses, the coordinator's ruling and escalation to the general
manager (待办), attendance and sales credited to the confirming department and person, and
scoping (a department never reads another's list)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import AuditEntry, JointAttendance, JointInvitation, JointRuling, Notification
from portal import clock
from portal.clock import COMPANY_TZ
from portal.services import joint_events as je
from portal.services import notifications
from portal.services.errors import (
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)

EVENT_DAY = date(2026, 12, 10)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in company time (China), December 2026."""
    return datetime(2026, 12, day, hour, minute, tzinfo=COMPANY_TZ)


def _denied(session) -> int:
    return session.scalar(select(func.count(AuditEntry.id))
                          .where(AuditEntry.outcome == "denied"))


def _event(session, world, session_kind="afternoon"):
    with clock.frozen(at(1, 9)):
        return je.create_event(session, world.gm, name="冬季联谊会", event_date=EVENT_DAY,
                               session_kind=session_kind, venue="总部三楼会议厅",
                               department_ids=[world.d1.id, world.d2.id],
                               coordinator_id=world.service.id)


# --- cut-offs (pure) ---------------------------------------------------------------------

@pytest.mark.parametrize(("moment", "expected"), [
    (at(5, 17, 59), date(2026, 12, 5)),
    (at(5, 18, 1), date(2026, 12, 6)),
    (at(9, 17, 59), date(2026, 12, 9)),
    (at(9, 18, 1), EVENT_DAY),
    (at(10, 9, 59), EVENT_DAY),
    (at(10, 10, 1), None),
    (at(1, 8), date(2026, 12, 3)),  # before the week: counts for its first day
])
def test_R_CUST_10_cutoff_edges_afternoon(moment, expected):
    assert je.list_day_for(moment, EVENT_DAY, "afternoon") == expected


@pytest.mark.parametrize(("moment", "expected"), [
    (at(10, 9, 59), EVENT_DAY), (at(10, 10, 1), EVENT_DAY),
    (at(10, 15, 59), EVENT_DAY), (at(10, 16, 1), None),
    (at(9, 18, 1), EVENT_DAY),
])
def test_R_CUST_10_cutoff_edges_evening(moment, expected):
    assert je.list_day_for(moment, EVENT_DAY, "evening") == expected


def test_R_CUST_10_cutoff_is_company_time_not_utc():
    # 17:59 in Shanghai is 09:59 UTC; 18:01 is 10:01 UTC
    utc_1759 = at(5, 17, 59).astimezone(clock.now().tzinfo)
    assert je.list_day_for(utc_1759, EVENT_DAY, "afternoon") == date(2026, 12, 5)
    assert je.cutoff(EVENT_DAY, "evening", EVENT_DAY).hour == 16
    assert len(je.list_days(EVENT_DAY)) == 8


# --- submission --------------------------------------------------------------------------

def test_R_CUST_10_duplicate_refused_names_department_not_person(session, world):
    event = _event(session, world)
    contested = world.customers["sales1"][0]  # an archive of 销售一部
    with clock.frozen(at(5, 17, 0)):
        first = je.submit_list(session, world.manager, event.id, [contested.id])
    assert [e.status for e in first.lines] == ["confirmed"]
    assert first.lines[0].confirmed_by_id == world.sales1.id  # the archive's owner confirmed
    with clock.frozen(at(5, 17, 30)):  # 销售二部 names the same customer, same list day
        second = je.submit_list(session, world.manager2, event.id,
                                [{"lookup": contested.name}])
    line = second.lines[0]
    assert line.status == "refused" and line.conflict_department_id == world.d1.id
    msg, params = je.conflict_message(world.manager2, line)
    assert params["department"] == "销售一部" and params["when"] == "2026-12-05 17:00"
    assert "person" not in params  # manager2 may not see the archive: department only
    _msg, params_gm = je.conflict_message(world.gm, line)
    assert params_gm["person"] == world.sales1.full_name  # the GM may see it
    # 待办 for the coordinator
    assert session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == world.service.id, Notification.kind == "joint_event.conflict")) == 1


def test_R_CUST_10_late_submission_loses(session, world):
    event = _event(session, world)
    contested = world.customers["sales1"][0]
    with clock.frozen(at(6, 17, 59)):
        je.submit_list(session, world.manager, event.id, [contested.id])
    with clock.frozen(at(6, 18, 1)):  # after the cut-off: counts for the 7th, loses
        late = je.submit_list(session, world.manager2, event.id, [{"lookup": contested.phone}])
    assert late.list_day == date(2026, 12, 7)
    assert late.lines[0].status == "lost"
    board = je.board(session, world.service, event.id)
    assert len(board.conflicts) == 1 and board.open_conflicts == []


def test_R_CUST_10_submit_refusals_change_nothing(session, world):
    event = _event(session, world)
    c = world.customers["sales1"][0]
    before = _denied(session)
    with clock.frozen(at(5, 12)), pytest.raises(PermissionDenied):
        je.submit_list(session, world.sales1, event.id, [c.id])  # not the department head
    with clock.frozen(at(5, 12)), pytest.raises(PermissionDenied):
        je.submit_list(session, world.auditor, 999999, [c.id])
    assert _denied(session) == before + 2
    with clock.frozen(at(10, 10, 1)), pytest.raises(RuleViolation):
        je.submit_list(session, world.manager, event.id, [c.id])  # closed
    with clock.frozen(at(5, 12)), pytest.raises(ValidationFailed):
        je.submit_list(session, world.manager2, event.id, [c.id])  # not in 销售二部's scope
    assert session.scalar(select(func.count(JointInvitation.id))) == 0


def test_R_CUST_10_department_cannot_read_another_list(session, world):
    event = _event(session, world)
    with clock.frozen(at(5, 12)):
        je.submit_list(session, world.manager, event.id, [world.customers["sales1"][0].id])
        je.submit_list(session, world.manager2, event.id, [world.customers["sales4"][0].id])
    d2_view = je.my_entries(session, world.manager2, event)
    assert {e.department_id for e in d2_view} == {world.d2.id}
    assert {e.department_id for e in je.my_entries(session, world.sales1, event)} == {world.d1.id}
    with pytest.raises(NotFound):  # the board is the coordinator's: answered as missing
        je.board(session, world.manager2, event.id)
    with pytest.raises(PermissionDenied):  # an auditor coordinates nothing
        je.board(session, world.auditor, event.id)
    assert {r.department.id for r in je.report(session, world.manager2, event.id)} == {world.d2.id}
    assert len(je.report(session, world.service, event.id)) == 2


# --- the coordinator's board --------------------------------------------------------------

def _conflict(session, world):
    event = _event(session, world)
    contested = world.customers["sales1"][0]
    with clock.frozen(at(5, 9)):
        je.submit_list(session, world.manager, event.id, [contested.id])
        je.submit_list(session, world.manager2, event.id, [{"lookup": contested.name}])
    return event, contested


def test_R_CUST_10_coordinator_rules_with_reason_final(session, world):
    event, contested = _conflict(session, world)
    board = je.board(session, world.service, event.id)
    assert [c.customer.id for c in board.open_conflicts] == [contested.id]
    with pytest.raises(ValidationFailed):  # a reason is required
        je.rule_conflict(session, world.service, event.id, contested.id, world.d2.id, " ")
    ruling = je.rule_conflict(session, world.service, event.id, contested.id, world.d2.id,
                              "客户本人要求由二部接待")
    assert ruling.status == "decided" and ruling.decided_by_id == world.service.id
    statuses = {e.department_id: e.status for e in je.board(session, world.service,
                                                              event.id).conflicts[0].entries}
    assert statuses == {world.d1.id: "ruled", world.d2.id: "confirmed"}
    assert session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "joint_event.rule", AuditEntry.outcome == "ok")) == 1
    before = _denied(session)
    with pytest.raises(RuleViolation):  # final
        je.rule_conflict(session, world.service, event.id, contested.id, world.d1.id, "改判")
    assert _denied(session) == before + 1
    assert session.get(JointRuling, ruling.id).winner_department_id == world.d2.id


def test_R_CUST_10_escalation_reaches_gm_todo_and_gm_decides(session, world):
    event, contested = _conflict(session, world)
    ruling = je.escalate_conflict(session, world.service, event.id, contested.id,
                                  "两部门都有拜访记录，无法判断")
    assert ruling.escalated_to_gm and ruling.status == "escalated"
    todo = session.scalars(select(Notification).where(
        Notification.kind == "joint_event.escalated")).all()
    assert [n.user_id for n in todo] == [world.gm.id]
    with pytest.raises(PermissionDenied):  # the coordinator no longer decides it
        je.rule_conflict(session, world.service, event.id, contested.id, world.d1.id, "一部")
    decided = je.rule_conflict(session, world.gm, event.id, contested.id, world.d1.id,
                               "一部先建档", expected_version=ruling.version)
    assert decided.status == "decided" and decided.decided_by_id == world.gm.id
    # decided: the escalation leaves the general manager's 待办
    session.expire_all()
    assert not [n for n in notifications.inbox(session, world.gm, unread_only=True)
                if n.kind == "joint_event.escalated"]
    assert all(n.read_at is not None for n in session.scalars(select(Notification).where(
        Notification.kind == "joint_event.escalated")))


def test_R_CUST_10_sales_credited_to_confirming_department_and_person(session, world):
    event, contested = _conflict(session, world)
    other = world.customers["sales4"][0]
    with clock.frozen(at(6, 9)):
        je.submit_list(session, world.manager2, event.id,
                       [{"customer_id": other.id, "confirmed_by_id": world.sales4.id}])
    row = je.record_attendance(session, world.service, event.id, contested.id, True, "12,800")
    assert (row.department_id, row.credited_user_id) == (world.d1.id, world.sales1.id)
    assert row.amount == Decimal("12800.00")
    je.record_attendance(session, world.service, event.id, other.id, True, "3000")
    report = {r.department.id: r for r in je.report(session, world.service, event.id)}
    assert (report[world.d1.id].invited, report[world.d1.id].attended,
            report[world.d1.id].sales) == (1, 1, Decimal("12800.00"))
    assert report[world.d2.id].sales == Decimal("3000.00")
    with pytest.raises(ValidationFailed):  # not on any confirmed list
        je.record_attendance(session, world.service, event.id,
                             world.customers["sales2"][0].id, True, "1")
    with pytest.raises(NotFound):  # a department head is not the event's coordinator
        je.record_attendance(session, world.manager2, event.id, other.id, True, "1")
    with pytest.raises(PermissionDenied):
        je.record_attendance(session, world.auditor, event.id, other.id, True, "1")
    assert session.scalar(select(func.count(JointAttendance.id))) == 2


def test_R_CUST_10_demo_event_has_two_departments_and_a_conflict(session, world):
    from portal.services.joint_events import demo

    assert demo.load_demo_event(session) == 1
    assert demo.load_demo_event(session) == 0  # once
    event = je.visible_events(session, world.gm)[0]
    assert len(event.departments) == 2
    board = je.board(session, world.gm, event.id)
    assert len(board.open_conflicts) == 1
