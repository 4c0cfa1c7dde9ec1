"""Complaint responsibility and penalty notices (R-COMP-11), with a frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from models import AuditEntry, Complaint, Notification, PenaltyLine, PenaltyNotice, Setting
from portal import clock, settings
from portal.services import complaints as svc
from portal.services import penalties
from portal.services.errors import PermissionDenied, RuleViolation, ValidationFailed
from tests.services.test_complaints import MONDAY, _register, _walk_to

# registered Monday 10:00 (company time): the 3 working days end Thursday 23:59:59 = 15:59:59 UTC
THURSDAY_END = datetime(2025, 3, 13, 15, 59, 59, tzinfo=UTC)


def _replied(session, world, **over) -> Complaint:
    with clock.frozen(MONDAY):
        c = _register(session, world, **over)
        return _walk_to(session, world, c, "replied", approver=world.gm)


def _fault(world, person=True, cause="quality"):
    data = {"department_id": world.d1.id, "cause": cause, "team": "东区交付组"}
    if person:
        data["user_id"] = world.sales1.id
    return data


def _close(session, world, c, at, **fault):
    with clock.frozen(at):
        return svc.close(session, world.service, c.id, 4, responsibility=fault or None)


def _notice(session, c) -> PenaltyNotice | None:
    return session.scalar(select(PenaltyNotice).where(PenaltyNotice.complaint_id == c.id))


def _lines(session, notice) -> list[tuple[int, str, Decimal]]:
    return [(x.user_id, x.ground, x.amount) for x in session.scalars(
        select(PenaltyLine).where(PenaltyLine.notice_id == notice.id).order_by(PenaltyLine.id))]


def _set(session, key, value):
    session.execute(update(Setting).where(Setting.key == key).values(value=value))
    session.commit()
    settings.forget(session)


def test_R_COMP_11_responsibility_required_on_close(session, world):
    c = _replied(session, world)
    with clock.frozen(MONDAY + timedelta(hours=5)), pytest.raises(ValidationFailed) as err:
        svc.close(session, world.service, c.id, 4)
    assert err.value.field == "fault_department_id"
    with clock.frozen(MONDAY + timedelta(hours=5)), pytest.raises(ValidationFailed) as err:
        svc.close(session, world.service, c.id, 4,
                  responsibility={"department_id": world.d1.id})
    assert err.value.field == "fault_cause"
    session.refresh(c)
    assert c.status == "replied" and c.fault_department_id is None
    _close(session, world, c, MONDAY + timedelta(hours=5), **_fault(world))
    session.refresh(c)
    assert (c.status, c.fault_department_id, c.fault_user_id, c.fault_team, c.fault_cause) == (
        "closed", world.d1.id, world.sales1.id, "东区交付组", "quality")


def test_R_COMP_11_unfounded_records_no_responsibility(session, world):
    with clock.frozen(MONDAY):
        c = _register(session, world)
        svc.reject(session, world.service, c.id, "经核实客户所述不实")
    session.refresh(c)
    assert c.status == "rejected" and c.fault_department_id is None and c.fault_user_id is None
    assert _notice(session, c) is None


def test_R_COMP_11_substantiated_complaint_drafts_100_to_the_staff_member(session, world):
    c = _replied(session, world)
    _close(session, world, c, THURSDAY_END, **_fault(world))
    notice = _notice(session, c)
    assert notice.status == "draft" and notice.total_amount == Decimal("100.00")
    assert _lines(session, notice) == [(world.sales1.id, "substantiated", Decimal("100.00"))]
    # waiting in the general manager's 待办
    assert session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == world.gm.id,
        Notification.kind == "complaint.penalty_draft")) == 1


def test_R_COMP_11_penalty_drafting_at_the_3_day_edge(session, world):
    on_time = _replied(session, world)
    _close(session, world, on_time, THURSDAY_END, **_fault(world))
    assert [g for _, g, _ in _lines(session, _notice(session, on_time))] == ["substantiated"]
    late = _replied(session, world)
    _close(session, world, late, THURSDAY_END + timedelta(seconds=1), **_fault(world))
    notice = _notice(session, late)
    assert _lines(session, notice) == [
        (world.sales1.id, "substantiated", Decimal("100.00")),
        (world.sales1.id, "late_staff", Decimal("500.00")),
        (world.manager.id, "late_manager", Decimal("500.00"))]
    assert notice.total_amount == Decimal("1100.00")


def test_R_COMP_11_without_a_person_only_the_manager_when_late(session, world):
    c = _replied(session, world)
    _close(session, world, c, THURSDAY_END, **_fault(world, person=False))
    assert _notice(session, c) is None
    late = _replied(session, world)
    _close(session, world, late, THURSDAY_END + timedelta(days=1), **_fault(world, person=False))
    assert _lines(session, _notice(session, late)) == [
        (world.manager.id, "late_manager", Decimal("500.00"))]


def test_R_COMP_11_confirm_and_the_monthly_hr_list(session, world):
    c = _replied(session, world)
    _close(session, world, c, THURSDAY_END, **_fault(world))
    notice = _notice(session, c)
    with clock.frozen(THURSDAY_END + timedelta(hours=1)):
        with pytest.raises(PermissionDenied):
            penalties.confirm_penalty(session, world.manager, notice.id)
        penalties.confirm_penalty(session, world.gm, notice.id)
        with pytest.raises(RuleViolation):
            penalties.waive_penalty(session, world.gm, notice.id, "重复处理")
        rows = penalties.hr_list(session, world.gm, "2025-03")
    assert [(r["person"], r["ground"], r["amount"], r["complaint_number"]) for r in rows] == [
        (world.sales1.full_name, "substantiated", Decimal("100.00"), c.number)]
    with clock.frozen(THURSDAY_END):
        assert penalties.hr_list(session, world.gm, "2025-04") == []
        with pytest.raises(PermissionDenied):
            penalties.hr_list(session, world.sales1, "2025-03")


def test_R_COMP_11_waiver_needs_a_reason_and_stays_off_the_hr_list(session, world):
    c = _replied(session, world)
    _close(session, world, c, THURSDAY_END, **_fault(world))
    notice = _notice(session, c)
    with clock.frozen(THURSDAY_END + timedelta(hours=1)):
        with pytest.raises(ValidationFailed):
            penalties.waive_penalty(session, world.gm, notice.id, "  ")
        penalties.waive_penalty(session, world.gm, notice.id, "客户误解，已当面澄清")
        assert penalties.hr_list(session, world.gm, "2025-03") == []
    session.refresh(notice)
    assert (notice.status, notice.waiver_reason, notice.decided_by_id) == (
        "waived", "客户误解，已当面澄清", world.gm.id)
    assert session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "complaint.confirm_penalty",
        AuditEntry.outcome == "denied")) == 0


def test_R_COMP_11_switch_off(session, world):
    _set(session, "complaint.penalties_enabled", "false")
    c = _replied(session, world)
    _close(session, world, c, THURSDAY_END + timedelta(days=2), **_fault(world))
    session.refresh(c)
    assert c.fault_department_id == world.d1.id  # responsibility is still recorded
    assert _notice(session, c) is None


def test_R_COMP_8_statistics_add_responsibility_and_penalty_totals(session, world):
    a = _replied(session, world)
    _close(session, world, a, THURSDAY_END, **_fault(world))
    b = _replied(session, world)
    _close(session, world, b, THURSDAY_END + timedelta(days=1), **_fault(world, cause="non_quality"))
    with clock.frozen(THURSDAY_END + timedelta(days=1, hours=1)):
        penalties.confirm_penalty(session, world.gm, _notice(session, b).id)
        stats = svc.monthly_statistics(session, world.gm, 2025, 3)
    assert stats["fault_by_department"] == {world.d1.name: 2}
    assert stats["fault_by_cause"] == {"quality": 1, "non_quality": 1}
    assert stats["penalty_totals"]["confirmed"] == Decimal("1100.00")
    assert stats["penalty_totals"]["draft"] == Decimal("100.00")
    assert stats["penalty_counts"] == {"draft": 1, "confirmed": 1, "waived": 0}
