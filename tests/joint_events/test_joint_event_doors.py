"""R-CUST-10 joint events through both doors: the portal's pages (events, submission, the
coordinator's board with ruling and escalation, attendance, the report) and GraphQL
(jointEvents, jointEventLists, jointEventBoard, jointEventReport and the mutations) answer
alike, from the same services, and a department never reads another department's list."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from models import AuditEntry, JointInvitation, JointRuling, Notification
from portal import clock
from portal.clock import COMPANY_TZ
from portal.services import joint_events as je
from tests.doors.conftest import gid, gql_ok, post_form

EVENT_DAY = date(2026, 12, 10)
NOW = datetime(2026, 12, 5, 9, 0, tzinfo=COMPANY_TZ)

SUBMIT = """mutation($e: ID!, $l: [JointListLineInput!]!) { submitJointEventList(eventId: $e,
  lines: $l) { ok errors { message code } result { listDay lines { customerName status
  conflictMessage department { name } } } } }"""
RULE = """mutation($e: ID!, $c: ID!, $w: ID!, $r: String!, $v: Int!) { ruleJointEventConflict(
  eventId: $e, customerId: $c, winnerDepartmentId: $w, reason: $r, expectedVersion: $v) {
  ok errors { message code }
  result { status reason winnerDepartment { name } } } }"""
ESCALATE = """mutation($e: ID!, $c: ID!, $r: String!) { escalateJointEventConflict(eventId: $e,
  customerId: $c, reason: $r) { ok errors { message code } result { status escalatedToGm } } }"""
ATTEND = """mutation($e: ID!, $c: ID!, $a: Decimal) { recordJointEventAttendance(eventId: $e,
  customerId: $c, attended: true, amount: $a) { ok errors { message } result { amount
  creditedToName department { name } } } }"""
BOARD = """query($e: ID!) { jointEventBoard(eventId: $e) { conflicts { customerName open
  escalated lines { department { name } status } } lists { department { name }
  lines { customerName } } } }"""
LISTS = """query($e: ID!) { jointEventLists(eventId: $e) { customerName status
  conflictMessage department { name } } }"""
REPORT = """query($e: ID!) { jointEventReport(eventId: $e) { department { name } invited
  attended sales } }"""


def _event(session, world):
    with clock.frozen(datetime(2026, 12, 1, 9, 0, tzinfo=COMPANY_TZ)):
        return je.create_event(session, world.gm, name="冬季联谊会", event_date=EVENT_DAY,
                               session_kind="evening", venue="总部三楼会议厅",
                               department_ids=[world.d1.id, world.d2.id],
                               coordinator_id=world.service.id)


def test_R_CUST_10_portal_submission_board_ruling_attendance(session, world, login):
    event = _event(session, world)
    contested = world.customers["sales1"][0]
    m1, m2, coord = login(world.manager), login(world.manager2), login(world.service)
    with clock.frozen(NOW):
        page = m1.get(f"/admin/joint-events/submit?id={event.id}").get_data(as_text=True)
        assert contested.name in page and "2026-12-05" in page  # picked by name; list day
        assert world.customers["sales4"][0].name not in page  # another department's archive
        post_form(m1, f"/admin/joint-events/submit?id={event.id}",
                  {"customers": [contested.id]})
        resp = post_form(m2, f"/admin/joint-events/submit?id={event.id}",
                         {"lookups": contested.name})
    page = m2.get(resp.headers["Location"], headers={"Accept-Language": "zh-CN"}
                  ).get_data(as_text=True)
    assert "已由 销售一部 于 2026-12-05 09:00 敲定" in page  # the fact, the department only
    assert world.sales1.full_name not in page
    # the other department's list stays hidden from 销售二部; the board is not theirs
    assert m2.get(f"/admin/joint-events/board?id={event.id}").status_code == 404
    board = coord.get(f"/admin/joint-events/board?id={event.id}").get_data(as_text=True)
    assert "badge-danger" in board and contested.name in board
    assert 'name="version" value="0"' in board  # no ruling yet: the version seen is 0
    post_form(coord, f"/admin/joint-events/rule?id={event.id}",
              {"customer": contested.id, "winner": world.d1.id, "reason": "一部先建档先邀约",
               "version": "0"})
    ruling = session.scalar(select(JointRuling))
    assert ruling.status == "decided" and ruling.reason == "一部先建档先邀约"
    post_form(coord, f"/admin/joint-events/attendance?id={event.id}",
              {"customer": contested.id, "attended": "1", "amount": "8,800"})
    page = coord.get(f"/admin/joint-events/event?id={event.id}").get_data(as_text=True)
    assert "¥8,800.00" in page
    assert login(world.auditor).post(f"/admin/joint-events/rule?id={event.id}",
                                     data={"customer": contested.id}).status_code == 403


def test_R_CUST_10_graphql_same_rules_and_scope(session, world, api):
    event = _event(session, world)
    contested = world.customers["sales1"][0]
    e = gid("JointEvent", event.id)
    with clock.frozen(NOW):
        first = gql_ok(api(world.manager), SUBMIT, {"e": e, "l": [
            {"customerId": gid("Customer", contested.id)}]}, "submitJointEventList")
        second = gql_ok(api(world.manager2), SUBMIT, {"e": e, "l": [
            {"lookup": contested.phone}]}, "submitJointEventList")
    assert first["lines"][0]["status"] == "CONFIRMED"
    line = second["lines"][0]
    assert line["status"] == "REFUSED"
    assert "销售一部" in line["conflictMessage"] and world.sales1.full_name not in \
        line["conflictMessage"]
    # scoping: 销售二部 reads its own list only; the board is the coordinator's
    lists = api(world.manager2)(LISTS, {"e": e})["data"]["jointEventLists"]
    assert {x["department"]["name"] for x in lists} == {"销售二部"}
    denied = api(world.manager2)(BOARD, {"e": e})
    assert denied["errors"] and denied["data"] is None
    board = api(world.service)(BOARD, {"e": e})["data"]["jointEventBoard"]
    assert [(c["customerName"], c["open"]) for c in board["conflicts"]] == [(contested.name, True)]
    # escalation → the GM's 待办; the GM decides; final
    gql_ok(api(world.service), ESCALATE, {"e": e, "c": gid("Customer", contested.id),
                                          "r": "无法判断"}, "escalateJointEventConflict")
    assert session.scalar(select(func.count(Notification.id)).where(
        Notification.user_id == world.gm.id, Notification.kind == "joint_event.escalated")) == 1
    seen = session.scalar(select(JointRuling.version).where(
        JointRuling.customer_id == contested.id))
    refused = api(world.service)(RULE, {"e": e, "c": gid("Customer", contested.id),
                                        "w": gid("Department", world.d2.id), "r": "二部",
                                        "v": seen})
    assert refused["data"]["ruleJointEventConflict"]["errors"][0]["code"] == "forbidden"
    ruled = gql_ok(api(world.gm), RULE, {"e": e, "c": gid("Customer", contested.id),
                                         "w": gid("Department", world.d2.id),
                                         "r": "客户要求二部接待", "v": seen},
                    "ruleJointEventConflict")
    assert ruled["winnerDepartment"]["name"] == "销售二部"
    again = api(world.gm)(RULE, {"e": e, "c": gid("Customer", contested.id),
                                 "w": gid("Department", world.d1.id), "r": "改判",
                                 "v": seen + 1})
    assert again["data"]["ruleJointEventConflict"]["errors"][0]["code"] == "rule"
    # attendance credited to the confirming department (now 销售二部) and person
    att = gql_ok(api(world.service), ATTEND, {"e": e, "c": gid("Customer", contested.id),
                                              "a": "5000"}, "recordJointEventAttendance")
    assert att["department"]["name"] == "销售二部"
    assert att["creditedToName"] == world.manager2.full_name  # confirmed by the head
    report = api(world.service)(REPORT, {"e": e})["data"]["jointEventReport"]
    assert {r["department"]["name"]: (r["invited"], r["sales"]) for r in report} == {
        "销售一部": (0, "0"), "销售二部": (1, "5000.00")}
    own = api(world.manager)(REPORT, {"e": e})["data"]["jointEventReport"]
    assert [r["department"]["name"] for r in own] == ["销售一部"]


def test_R_CUST_10_both_doors_parity(session, world, api, login):
    """The portal's event page and jointEventLists show a department the same lines."""
    event = _event(session, world)
    with clock.frozen(NOW):
        je.submit_list(session, world.manager, event.id,
                       [c.id for c in world.customers["sales1"]])
    api_names = {x["customerName"] for x in api(world.sales1)(
        LISTS, {"e": gid("JointEvent", event.id)})["data"]["jointEventLists"]}
    page = login(world.sales1).get(f"/admin/joint-events/event?id={event.id}"
                                   ).get_data(as_text=True)
    assert api_names == {c.name for c in world.customers["sales1"]}
    assert all(name in page for name in api_names)
    assert session.scalar(select(func.count(JointInvitation.id))) == 2
    assert session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "joint_event.submit")) == 1


def test_R_CUST_10_board_statements_do_not_grow_with_conflicts(session, world, api, app):
    """No N+1: the coordinator's board over GraphQL costs the same number of statements with
    one conflict as with three (the lines' people, customers and messages are batched)."""
    from tests.factories import make_customer
    from tests.graphql.test_graphql_fixed_cost import statements

    event = _event(session, world)
    e = gid("JointEvent", event.id)
    extra = [make_customer(session, world.sales1) for _ in range(2)]
    session.commit()
    coordinator = api(world.service)

    def contest(customer) -> None:
        with clock.frozen(NOW):
            je.submit_list(session, world.manager, event.id, [customer.id])
            je.submit_list(session, world.manager2, event.id, [{"lookup": customer.phone}])

    contest(world.customers["sales1"][0])
    coordinator(BOARD, {"e": e})  # warm
    with statements(app) as one:
        assert len(coordinator(BOARD, {"e": e})["data"]["jointEventBoard"]["conflicts"]) == 1
    for customer in extra:
        contest(customer)
    with statements(app) as three:
        assert len(coordinator(BOARD, {"e": e})["data"]["jointEventBoard"]["conflicts"]) == 3
    assert len(three) == len(one), (len(one), len(three))
