"""Complaint verbs (portal/services/complaints.py) through the portal's workflow buttons and
through GraphQL: register → assign → start investigation → propose → approve → reply → close,
and reject, extend, remind."""

from __future__ import annotations

from sqlalchemy import inspect, select

from models import Complaint, ComplaintEvent, ComplaintReminder
from portal.services import complaints as svc
from tests.doors.conftest import audit_mark, audit_since, gid, gql_ok, post_form

CHAIN = ["registered", "assigned", "investigating", "proposed", "approved", "replied", "closed"]


def _events(session, c: Complaint) -> list[str]:
    session.expire_all()
    return [e.to_status for e in session.scalars(
        select(ComplaintEvent).where(ComplaintEvent.complaint_id == c.id)
        .order_by(ComplaintEvent.id))]


def _registered(session, world) -> Complaint:
    return svc.register_complaint(session, world.service, {
        "customer_id": world.customers["sales1"][0].id, "channel": "phone",
        "type": "complaint", "cause": "service", "description": "送货迟到三天"})


# --- portal helpers --------------------------------------------------------------------------


def _step(session, client, c: Complaint, op: str, **fields: str) -> None:
    """Press the workflow button ``op`` on the details page and submit its form with the
    version the user saw."""
    session.expire_all()
    details = client.get(f"/admin/complaint/details/?id={c.id}").get_data(as_text=True)
    url = f"/admin/complaint/workflow/?id={c.id}&amp;op={op}"
    assert url in details, f"no {op} button on the details page"
    post_form(client, url.replace("&amp;", "&"), {"version": str(c.version), **fields})


# --- GraphQL helper --------------------------------------------------------------------------


def _mutate(api_client, c: Complaint, name: str, args: str = "", versioned: bool = True,
            **variables) -> None:
    if versioned:  # the version the client read: expectedVersion is required on updates
        inspect(c).session.refresh(c)
        variables["version"] = ("Int!", c.version)
        args = ", expectedVersion: $version" + args
    decl = "".join(f", ${k}: {t}" for k, (t, _) in variables.items())
    values = {k: v for k, (_, v) in variables.items()}
    gql_ok(api_client, f"""mutation($id: ID!{decl}) {{ {name}(complaintId: $id{args}) {{
        ok errors {{ code message field rule }} result {{ id status }} }} }}""",
           {"id": gid("Complaint", c.id), **values}, name)


# --- register (R-COMP-1 numbering, R-COMP-4 first responder) ---------------------------------


def test_R_COMP_1_register_complaint_through_portal(session, world, login):
    mark = audit_mark(session)
    post_form(login(world.service), "/admin/complaint/new/", {
        "customer": str(world.customers["sales1"][0].id), "channel": "phone",
        "type": "complaint", "cause": "service", "severity": "general",
        "description": "门户登记：送货迟到",
        # required on the form (NOT NULL column), optional in GraphQL (service default)
        "responsible_department": str(world.d1.id)})
    session.expire_all()
    c = session.scalar(select(Complaint).where(Complaint.description == "门户登记：送货迟到"))
    assert c is not None and c.status == "registered" and c.number
    assert c.received_by_id == world.service.id and c.deadline_at is not None
    assert _events(session, c) == ["registered"]
    assert ("complaint.add", "ok") in audit_since(session, mark)


def test_R_COMP_1_register_complaint_through_graphql(session, world, api):
    mark = audit_mark(session)
    gql_ok(api(world.service), """
        mutation($input: ComplaintInput!) { registerComplaint(input: $input) {
          ok errors { code message field rule } result { id number } } }""",
           {"input": {"customerId": gid("Customer", world.customers["sales1"][0].id),
                      "channel": "PHONE", "type": "COMPLAINT", "cause": "SERVICE",
                      "description": "接口登记：送货迟到"}}, "registerComplaint")
    session.expire_all()
    c = session.scalar(select(Complaint).where(Complaint.description == "接口登记：送货迟到"))
    assert c is not None and c.status == "registered" and c.number
    assert c.received_by_id == world.service.id
    assert _events(session, c) == ["registered"]
    assert ("complaint.add", "ok") in audit_since(session, mark)


# --- the whole workflow (R-COMP-6) -----------------------------------------------------------


def test_R_COMP_6_workflow_through_portal(session, world, login):
    c = _registered(session, world)
    service, manager = login(world.service), login(world.manager)
    mark = audit_mark(session)
    _step(session, service, c, "assign", handler_id=str(world.service.id))
    _step(session, service, c, "start_investigation")
    _step(session, service, c, "propose_resolution", resolution="道歉并补发",
          compensation_amount="0")
    _step(session, manager, c, "approve")
    _step(session, service, c, "reply")
    _step(session, service, c, "close", satisfaction="4",
          fault_department_id=str(world.d1.id), fault_cause="non_quality")
    assert _events(session, c) == CHAIN
    assert c.status == "closed" and c.satisfaction == 4 and c.closed_at is not None
    assert c.handler_id == world.service.id and c.resolution == "道歉并补发"
    actions = [a for a, o in audit_since(session, mark) if o == "ok"]
    assert actions == ["complaint.assign", "complaint.handle", "complaint.handle",
                       "complaint.approve", "complaint.handle", "complaint.close"]


