"""Issue 16, complaints through both doors: re-grade major (R-COMP-3), hand the customer to
another department (R-COMP-7), the cases closed in the month in the statistics (R-COMP-8)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Complaint, Customer, OwnerChange
from portal import clock
from portal.services import complaints as svc
from tests.doors.conftest import audit_mark, audit_since, gid
from tests.doors.test_complaint_doors import _mutate, _registered, _step


def _old_complaint(session, world) -> Complaint:
    """Registered two weeks ago and never resolved."""
    with clock.frozen(clock.now() - timedelta(days=14)):
        return _registered(session, world)


def test_R_COMP_3_regrade_major_through_portal(session, world, login):
    c = _registered(session, world)
    mark = audit_mark(session)
    _step(session, login(world.manager), c, "regrade_major", reason="客户向厂家投诉")
    session.expire_all()
    c = session.get(Complaint, c.id)
    assert c.severity == "major" and c.major_reason == "客户向厂家投诉"
    assert c.escalated_at is not None
    assert ("complaint.regrade", "ok") in audit_since(session, mark)


def test_R_COMP_3_regrade_major_through_graphql(session, world, api):
    c = _registered(session, world)
    _mutate(api(world.service), c, "regradeComplaintMajor", ", reason: $reason",
            reason=("String!", "三名以上客户集体投诉"))
    session.expire_all()
    c = session.get(Complaint, c.id)
    assert c.severity == "major" and "集体" in c.major_reason


def _owner_change(session, customer_id: int) -> OwnerChange:
    session.expire_all()
    return session.scalars(select(OwnerChange).where(OwnerChange.customer_id == customer_id)
                           .order_by(OwnerChange.id.desc())).first()


def test_R_COMP_7_hand_over_through_portal(session, world, login):
    c = _old_complaint(session, world)
    client = login(world.manager)
    form = client.get(f"/admin/complaint/workflow/?id={c.id}&op=hand_to_other_department")
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and world.sales4.full_name in page  # picked by name
    _step(session, client, c, "hand_to_other_department", new_owner_id=str(world.sales4.id),
          reason="三个工作日未处理好")
    customer = session.get(Customer, c.customer_id)
    assert customer.owner_id == world.sales4.id
    assert "R-COMP-7" in _owner_change(session, customer.id).reason


def test_R_COMP_7_hand_over_through_graphql(session, world, api):
    c = _old_complaint(session, world)
    _mutate(api(world.gm), c, "handComplaintCustomerToOtherDepartment",
            ", newOwnerId: $owner, reason: $reason",
            owner=("ID!", gid("User", world.sales4.id)), reason=("String!", "久拖不决"))
    customer = session.get(Customer, c.customer_id)
    session.refresh(customer)
    assert customer.owner_id == world.sales4.id
    assert _owner_change(session, customer.id).changed_by_id == world.gm.id


def test_R_COMP_7_hand_over_refused_through_graphql_before_3_working_days(session, world, api):
    c = _registered(session, world)
    out = api(world.gm)("""mutation($id: ID!, $owner: ID!, $v: Int!) {
      handComplaintCustomerToOtherDepartment(complaintId: $id, newOwnerId: $owner,
                                             reason: "x", expectedVersion: $v) {
        ok errors { rule } } }""",
                        {"id": gid("Complaint", c.id), "owner": gid("User", world.sales4.id),
                         "v": c.version})
    payload = out["data"]["handComplaintCustomerToOtherDepartment"]
    assert not payload["ok"] and payload["errors"][0]["rule"] == "R-COMP-7"
    session.expire_all()
    assert session.get(Customer, c.customer_id).owner_id == world.sales1.id


def test_R_COMP_8_graphql_statistics_count_the_cases_closed_in_the_month(session, world, api):
    now = clock.now()
    c = _registered(session, world)
    svc.assign(session, world.service, c.id, world.service.id)
    svc.start_investigation(session, world.service, c.id)
    svc.propose_resolution(session, world.service, c.id, "道歉", 0)
    svc.approve(session, world.manager, c.id)
    svc.reply(session, world.service, c.id)
    svc.close(session, world.service, c.id, 4, responsibility={"department_id": world.d1.id, "cause": "non_quality"})
    local = clock.now().astimezone(clock.COMPANY_TZ)
    out = api(world.gm)("""query($y: Int, $m: Int) { complaintStatistics(year: $y, month: $m) {
        total closed closedByType { key count } } }""", {"y": local.year, "m": local.month})
    assert not out.get("errors"), out
    stats = out["data"]["complaintStatistics"]
    assert stats["closed"] >= 1 and now is not None
    assert {"key": "COMPLAINT", "count": 1} in stats["closedByType"] or \
        {"key": "complaint", "count": 1} in stats["closedByType"]
