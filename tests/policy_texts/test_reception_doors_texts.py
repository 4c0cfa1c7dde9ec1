"""Issue 16, the rotation through both doors (R-RECV-1): the front desk sees who is next; the
supervisor registers an approved go-out; a salesperson cannot approve their own."""

from __future__ import annotations

from sqlalchemy import select

from models import RotationSlot
from tests.doors.conftest import gid


def _slot(session, user_id: int) -> RotationSlot:
    session.expire_all()
    return session.scalar(select(RotationSlot).where(RotationSlot.user_id == user_id))


def test_R_RECV_1_rotation_page_and_approved_go_out_through_portal(session, world, login):
    desk = login(world.reception)
    page = desk.get(f"/admin/receptionrecord/rotation/?branch={world.b1.id}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "下一位" in body and world.sales1.full_name in body
    assert "登记外出（已批准）" not in body  # the desk does not approve go-outs
    sup = login(world.supervisor)
    assert "登记外出（已批准）" in sup.get("/admin/receptionrecord/rotation/").get_data(
        as_text=True)
    resp = sup.post("/admin/receptionrecord/rotation/", data={
        "branch": str(world.b1.id), "user_id": str(world.sales2.id), "op": "go_out"})
    assert resp.status_code == 302
    slot = _slot(session, world.sales2.id)
    assert not slot.available and slot.approved_go_out
    assert "外出（已批准）" in sup.get("/admin/receptionrecord/rotation/").get_data(as_text=True)
    # a salesperson has no rotation page
    assert login(world.sales1).get("/admin/receptionrecord/rotation/").status_code == 403


def test_R_RECV_1_rotation_and_approved_go_out_through_graphql(session, world, api):
    q = """query($b: ID!) { rotationToday(branchId: $b) { userId name available busy
             approvedGoOut owedTurns } }"""
    out = api(world.reception)(q, {"b": gid("Branch", world.b1.id)})
    assert not out.get("errors"), out
    assert {p["userId"] for p in out["data"]["rotationToday"]} == {
        gid("User", world.sales1.id), gid("User", world.sales2.id)}
    m = """mutation($b: ID!, $u: ID!) { setRotationAvailability(branchId: $b, userId: $u,
             available: false, approvedGoOut: true) { ok errors { code rule }
             result { userId approvedGoOut available } } }"""
    mine = api(world.sales1)(m, {"b": gid("Branch", world.b1.id),
                                 "u": gid("User", world.sales1.id)})
    assert not mine["data"]["setRotationAvailability"]["ok"]
    ok = api(world.supervisor)(m, {"b": gid("Branch", world.b1.id),
                                   "u": gid("User", world.sales1.id)})
    payload = ok["data"]["setRotationAvailability"]
    assert payload["ok"], payload
    mine_place = next(p for p in payload["result"] if p["userId"] == gid("User",
                                                                          world.sales1.id))
    assert mine_place["approvedGoOut"] and not mine_place["available"]
    assert _slot(session, world.sales1.id).approved_go_out
