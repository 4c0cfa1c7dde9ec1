"""Reception verbs (portal/services/reception.py) through the portal and through GraphQL."""

from __future__ import annotations

from sqlalchemy import select

from models import ReceptionRecord
from portal.services import reception as svc
from tests.doors.conftest import audit_mark, audit_since, gid, gql_ok, post_form


def _record(session, name: str) -> ReceptionRecord:
    session.expire_all()
    return session.scalar(select(ReceptionRecord).where(ReceptionRecord.visitor_name == name))


def _sales_of_b1(world) -> set[int]:
    return {world.sales1.id, world.sales2.id}


# --- register (R-RECV-1: a walk-in who names nobody gets the next salesperson) ---------------


def test_R_RECV_1_register_reception_through_portal(session, world, login):
    mark = audit_mark(session)
    post_form(login(world.reception), "/admin/receptionrecord/new/", {
        "kind": "visit", "visitor_class": "c", "venue": "lounge", "visitor_name": "门户来客",
        "visitor_company": "来客公司", "visitor_phone": "13755556666", "purpose": "看样品",
        "outcome": "pending"})
    r = _record(session, "门户来客")
    assert r is not None and r.kind == "visit" and r.branch_id == world.b1.id
    assert r.received_by_id == world.reception.id
    assert r.assigned_to_id in _sales_of_b1(world) and r.used_rotation_turn
    assert ("reception.add", "ok") in audit_since(session, mark)


def test_R_RECV_1_register_reception_through_graphql(session, world, api):
    mark = audit_mark(session)
    gql_ok(api(world.reception), """
        mutation($input: ReceptionInput!) { registerReception(input: $input) {
          ok errors { code message field rule } result { id } } }""",
           {"input": {"kind": "VISIT", "visitorName": "接口来客", "visitorPhone": "13766667777",
                      "purpose": "看样品"}}, "registerReception")
    r = _record(session, "接口来客")
    assert r is not None and r.kind == "visit" and r.branch_id == world.b1.id
    assert r.received_by_id == world.reception.id
    assert r.assigned_to_id in _sales_of_b1(world) and r.used_rotation_turn
    assert ("reception.add", "ok") in audit_since(session, mark)


# --- update (complete the record with the version read) -------------------------------------


def _registered(session, world, name: str) -> ReceptionRecord:
    return svc.register_reception(session, world.reception, {
        "kind": "visit", "visitor_class": "c", "visitor_name": name,
        "visitor_phone": "13788889999"})


def test_update_reception_through_portal(session, world, login):
    r = _registered(session, world, "待补全来客")
    version = r.version
    mark = audit_mark(session)
    # the edit form has no "kind" (set when registering): posting it would be a 400
    post_form(login(world.reception), f"/admin/receptionrecord/edit/?id={r.id}", {
        "visitor_class": r.visitor_class, "venue": r.venue,
        "visitor_name": r.visitor_name, "visitor_phone": r.visitor_phone,
        "purpose": "已看样品，约下周再谈", "outcome": "follow_up", "version": str(version)})
    session.expire_all()
    assert r.outcome == "follow_up" and r.purpose == "已看样品，约下周再谈"
    assert r.version == version + 1
    assert ("reception.change", "ok") in audit_since(session, mark)


def test_update_reception_through_graphql(session, world, api):
    r = _registered(session, world, "待补全来客")
    version = r.version
    mark = audit_mark(session)
    gql_ok(api(world.reception), """
        mutation($id: ID!, $input: ReceptionPatch!, $v: Int!) {
          updateReception(receptionRecordId: $id, input: $input, expectedVersion: $v) {
            ok errors { code message field rule } result { id } } }""",
           {"id": gid("ReceptionRecord", r.id),
            "input": {"purpose": "已看样品，约下周再谈", "outcome": "FOLLOW_UP"}, "v": version},
           "updateReception")
    session.expire_all()
    assert r.outcome == "follow_up" and r.purpose == "已看样品，约下周再谈"
    assert r.version == version + 1
    assert ("reception.change", "ok") in audit_since(session, mark)
