"""Issue 16, reception as the company's reception rules (接待管理) write them: only an approved,
registered go-out earns the missed turns back; a salesperson busy with a visitor is skipped
automatically (R-RECV-1); a returning visitor whose owner is not there is assisted by a
colleague without using a turn, and the archive stays with its owner (R-RECV-2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Customer, RotationSlot
from portal import clock
from portal.services import reception
from portal.services.errors import PermissionDenied
from tests.services.test_reception import DAY, T0, _walk_in, third  # noqa: F401


def _slot(session, user_id: int) -> RotationSlot:
    return session.scalar(select(RotationSlot).where(RotationSlot.user_id == user_id))


def test_R_RECV_1_only_an_approved_go_out_earns_make_up_turns(world, session, third):  # noqa: F811
    with clock.frozen(T0):
        queue = [s.user_id for s in reception.rotation_queue(session, world.b1.id, DAY)]
        approved, unapproved = queue[0], queue[1]
        reception.set_availability(session, world.supervisor, world.b1.id, approved, False,
                                   approved_go_out=True)
        me = session.get(type(world.sales1), unapproved)
        reception.set_availability(session, me, world.b1.id, unapproved, False)  # self, no approval
        for i in range(4):
            _walk_in(session, world.reception, f"散客{i}", departed_at=T0)
        assert _slot(session, approved).owed_turns >= 1
        assert _slot(session, unapproved).owed_turns == 0
        assert _slot(session, approved).approved_go_out
        reception.set_availability(session, world.supervisor, world.b1.id, approved, True)
        reception.set_availability(session, world.supervisor, world.b1.id, unapproved, True)
        back = _walk_in(session, world.reception, "回来后", departed_at=T0)
    assert back.assigned_to_id == approved  # the make-up turn comes first


def test_R_RECV_1_go_out_approval_needs_the_supervisor_and_not_oneself(world, session, third):  # noqa: F811
    with clock.frozen(T0):
        reception.rotation_queue(session, world.b1.id, DAY)
        with pytest.raises(PermissionDenied):
            reception.set_availability(session, world.sales1, world.b1.id, world.sales1.id,
                                       False, approved_go_out=True)
        with pytest.raises(PermissionDenied):  # the desk registers absences, not approvals
            reception.set_availability(session, world.reception, world.b1.id,
                                       world.sales2.id, False, approved_go_out=True)
    session.expire_all()
    for uid in (world.sales1.id, world.sales2.id):  # nothing changed (refusals roll back)
        slot = _slot(session, uid)
        assert slot is None or (slot.available and not slot.approved_go_out)


def test_R_RECV_1_busy_with_a_visitor_is_skipped_automatically(world, session, third):  # noqa: F811
    with clock.frozen(T0):
        queue = [s.user_id for s in reception.rotation_queue(session, world.b1.id, DAY)]
        first = _walk_in(session, world.reception, "还在谈")  # no departure: busy
        assert first.assigned_to_id == queue[0]
        # queue[0] is busy: shown after those who are free
        assert [s.user_id for s in reception.rotation_queue(session, world.b1.id, DAY)
                ][:2] == [queue[1], queue[2]]
        second = _walk_in(session, world.reception, "第二位", departed_at=T0)
        assert second.assigned_to_id == queue[1]
        reception.update_reception(session, world.reception, first.id,
                                   {"departed_at": T0 + timedelta(minutes=1)})
    with clock.frozen(T0 + timedelta(minutes=2)):
        third_visit = _walk_in(session, world.reception, "第三位", departed_at=T0 + timedelta(minutes=2))
    assert third_visit.assigned_to_id == queue[2]


def test_R_RECV_2_owner_away_a_colleague_assists_without_a_turn(world, session, third):  # noqa: F811
    customer = world.customers["sales1"][0]
    with clock.frozen(T0):
        reception.rotation_queue(session, world.b1.id, DAY)
        reception.set_availability(session, world.supervisor, world.b1.id, world.sales1.id,
                                   False)
        before = {s.user_id: s.turns_taken for s in
                  session.scalars(select(RotationSlot))}
        rec = _walk_in(session, world.reception, customer.name, customer_id=customer.id,
                       departed_at=T0)
    assert rec.is_returning and not rec.used_rotation_turn
    assert rec.assigned_to_id not in (None, world.sales1.id)
    session.expire_all()
    assert session.get(Customer, customer.id).owner_id == world.sales1.id
    assert {s.user_id: s.turns_taken for s in session.scalars(select(RotationSlot))} == before
