"""The work-first home page (issue 14): each person sees what waits on them today, each row one
click from its action; and the scheduled 待办 for follow-ups due today and ownerships ending
within 7 days (portal/services/worklist.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from models import Notification
from portal import clock
from portal.services import worklist
from tests.factories import make_customer

# 10:00 in Shanghai on a Wednesday
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def _section(html: str, key: str) -> str:
    m = re.search(rf'data-section="{key}".*?(?=data-section=|$)', html, re.S)
    assert m, f"no section {key}"
    return m.group(0)


def _prospects(session, world):
    """sales1: one follow-up due later today, one 2 days overdue (void), one ownership ending
    in 5 days, one fine."""
    s1 = world.sales1
    due_today = make_customer(session, s1, name="今天要回访", status="prospect",
                              registered_at=NOW - timedelta(days=3) + timedelta(hours=5))
    overdue = make_customer(session, s1, name="逾期客户", status="prospect",
                            registered_at=NOW - timedelta(days=5, hours=1))
    expiring = make_customer(session, s1, name="快到期客户", status="active",
                             deal_at=None, registered_at=NOW - timedelta(hours=1),
                             ownership_expires_at=NOW + timedelta(days=5))
    fine = make_customer(session, s1, name="刚登记", status="prospect", registered_at=NOW)
    session.commit()
    return due_today, overdue, expiring, fine


def test_salesperson_sees_due_and_overdue_follow_ups_with_days_overdue(session, world, login):
    due_today, overdue, expiring, fine = _prospects(session, world)
    with clock.frozen(NOW):
        rows = worklist.my_follow_ups(session, world.sales1, NOW)
        states = {r.record.id: (r.state, r.days_overdue) for r in rows}
        assert states[overdue.id] == ("overdue", 2)
        assert states[due_today.id] == ("due_today", 0)
        assert fine.id not in states and expiring.id not in states
        html = login(world.sales1).get("/admin/").get_data(as_text=True)
    follow = _section(html, "follow_ups")
    assert "逾期客户" in follow and "逾期 2 天" in follow and "今天要回访" in follow
    assert "刚登记" not in follow
    assert f"/admin/customer/follow-up/?ids={overdue.id}" in follow
    assert "快到期客户" in _section(html, "expiring")
    assert "请从上方菜单选择" not in html


def test_tick_tells_owners_once_per_day(session, world):
    due_today, _overdue, expiring, _fine = _prospects(session, world)
    with clock.frozen(NOW):
        first = worklist.tick(session, NOW)
        again = worklist.tick(session, NOW)
    assert first == {"follow_up_due": 1, "ownership_expiring": 1}
    assert again == {"follow_up_due": 0, "ownership_expiring": 0}
    kinds = dict(session.execute(select(Notification.kind, func.count()).where(
        Notification.user_id == world.sales1.id).group_by(Notification.kind)).all())
    assert kinds == {"customer.follow_up_due": 1, "customer.ownership_expiring": 1}


def test_reception_sees_who_is_next_and_who_is_out(session, world, login):
    from portal.services import reception

    with clock.frozen(NOW):
        queue = reception.rotation_queue(session, world.b1.id)
        first = queue[0].user
        reception.set_availability(session, world.supervisor, world.b1.id, first.id, False)
        html = login(world.reception).get("/admin/").get_data(as_text=True)
    rot = _section(html, "rotation")
    other = world.sales2 if first.id == world.sales1.id else world.sales1
    assert f"下一位接待：{other.full_name}" in rot
    assert "外出" in rot and first.full_name in rot
    assert "walk_ins" in html


def test_every_role_gets_work_lists_not_a_menu_hint(session, world, clients):
    for role in world.roles:
        resp = clients[role].get("/admin/")
        assert resp.status_code == 200, role
        html = resp.get_data(as_text=True)
        assert "请从上方菜单选择" not in html, role
        assert "data-section=" in html, role


def test_home_in_english_for_an_english_reader(session, world, login):
    import re as _re

    _prospects(session, world)
    c = login(world.sales1)
    c.get("/lang/en")
    with clock.frozen(NOW):
        html = c.get("/admin/").get_data(as_text=True)
    follow = _section(html, "follow_ups")
    assert "My follow-ups (due today and overdue)" in follow and "2 days overdue" in follow
    assert "Record follow-up" in follow or "Follow-up due" in follow
    # outside the data (customer names), no Chinese in the work lists' own words
    words = _re.sub(r"<a [^>]*>[^<]*</a>", "", follow)
    assert not _re.search(r"[\u4e00-\u9fff]", _re.sub(r"<[^>]+>", " ", words)), words
