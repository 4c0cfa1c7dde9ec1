"""``myNotifications`` and ``markRead``: the front-end apps' inbox, over the same service as the
portal's bell (portal/services/notifications.py)."""

from __future__ import annotations

from portal.services import notifications as svc
from portal.services.errors import N_

MSG = N_("Credit line #%(line)s of %(customer)s is waiting for your review.")
Q = """query($unread: Boolean!, $after: String) {
  myNotifications(first: 2, unread: $unread, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { id kind message read targetId createdAt }
  }
}"""


def _seed(session, world):
    mine = world.customers["sales1"][0]
    other = world.customers["sales3"][0]
    for target in (mine, mine, other):
        svc.notify(session, user_ids=[world.sales1.id, world.sales2.id], kind="credit.x",
                   message=MSG, params={"line": 1, "customer": target.name}, target=target)
    session.commit()
    return mine, other


def test_my_notifications_is_my_inbox_in_my_language_with_links_i_may_open(
        session, world, api):
    mine, other = _seed(session, world)
    world.sales1.language = "en"
    session.commit()
    call = api(world.sales1)
    data = call(Q, {"unread": True})["data"]["myNotifications"]
    assert data["totalCount"] == 3 and data["pageInfo"]["hasNextPage"]
    first_page = data["nodes"]
    nxt = call(Q, {"unread": True, "after": data["pageInfo"]["endCursor"]})
    nodes = first_page + nxt["data"]["myNotifications"]["nodes"]
    assert len({n["id"] for n in nodes}) == 3
    assert all(n["message"].startswith("Credit line #1 of ") for n in nodes)
    targets = [n["targetId"] for n in nodes]
    assert targets.count(f"Customer:{mine.id}") == 2 and targets.count(None) == 1
    # another user's notifications are not reachable through node(id) either
    theirs = svc.inbox(session, world.sales2)[0]
    got = call('query($id: ID!) { node(id: $id) { id } }', {"id": f"Notification:{theirs.id}"})
    assert got["data"]["node"] is None


def test_messages_are_chinese_for_a_chinese_reader(session, world, api):
    _seed(session, world)
    world.sales1.language = "zh_Hans_CN"
    session.commit()
    nodes = api(world.sales1)(Q, {"unread": False})["data"]["myNotifications"]["nodes"]
    assert "等待您审核" in nodes[0]["message"]


def test_mark_read_counts_down_and_ignores_other_peoples_ids(session, world, api):
    _seed(session, world)
    call = api(world.sales1)
    ids = [n["id"] for n in call(Q, {"unread": True})["data"]["myNotifications"]["nodes"]]
    theirs = svc.inbox(session, world.sales2)[0]
    m = """mutation($ids: [ID!], $all: Boolean!) { markRead(ids: $ids, all: $all) {
             ok marked unreadCount errors { code message } } }"""
    got = call(m, {"ids": [ids[0], f"Notification:{theirs.id}"], "all": False})["data"]
    assert got["markRead"] == {"ok": True, "marked": 1, "unreadCount": 2, "errors": []}
    got = call(m, {"ids": None, "all": True})["data"]["markRead"]
    assert got["marked"] == 2 and got["unreadCount"] == 0
    assert svc.unread_count(session, world.sales2) == 3
