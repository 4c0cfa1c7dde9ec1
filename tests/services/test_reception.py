"""Reception rules R-RECV-1..3 through the services (portal/services/reception.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Customer, ReceptionRecord, RotationSlot
from portal import clock
from portal.services import customers, reception
from portal.services.errors import NotFound, PermissionDenied, ValidationFailed
from tests.factories import make_user

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DAY = date(2025, 3, 3)


def _walk_in(session, actor, name, **extra):
    data = {"kind": "visit", "visitor_name": name, **extra}
    return reception.register_reception(session, actor, data)


def _state(session):
    session.expire_all()
    return (session.execute(select(ReceptionRecord.id, ReceptionRecord.version)
                            .order_by(ReceptionRecord.id)).all(),
            session.execute(select(RotationSlot.user_id, RotationSlot.available,
                                   RotationSlot.turns_taken, RotationSlot.owed_turns)
                            .order_by(RotationSlot.id)).all(),
            session.scalar(select(func.count(Customer.id))))


@pytest.fixture
def third(world, session):
    """A third salesperson in branch 1, so the rotation has three places."""
    return make_user(session, "sales5", ["sales"], branch=world.b1)


# ---------------------------------------------------------------------------------------------
# R-RECV-1 rotation
# ---------------------------------------------------------------------------------------------


def test_R_RECV_1_walk_ins_go_round_the_rotation(world, session, third):
    with clock.frozen(T0):
        queue = [s.user_id for s in reception.rotation_queue(session, world.b1.id, DAY)]
        assert set(queue) == {world.sales1.id, world.sales2.id, third.id}
        got = [_walk_in(session, world.reception, f"散客{i}").assigned_to_id for i in range(6)]
    assert got == queue + queue
    records = session.scalars(select(ReceptionRecord)).all()
    assert all(r.used_rotation_turn and r.received_by_id == world.reception.id for r in records)


def test_R_RECV_1_named_salesperson_does_not_consume_a_turn(world, session, third):
    with clock.frozen(T0):
        queue = [s.user_id for s in reception.rotation_queue(session, world.b1.id, DAY)]
        named = _walk_in(session, world.reception, "指名客户", designated_staff_id=queue[0],
                         departed_at=T0)  # left already: not busy any more
        assert named.assigned_to_id == queue[0] and not named.used_rotation_turn
        first = _walk_in(session, world.reception, "散客")
    assert first.assigned_to_id == queue[0]  # the named visit did not use up their turn


def test_R_RECV_1_salesperson_who_was_out_gets_missed_turns_back(world, session, third):
    with clock.frozen(T0):
        queue = [s.user_id for s in reception.rotation_queue(session, world.b1.id, DAY)]
        away = queue[1]
        reception.set_availability(session, world.supervisor, world.b1.id, away, False,
                                   approved_go_out=True)  # 外出申请 approved (R-RECV-1)
        served = [_walk_in(session, world.reception, f"散客{i}").assigned_to_id
                  for i in range(4)]
        assert away not in served
        slot = session.scalar(select(RotationSlot).where(RotationSlot.user_id == away))
        assert slot.owed_turns == 2  # their turn came twice while they were out
        reception.set_availability(session, world.supervisor, world.b1.id, away, True)
        back = [_walk_in(session, world.reception, f"回来后{i}").assigned_to_id
                for i in range(3)]
    assert back[:2] == [away, away]
    session.refresh(slot)
    assert slot.owed_turns == 0


def test_R_RECV_1_salesperson_may_mark_self_out_but_not_others(world, session, third):
    with clock.frozen(T0):
        slot = reception.set_availability(session, world.sales1, world.b1.id, world.sales1.id,
                                          False)
        assert slot.available is False
        before = _state(session)
        mark = session.scalar(select(func.max(AuditEntry.seq)))
        with pytest.raises(PermissionDenied):
            reception.set_availability(session, world.sales1, world.b1.id, world.sales2.id,
                                       False)
        assert _state(session) == before
        assert session.scalars(select(AuditEntry.outcome).where(AuditEntry.seq > mark)
                               ).all() == ["denied"]
        with pytest.raises(ValidationFailed) as err:
            reception.set_availability(session, world.supervisor, world.b1.id,
                                       world.sales3.id, False)
        assert err.value.field == "user_id"


def test_R_RECV_1_nobody_available_leaves_the_visitor_with_the_desk(world, session):
    with clock.frozen(T0):
        for u in (world.sales1, world.sales2):
            reception.set_availability(session, world.reception, world.b1.id, u.id, False)
        rec = _walk_in(session, world.reception, "没人接待")
    assert rec.assigned_to_id is None and not rec.used_rotation_turn


def test_R_RECV_1_calls_do_not_use_the_rotation(world, session):
    with clock.frozen(T0):
        rec = reception.register_reception(session, world.reception,
                                           {"kind": "call", "visitor_name": "来电"})
    assert rec.assigned_to_id is None and rec.venue == "phone"


# ---------------------------------------------------------------------------------------------
# R-RECV-2 returning visitors
# ---------------------------------------------------------------------------------------------


def test_R_RECV_2_returning_visitor_linked_to_archive_and_owner(world, session, third):
    archive = world.customers["sales2"][0]
    with clock.frozen(T0):
        queue = [s.user_id for s in reception.rotation_queue(session, world.b1.id, DAY)]
        rec = _walk_in(session, world.reception, "回头客", visitor_phone=archive.phone)
        assert rec.is_returning and rec.customer_id == archive.id
        assert rec.assigned_to_id == world.sales2.id and not rec.used_rotation_turn
        nxt = _walk_in(session, world.reception, "新散客")
    assert nxt.assigned_to_id == queue[0]
    count = session.scalar(select(func.count(Customer.id)))
    with clock.frozen(T0 + timedelta(hours=1)):
        again = _walk_in(session, world.reception, "x", visitor_company=archive.name,
                         create_customer=True)
    assert again.customer_id == archive.id and again.is_returning
    assert session.scalar(select(func.count(Customer.id))) == count  # no second archive
    assert archive.owner_id == world.sales2.id  # the first registration keeps it
    assert archive.last_service_at == T0 + timedelta(hours=1)


def test_R_RECV_2_new_visitor_gets_a_prospect_owned_by_who_served_them(world, session):
    with clock.frozen(T0):
        rec = _walk_in(session, world.reception, "赵先生", visitor_phone="13122223333",
                       create_customer=True)
    c = session.get(Customer, rec.customer_id)
    assert not rec.is_returning and c.owner_id == rec.assigned_to_id is not None
    assert c.first_contact_at == T0 and c.source == "walk_in"
    assert customers.first_visit_at(session, c, rec.assigned_to_id) == T0


def test_R_RECV_2_unowned_archive_goes_to_who_serves_the_returning_visitor(world, session):
    # registered by the supervisor (who owns no customers); the front desk has no
    # customer page (R-ROLE-1)
    free = customers.create_customer(session, world.supervisor, {"name": "无主客户",
                                                                 "phone": "13344445555"})
    assert free.owner_id is None
    with clock.frozen(T0):
        rec = _walk_in(session, world.reception, "无主客户", visitor_phone="13344445555")
    assert rec.is_returning and free.owner_id == rec.assigned_to_id is not None
    assert free.owner_changes[-1].reason.startswith("R-RECV-2")


def test_register_reception_validates_and_scopes(world, session):
    before = _state(session)
    with pytest.raises(ValidationFailed) as err:
        reception.register_reception(session, world.reception, {"kind": "fax",
                                                                "visitor_name": "x"})
    assert err.value.field == "kind"
    with pytest.raises(ValidationFailed) as err:
        reception.register_reception(session, world.reception, {"kind": "visit"})
    assert err.value.field == "visitor_name"
    with clock.frozen(T0), pytest.raises(ValidationFailed) as err:
        reception.register_reception(session, world.reception, {
            "kind": "visit", "visitor_name": "x", "arrived_at": T0,
            "departed_at": T0 - timedelta(hours=1)})
    assert err.value.field == "departed_at"
    with pytest.raises(PermissionDenied):  # the desk of branch 1 does not register for b3
        reception.register_reception(session, world.reception, {
            "kind": "visit", "visitor_name": "x", "branch_id": world.b3.id})
    with pytest.raises(PermissionDenied):
        reception.register_reception(session, world.finance, {"kind": "visit",
                                                              "visitor_name": "x"})
    with pytest.raises(NotFound):  # linking an archive the desk of a salesperson cannot see
        reception.register_reception(session, world.sales1, {
            "kind": "visit", "visitor_name": "x",
            "customer_id": world.customers["sales2"][0].id})
    assert _state(session) == before


def test_update_reception_completes_the_record(world, session):
    with clock.frozen(T0):
        rec = _walk_in(session, world.reception, "钱女士")
    with clock.frozen(T0 + timedelta(hours=1)):
        reception.update_reception(session, world.reception, rec.id,
                                   {"outcome": "deal", "departed_at": T0 + timedelta(hours=1)},
                                   expected_version=rec.version)
    assert rec.outcome == "deal" and rec.departed_at == T0 + timedelta(hours=1)
    with pytest.raises(ValidationFailed) as err:
        reception.update_reception(session, world.reception, rec.id,
                                   {"assigned_to_id": world.sales1.id})
    assert err.value.field == "assigned_to_id"
    with pytest.raises(NotFound):
        reception.update_reception(session, world.sales4, rec.id, {"outcome": "other"})


# ---------------------------------------------------------------------------------------------
# R-RECV-3 statistics
# ---------------------------------------------------------------------------------------------


def test_R_RECV_3_statistics_by_period_class_staff_branch_outcome(world, session):
    archive = world.customers["sales1"][0]
    with clock.frozen(T0):
        a = _walk_in(session, world.reception, "甲", visitor_class="a")
        _walk_in(session, world.reception, "乙", create_customer=True)
        reception.register_reception(session, world.reception, {"kind": "call",
                                                                "visitor_name": "丙"})
        _walk_in(session, world.reception, "回头", visitor_phone=archive.phone)
    with clock.frozen(T0 + timedelta(days=8)):
        b = _walk_in(session, world.reception, "丁", visitor_phone="13900008888",
                     create_customer=True)
        reception.update_reception(session, world.reception, a.id, {"outcome": "deal"})
        customers.record_deal(session, world.gm, b.customer_id)

    daily = reception.statistics(session, world.supervisor, "day", DAY,
                                 DAY + timedelta(days=9))
    assert daily.total.visits == 3 and daily.total.calls == 1 and daily.total.returning == 1
    assert daily.total.deals == 2 and daily.total.conversion == pytest.approx(0.5)
    assert daily.by_bucket[DAY].visits == 2 and daily.by_bucket[DAY].returning == 1
    assert daily.by_bucket[DAY + timedelta(days=1)].receptions == 0
    assert daily.by_bucket[DAY + timedelta(days=8)].deals == 1
    assert daily.by_class["a"].visits == 1 and daily.by_class["a"].deals == 1
    assert daily.by_outcome["deal"].visits == 1
    assert daily.by_branch[world.b1.id].receptions == 4
    assert daily.by_staff[world.sales1.id].returning == 1

    weekly = reception.statistics(session, world.supervisor, "week", DAY,
                                  DAY + timedelta(days=9))
    assert [(k, v.receptions) for k, v in weekly.by_bucket.items()] == [
        (DAY, 3), (DAY + timedelta(days=7), 1)]
    monthly = reception.statistics(session, world.gm, "month", DAY, DAY + timedelta(days=9))
    assert list(monthly.by_bucket) == [DAY]  # the first bucket starts at the chosen start
    assert monthly.as_dict()["total"]["receptions"] == 4


def test_R_RECV_3_statistics_follow_the_policy_scope(world, session):
    with clock.frozen(T0):
        reception.register_reception(session, world.reception,
                                     {"kind": "visit", "visitor_name": "甲",
                                      "designated_staff_id": world.sales1.id})
        reception.register_reception(session, world.reception,
                                     {"kind": "visit", "visitor_name": "乙",
                                      "designated_staff_id": world.sales2.id})
    own = reception.statistics(session, world.sales1, "day", DAY, DAY)
    assert own.total.visits == 1 and set(own.by_staff) == {world.sales1.id}
    other_branch = reception.statistics(session, world.sales4, "day", DAY, DAY)
    assert other_branch.total.visits == 0
    with pytest.raises(PermissionDenied):
        reception.statistics(session, world.sysadmin, "day", DAY, DAY)
    with pytest.raises(ValidationFailed) as err:
        reception.statistics(session, world.gm, "year", DAY, DAY)
    assert err.value.field == "period"


def test_R_RECV_3_company_report_readers_count_everything_but_see_no_records(world, session):
    from portal import policy

    with clock.frozen(T0):
        _walk_in(session, world.reception, "甲")
    stats = reception.statistics(session, world.finance, "day", DAY, DAY)
    assert stats.total.visits == 1
    assert session.scalars(policy.scope(select(ReceptionRecord), world.finance,
                                        ReceptionRecord)).all() == []
    desk = reception.statistics(session, world.reception, "day", DAY, DAY)
    assert desk.total.visits == 1
