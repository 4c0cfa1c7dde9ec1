"""Issue 16, R-CUST-5 as the archive policy writes it: a customer with no follow-up, no visit, or
whom an invitation did not bring (邀不来) for the lapse period is not served, and the company may
hand the archive to OTHER departments or staff — a recorded change of owner, picked by name,
audited and notified; through both doors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from models import AuditEntry, Customer, Notification, OwnerChange
from portal import clock
from portal.services import customers
from portal.services.errors import PermissionDenied
from tests.doors.conftest import gid, gql_ok, submit_form

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
LATER = T0 + timedelta(days=100)  # the lapse period is 90 days

REASSIGN = """mutation($c: ID!, $u: ID!, $r: String!, $v: Int!) { reassignOwner(customerId: $c,
  newOwnerId: $u, reason: $r, expectedVersion: $v) { ok errors { message } result { id } } }"""


def _served_customer(session, world, kind: str) -> Customer:
    """A customer of sales1 with a deal on T0 and one follow-up of ``kind`` a month later."""
    phone = f"139000{len(kind):02d}777"
    with clock.frozen(T0):
        c = customers.create_customer(session, world.sales1,
                                      {"name": f"钱先生{kind}", "phone": phone})
        customers.record_deal(session, world.sales1, c.id)
    with clock.frozen(T0 + timedelta(days=30)):
        customers.record_follow_up(session, world.sales1, c.id, kind)
    return c


def test_R_CUST_5_an_invitation_the_customer_does_not_attend_is_not_service(world, session):
    missed = _served_customer(session, world, "invite_missed")
    attended = _served_customer(session, world, "invitation")
    session.expire_all()
    with clock.frozen(LATER):
        assert customers.service_lapsed(session.get(Customer, missed.id))  # 邀不来: a lapse
        assert not customers.service_lapsed(session.get(Customer, attended.id))
        lapsed_ids = set(session.scalars(select(Customer.id).where(
            customers.service_lapsed_sql(session))))
    assert missed.id in lapsed_ids and attended.id not in lapsed_ids  # the SQL twin agrees


def test_R_CUST_5_the_department_hands_a_lapsed_archive_to_another_department(
        world, session, login):
    c = _served_customer(session, world, "invite_missed")
    with clock.frozen(LATER):
        page = login(world.manager).get(f"/admin/customer/reassign/?ids={c.id}")
        body = page.get_data(as_text=True)
        assert page.status_code == 200 and world.sales4.full_name in body  # picked by name
        submit_form(login(world.manager), f"/admin/customer/reassign/?ids={c.id}",
                    {"new_owner": world.sales4.id, "reason": "三个月邀不来，转销售二部"})
    session.expire_all()
    fresh = session.get(Customer, c.id)
    assert fresh.owner_id == world.sales4.id and fresh.department_id == world.d2.id
    change = session.scalars(select(OwnerChange).where(OwnerChange.customer_id == c.id)
                             .order_by(OwnerChange.id.desc())).first()
    assert change.from_user_id == world.sales1.id and "R-CUST-5" in change.reason
    assert session.scalar(select(AuditEntry).where(
        AuditEntry.action == "customer.reassign", AuditEntry.target_id == str(c.id)))
    told = set(session.scalars(select(Notification.user_id).where(
        Notification.kind == "customer.lapse_handed_over",
        Notification.target_id == str(c.id))))
    assert {world.sales1.id, world.sales4.id, world.manager2.id} <= told


def test_R_CUST_5_graphql_door_and_only_for_a_lapsed_archive(world, session, api):
    served = _served_customer(session, world, "invitation")
    lapsed = _served_customer(session, world, "invite_missed")
    with clock.frozen(LATER):
        # a served archive stays in the department: another department's staff is refused
        with pytest.raises(PermissionDenied):
            customers.reassign_owner(session, world.manager, served.id, world.sales4.id, "转部门")
        picks = customers.reassign_candidates(session, world.manager,
                                              [session.get(Customer, served.id)])
        assert world.sales4.id not in {u.id for u in picks}
        gql_ok(api(world.manager), REASSIGN,
               {"c": gid("Customer", lapsed.id), "u": gid("User", world.sales4.id),
                "r": "服务不到位，转其他部门",
                "v": session.get(Customer, lapsed.id).version}, "reassignOwner")
    session.expire_all()
    assert session.get(Customer, lapsed.id).owner_id == world.sales4.id
    assert session.get(Customer, served.id).owner_id == world.sales1.id
