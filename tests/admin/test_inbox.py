"""The portal's 待办: the bell with the unread count on every page, the inbox page (unread / all,
mark read), one click to the record — and no link to a record the reader cannot open."""

from __future__ import annotations

import re

from portal.services import notifications as svc
from portal.services.errors import N_

MSG = N_("Credit line #%(line)s of %(customer)s is waiting for your review.")


def _bell(html: str) -> int:
    m = re.search(r'id="inbox-count" data-unread="(\d+)"', html)
    assert m, "no bell on the page"
    return int(m.group(1))


def _seed(session, world):
    mine = world.customers["sales1"][0]
    other = world.customers["sales3"][0]
    for target in (mine, other):
        svc.notify(session, user_ids=[world.sales1.id], kind="credit.x", message=MSG,
                   params={"line": 5, "customer": target.name}, target=target)
    session.commit()
    return mine, other


def test_bell_counts_unread_on_every_page_and_opening_one_counts_down(session, world, login):
    mine, other = _seed(session, world)
    c = login(world.sales1)
    for path in ("/admin/", "/admin/customer/", "/admin/inbox/"):
        resp = c.get(path)
        assert resp.status_code == 200, path
        assert _bell(resp.get_data(as_text=True)) == 2, path
    page = c.get("/admin/inbox/").get_data(as_text=True)
    assert "的授信 #5 等待您审核" in page  # Chinese for a Chinese reader
    opens = re.findall(r'href="(/admin/inbox/open\?id=\d+)"', page)
    assert len(opens) == 1, "only the record sales1 may open is linked"
    resp = c.get(opens[0])
    assert resp.status_code == 302 and f"id={mine.id}" in resp.headers["Location"]
    assert c.get(resp.headers["Location"]).status_code == 200
    assert _bell(c.get("/admin/").get_data(as_text=True)) == 1


def test_mark_all_read_and_the_all_filter(session, world, login):
    _seed(session, world)
    c = login(world.sales1)
    page = c.get("/admin/inbox/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"all": "1"} | ({"csrf_token": token.group(1)} if token else {})
    resp = c.post("/admin/inbox/read", data=data, follow_redirects=True)
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert _bell(html) == 0 and "没有未读的待办" in html
    assert html.count("data-notification=") == 0
    assert c.get("/admin/inbox/?show=all").get_data(as_text=True).count("data-notification=") == 2


def test_english_reader_sees_english(session, world, login):
    _seed(session, world)
    c = login(world.sales1)
    c.get("/lang/en")
    html = c.get("/admin/inbox/").get_data(as_text=True)
    assert "is waiting for your review" in html and "To-do" in html


def test_someone_elses_notification_is_not_found(session, world, login):
    _seed(session, world)
    theirs = svc.notify(session, user_ids=[world.sales2.id], kind="x", message=MSG,
                        params={"line": 1, "customer": "x"}, target=None)
    session.commit()
    assert theirs == 1
    note = svc.inbox(session, world.sales2)[0]
    c = login(world.sales1)
    assert c.get(f"/admin/inbox/open?id={note.id}").status_code == 404
    assert svc.unread_count(session, world.sales2) == 1


def test_R_ROLE_2_auditors_and_the_security_auditor_read_their_inbox(session, world, login):
    """The security auditor is one of the three notified of a two-person request (R-ROLE-2) and
    auditors get their 待办 too: both read the inbox (token.view, own notifications), open a
    notification, and change nothing — no "mark read" (R-ROLE-3)."""
    for user in (world.auditor, world.secauditor):
        svc.notify(session, user_ids=[user.id], kind="two_person.waiting", message=MSG,
                   params={"line": 7, "customer": "x"}, target=("PendingAction", 1))
        session.commit()
        c = login(user)
        assert _bell(c.get("/admin/").get_data(as_text=True)) == 1, user.username
        page = c.get("/admin/inbox/")
        assert page.status_code == 200, user.username
        html = page.get_data(as_text=True)
        assert "的授信 #7 等待您审核" in html and "标为已读" not in html
        note = svc.inbox(session, user)[0]
        assert c.get(f"/admin/inbox/open?id={note.id}").status_code == 302
        assert svc.unread_count(session, user) == 1  # read-only: the mark is not changed
        assert c.post("/admin/inbox/read", data={"all": "1"}).status_code in (400, 403)