def test_R_COMP_6_workflow_through_graphql(session, world, api):
    c = _registered(session, world)
    service, manager = api(world.service), api(world.manager)
    mark = audit_mark(session)
    _mutate(service, c, "assignComplaint", ", handlerId: $h",
            h=("ID!", gid("User", world.service.id)))
    _mutate(service, c, "startInvestigation")
    _mutate(service, c, "proposeResolution", ", resolution: $r", r=("String!", "道歉并补发"))
    _mutate(manager, c, "approveComplaint")
    _mutate(service, c, "replyComplaint", ", note: $n", n=("String", "已电话告知客户"))
    _mutate(service, c, "closeComplaint",
            ", satisfaction: $s, faultDepartmentId: $d, faultCause: $f, faultUserId: $u",
            s=("Int!", 4), d=("ID", gid("Department", world.d1.id)),
            f=("FaultCause", "QUALITY"), u=("ID", gid("User", world.sales1.id)))
    assert _events(session, c) == CHAIN
    assert c.status == "closed" and c.satisfaction == 4 and c.closed_at is not None
    assert (c.fault_department_id, c.fault_cause, c.fault_user_id) == (
        world.d1.id, "quality", world.sales1.id)  # R-COMP-11 through GraphQL
    actions = [a for a, o in audit_since(session, mark) if o == "ok"]
    assert actions[:6] == ["complaint.assign", "complaint.handle", "complaint.handle",
                           "complaint.approve", "complaint.handle", "complaint.close"]


# --- reject (R-COMP-6: registered → rejected) ------------------------------------------------


def test_R_COMP_6_reject_through_portal(session, world, login):
    c = _registered(session, world)
    mark = audit_mark(session)
    _step(session, login(world.service), c, "reject", reason="非本公司产品")
    assert c.status == "rejected" and c.rejection_reason == "非本公司产品"
    assert _events(session, c) == ["registered", "rejected"]
    assert ("complaint.reject", "ok") in audit_since(session, mark)


def test_R_COMP_6_reject_through_graphql(session, world, api):
    c = _registered(session, world)
    mark = audit_mark(session)
    _mutate(api(world.service), c, "rejectComplaint", ", reason: $r",
            r=("String!", "非本公司产品"))
    assert c.status == "rejected" and c.rejection_reason == "非本公司产品"
    assert _events(session, c) == ["registered", "rejected"]
    assert ("complaint.reject", "ok") in audit_since(session, mark)


# --- extend (R-COMP-2: one documented extension) ---------------------------------------------


def test_R_COMP_2_extend_through_portal(session, world, login):
    c = _registered(session, world)
    deadline = c.deadline_at
    mark = audit_mark(session)
    _step(session, login(world.service), c, "extend", reason="需要厂家鉴定", working_days="7")
    assert c.extended and c.extension_reason == "需要厂家鉴定" and c.deadline_at > deadline
    assert ("complaint.extend", "ok") in audit_since(session, mark)
    assert c.status == "registered"


def test_R_COMP_2_extend_through_graphql(session, world, api):
    c = _registered(session, world)
    deadline = c.deadline_at
    mark = audit_mark(session)
    _mutate(api(world.service), c, "extendComplaint", ", reason: $r, workingDays: $d",
            r=("String!", "需要厂家鉴定"), d=("Int!", 7))
    assert c.extended and c.extension_reason == "需要厂家鉴定" and c.deadline_at > deadline
    assert ("complaint.extend", "ok") in audit_since(session, mark)


# --- remind (R-COMP-7: a reminder 催办单 to the handler and first responder) -----------------


def _reminders(session, c: Complaint) -> list[str]:
    session.expire_all()
    return [r.note for r in session.scalars(
        select(ComplaintReminder).where(ComplaintReminder.complaint_id == c.id))]


def test_R_COMP_7_remind_through_portal(session, world, login):
    c = _registered(session, world)
    mark = audit_mark(session)
    _step(session, login(world.manager), c, "remind", note="请今天答复客户")
    assert _reminders(session, c) == ["请今天答复客户"]
    assert ("complaint.remind", "ok") in audit_since(session, mark)


def test_R_COMP_7_remind_through_graphql(session, world, api):
    c = _registered(session, world)
    mark = audit_mark(session)
    _mutate(api(world.manager), c, "remindComplaint", ", note: $n",
            n=("String", "请今天答复客户"))
    assert _reminders(session, c) == ["请今天答复客户"]
    assert ("complaint.remind", "ok") in audit_since(session, mark)
