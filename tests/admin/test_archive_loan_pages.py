"""R-CUST-9 borrowing an archive in the portal: the request form (from the customer list's
search), the manager's one-click approval from the 待办, the borrower's read-only access (every
page read audited with the loan id, every write refused), the register scoped."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import ArchiveLoan, AuditEntry, Customer, Notification
from portal.extensions import db
from tests.admin.conftest import audit_seq, entries_since, fingerprint


def _request(client, customer, reason="客户来电核对订单") -> ArchiveLoan:
    resp = client.post("/admin/archiveloan/request/",
                       data={"archive": customer.code, "reason": reason, "days": "1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    loan = db.session.scalar(select(ArchiveLoan).order_by(ArchiveLoan.id.desc()))
    assert f"/admin/archiveloan/details/?id={loan.id}" in resp.headers["Location"]
    return loan


def _approve_from_inbox(client, loan: ArchiveLoan) -> None:
    note = db.session.scalar(select(Notification).where(
        Notification.kind == "archive_loan.awaiting_decision"))
    inbox = client.get("/admin/inbox/").get_data(as_text=True)
    assert str(loan.id) in inbox
    opened = client.get(f"/admin/inbox/open?id={note.id}")
    assert opened.status_code == 302 and f"id={loan.id}" in opened.headers["Location"]
    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "批准借阅" in page
    resp = client.post("/admin/archiveloan/decide/",
                       data={"id": loan.id, "version": loan.version, "approve": "1"})
    assert resp.status_code == 302


def test_R_CUST_9_portal_request_approve_read_return(world, login, session) -> None:
    c, other = world.customers["sales1"]
    borrower = login(world.sales4)
    # the customer list's search offers the request when the archive is outside the scope
    listed = borrower.get(f"/admin/customer/?search={c.code}").get_data(as_text=True)
    assert c.name not in listed and "/admin/archiveloan/request/?q=" in listed
    form = borrower.get(f"/admin/archiveloan/request/?q={c.code}").get_data(as_text=True)
    assert f'value="{c.code}"' in form
    assert borrower.get(f"/admin/customer/details/?id={c.id}").status_code == 404
    loan = _request(borrower, c)
    manager = login(world.manager)
    _approve_from_inbox(manager, loan)
    db.session.expire_all()
    assert db.session.get(ArchiveLoan, loan.id).status == "approved"
    mark = audit_seq()
    page = borrower.get(f"/admin/customer/details/?id={c.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert c.name in html and f"借阅 #{loan.id}" in html and c.phone in html
    assert borrower.get(f"/admin/customer/details/?id={other.id}").status_code == 404
    reads = [e for e in entries_since(mark) if e.action == "archive_loan.read"]
    assert [(e.target_type, e.target_id) for e in reads] == [("ArchiveLoan", str(loan.id))]
    # the register shows the loan and its reads to the department's manager
    register = manager.get("/admin/archiveloan/").get_data(as_text=True)
    assert c.code in register and world.sales4.full_name in register
    assert c.code not in login(world.manager2).get("/admin/archiveloan/").get_data(as_text=True)
    # the borrower returns it early; the archive is gone again
    resp = borrower.post("/admin/archiveloan/return/",
                         data={"id": loan.id,
                               "version": db.session.get(ArchiveLoan, loan.id).version})
    assert resp.status_code == 302
    assert borrower.get(f"/admin/customer/details/?id={c.id}").status_code == 404


def test_R_CUST_9_portal_no_write_during_a_loan(world, login, session) -> None:
    c = world.customers["sales1"][0]
    borrower = login(world.sales4)
    loan = _request(borrower, c)
    _approve_from_inbox(login(world.manager), loan)
    before = fingerprint()
    for method, path, data in (
            ("GET", f"/admin/customer/edit/?id={c.id}", None),
            ("POST", f"/admin/customer/edit/?id={c.id}", {"name": "借阅时改名", "notes": "x"}),
            ("GET", f"/admin/customer/follow-up/?ids={c.id}", None),
            ("POST", "/admin/customer/action/", {"action": "follow_up", "rowid": str(c.id)})):
        mark = audit_seq()
        resp = borrower.open(path, method=method, data=data)
        assert resp.status_code in (302, 403, 404), (path, resp.status_code)
        if resp.status_code == 302:  # an action hands over to its page, which refuses
            resp = borrower.get(resp.headers["Location"])
            assert resp.status_code in (403, 404), (path, resp.status_code)
        denied = [e for e in entries_since(mark) if e.outcome == "denied"]
        assert denied, (method, path)
    assert fingerprint() == before
    assert db.session.get(Customer, c.id).name == c.name


def test_R_CUST_9_portal_refusal_needs_a_reason_and_is_told(world, login, session) -> None:
    c = world.customers["sales1"][0]
    borrower = login(world.sales4)
    loan = _request(borrower, c)
    manager = login(world.manager)
    resp = manager.post("/admin/archiveloan/decide/",
                        data={"id": loan.id, "version": loan.version, "approve": "0"},
                        follow_redirects=True)
    assert "理由" in resp.get_data(as_text=True) or "reason" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ArchiveLoan, loan.id).status == "requested"
    resp = manager.post("/admin/archiveloan/decide/",
                        data={"id": loan.id, "version": loan.version, "approve": "0",
                              "reason": "无业务需要"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(ArchiveLoan, loan.id).status == "refused"
    mine = borrower.get("/admin/archiveloan/?preset=mine").get_data(as_text=True)
    assert "已驳回" in mine
    assert db.session.scalar(select(Notification.id).where(
        Notification.kind == "archive_loan.refused", Notification.user_id == world.sales4.id))
    # another department's manager is refused, and it is audited
    outsider = login(world.manager2)
    mark = audit_seq()
    other = outsider.post(
        "/admin/archiveloan/decide/", data={"id": loan.id, "version": 1, "approve": "1"})
    assert other.status_code == 404
    assert [e.outcome for e in entries_since(mark)] == ["denied"]


def test_R_CUST_9_portal_request_reveals_nothing(world, login, session) -> None:
    c = world.customers["sales1"][0]
    borrower = login(world.sales4)
    mark = audit_seq()
    resp = borrower.post("/admin/archiveloan/request/",
                         data={"archive": c.name[:-1], "reason": "看看", "days": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and c.code not in html and c.name not in html
    assert re.search("没有与该编号|No archive has exactly", html)
    assert [e.outcome for e in entries_since(mark)] == ["denied"]
    assert db.session.scalar(select(ArchiveLoan.id)) is None
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action == "archive_loan.request"))


def test_R_CUST_9_portal_reading_what_hangs_off_a_borrowed_archive_is_audited(
        world, login, session) -> None:
    """A complaint of the borrowed archive, opened on its own page or seen in the complaint
    list, is a read of the archive: audited with the loan id. The owner's own reads are not
    loan reads."""
    from tests.graphql.data import add_complaint

    c, other = world.customers["sales1"]
    complaint = add_complaint(db.session, c, world.sales1)
    hidden = add_complaint(db.session, other, world.sales1)
    db.session.commit()
    borrower = login(world.sales4)
    assert borrower.get(f"/admin/complaint/details/?id={complaint.id}").status_code == 404
    loan = _request(borrower, c)
    _approve_from_inbox(login(world.manager), loan)
    mark = audit_seq()
    page = borrower.get(f"/admin/complaint/details/?id={complaint.id}")
    assert page.status_code == 200 and complaint.number in page.get_data(as_text=True)
    assert borrower.get(f"/admin/complaint/details/?id={hidden.id}").status_code == 404
    listed = borrower.get("/admin/complaint/").get_data(as_text=True)
    assert complaint.number in listed and hidden.number not in listed
    reads = [e for e in entries_since(mark) if e.action == "archive_loan.read"]
    assert [(e.target_type, e.target_id) for e in reads] == [("ArchiveLoan", str(loan.id))] * 2
    assert all(f"Customer {c.id}" in (e.detail or "") for e in reads)
    mark = audit_seq()
    login(world.sales1).get(f"/admin/complaint/details/?id={complaint.id}")
    assert not [e for e in entries_since(mark) if e.action == "archive_loan.read"]
