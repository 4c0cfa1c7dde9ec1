"""处罚通知单 in the portal (R-COMP-11): the close form records responsibility, the general
manager confirms or waives from the notice's page, HR's monthly list and CSV."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from models import Complaint, Notification, PenaltyNotice
from portal import clock
from tests.services.test_penalties import THURSDAY_END, _close, _fault, _notice, _replied


def test_R_COMP_11_close_form_requires_and_records_responsibility(session, world, login):
    c = _replied(session, world)
    client = login(world.service)
    url = f"/admin/complaint/workflow/?id={c.id}&op=close"
    with clock.frozen(THURSDAY_END):
        page = client.get(url).get_data(as_text=True)
        assert "责任部门" in page and "责任人" in page and "品质原因" in page
        resp = client.post(url, data={"satisfaction": "4", "version": c.version})
        assert "责任部门" in resp.get_data(as_text=True)
        session.expire_all()
        assert session.get(Complaint, c.id).status == "replied"
        resp = client.post(url, data={"satisfaction": "4", "version": c.version,
                                      "fault_department_id": str(world.d1.id),
                                      "fault_user_id": str(world.sales1.id),
                                      "fault_cause": "quality", "fault_team": "东区交付组"})
        assert resp.status_code == 302
    session.expire_all()
    c = session.get(Complaint, c.id)
    assert (c.status, c.fault_user_id, c.fault_cause) == ("closed", world.sales1.id, "quality")
    assert _notice(session, c).status == "draft"


def test_R_COMP_11_gm_confirms_and_waives_and_hr_lists(session, world, login):
    a, b = _replied(session, world), _replied(session, world)
    _close(session, world, a, THURSDAY_END, **_fault(world))
    _close(session, world, b, THURSDAY_END, **_fault(world))
    gm = login(world.gm)
    na, nb = _notice(session, a), _notice(session, b)
    with clock.frozen(THURSDAY_END + timedelta(hours=1)):
        page = gm.get(f"/admin/penaltynotice/details/?id={na.id}").get_data(as_text=True)
        assert "确认处罚" in page and "免除处罚" in page and "¥100.00" in page
        assert gm.post(f"/admin/penaltynotice/workflow/?id={na.id}&op=confirm",
                       data={"version": na.version}).status_code == 302
        gm.post(f"/admin/penaltynotice/workflow/?id={nb.id}&op=waive",
                data={"version": nb.version, "reason": "客户误解"})
        hr = gm.get("/admin/penaltynotice/hr/?month=2025-03").get_data(as_text=True)
        csv = gm.get("/admin/penaltynotice/hr/?month=2025-03&format=csv")
    session.expire_all()
    statuses = dict(session.execute(select(PenaltyNotice.id, PenaltyNotice.status)).all())
    assert statuses == {na.id: "confirmed", nb.id: "waived"}
    assert a.number in hr and b.number not in hr and "¥100.00" in hr
    assert csv.status_code == 200 and a.number in csv.get_data(as_text=True)
    # the GM's 待办 links to the notice
    note = session.scalar(select(Notification).where(
        Notification.user_id == world.gm.id, Notification.kind == "complaint.penalty_draft",
        Notification.target_id == str(na.id)))
    assert a.number in gm.get("/admin/inbox/?show=all").get_data(as_text=True)
    opened = gm.get(f"/admin/inbox/open?id={note.id}")
    assert f"/admin/penaltynotice/details/?id={na.id}" in opened.headers["Location"]
