"""Issue 13: the generic create/edit forms never silently drop a value. Every field a form sends
is a value its service verb declares (``portal.services.accepts``); a posted value the form or
the verb does not take is a 400 with "此操作不接受 X，未做任何更改。" (English: "X is not accepted
by this action; nothing was changed."), and nothing changes — as the workflow forms already do.
GraphQL's inputs are typed: an undeclared field is refused by the schema."""

from __future__ import annotations

import inspect as pyinspect

import pytest
from sqlalchemy import func, inspect, select

from admin_views.base import ScopedModelView
from models import CalendarDay, CreditLine, Customer, Department, ReceptionRecord, User
from portal.services import customers, org, users
from portal.services.accepts import accepted_keys, accepts
from portal.services.errors import ValidationFailed
from tests.doors.conftest import audit_mark, audit_since, form_versions
from tests.graphql.conftest import api  # noqa: F401 - the ``api(user)`` fixture

ZH = "此操作不接受 {}，未做任何更改。"
EN = "{} is not accepted by this action; nothing was changed."


def _views(app) -> list[ScopedModelView]:
    return [v for v in app.extensions["admin"][0]._views if isinstance(v, ScopedModelView)]


def _sent(view: ScopedModelView, creating: bool) -> set[str]:
    """The keys the form path can hand to the verb (``FormsMixin.form_data``)."""
    relationships = {r.key for r in inspect(view.model).relationships}
    return {f"{n}_id" if n in relationships else n for n in view.editable_names(creating)}


def test_every_create_and_edit_form_sends_only_what_its_verb_declares(app) -> None:
    checked = []
    for view in _views(app):
        for creating, fn in ((True, view.create_service_fn), (False, view.update_service_fn)):
            if fn is None:
                continue
            declared = accepted_keys(fn)
            assert declared is not None, (view.endpoint, fn.__name__, "declares no @accepts")
            params = set(pyinspect.signature(fn).parameters)  # e.g. a child's customer_id
            assert _sent(view, creating) - declared - params == set(), (view.endpoint, creating)
            checked.append((view.endpoint, creating))
    assert len(checked) >= 14  # customers, complaints, credit, receptions, users, org, …


def test_a_verb_refuses_a_key_it_does_not_declare(session, world) -> None:
    """The service door: a value nobody reads is refused before anything is read or written."""
    before = (world.sales1.version, world.sales1.branch_id)
    with pytest.raises(ValidationFailed) as refused:
        users.update_user(session, world.sysadmin, world.sales1.id, {"clearance": 3},
                          expected_version=world.sales1.version)
    assert refused.value.field == "clearance"
    assert refused.value.translated() == EN.format("clearance")
    session.expire_all()
    assert (world.sales1.version, world.sales1.branch_id) == before
    count = session.scalar(select(func.count(Customer.id)))
    with pytest.raises(ValidationFailed) as refused:
        customers.create_customer(session, world.sales1, {"name": "某某有限公司", "kind": "end",
                                                          "status": "void"})
    assert refused.value.field == "status"
    assert session.scalar(select(func.count(Customer.id))) == count


# --- the portal: a posted value the form does not take ----------------------------------------

def _edit_customer(session, world, login, lang, extra):
    c = world.customers["sales1"][0]
    client = login(world.sales1)
    if lang:
        client.get(f"/lang/{lang}")
    url = f"/admin/customer/edit/?id={c.id}"
    form = {**form_versions(client, url), "name": c.name, "kind": c.kind, "phone": c.phone,
            "notes": "不应保存的备注", **extra}
    mark = audit_mark(session)
    resp = client.post(url, data=form)
    session.expire_all()
    return resp, session.get(Customer, c.id), audit_since(session, mark)


@pytest.mark.parametrize(("lang", "text"), [(None, ZH), ("en", EN)])
def test_customer_edit_with_an_owner_posted_is_a_400_and_changes_nothing(
        session, world, login, lang, text) -> None:
    version = world.customers["sales1"][0].version
    resp, c, audit = _edit_customer(session, world, login, lang, {"owner_id": world.sales2.id})
    assert resp.status_code == 400
    assert text.format("owner_id") in resp.get_data(as_text=True)
    assert c.owner_id == world.sales1.id and c.notes != "不应保存的备注" and c.version == version
    assert ("customer.change", "ok") not in audit


def test_customer_create_with_a_status_posted_is_a_400_and_creates_nothing(
        session, world, login) -> None:
    client = login(world.sales1)
    resp = client.post("/admin/customer/new/", data={
        "name": "不该建档的客户有限公司", "kind": "end", "phone": "13911119999",
        "source": "walk_in", "importance": "B", "intent": "warm", "status": "void"})
    assert resp.status_code == 400 and ZH.format("status") in resp.get_data(as_text=True)
    assert session.scalar(select(Customer).where(Customer.name == "不该建档的客户有限公司")) is None


def test_reception_edit_with_the_create_only_kind_posted_is_a_400(session, world, login) -> None:
    from portal.services import reception

    r = reception.register_reception(session, world.reception, {
        "kind": "visit", "visitor_class": "c", "visitor_name": "来访者甲",
        "visitor_phone": "13788889999"})
    client = login(world.reception)
    url = f"/admin/receptionrecord/edit/?id={r.id}"
    resp = client.post(url, data={**form_versions(client, url), "visitor_class": "c",
                                  "visitor_name": "来访者甲", "purpose": "改了目的",
                                  "kind": "call"})
    assert resp.status_code == 400 and ZH.format("kind") in resp.get_data(as_text=True)
    session.expire_all()
    row = session.get(ReceptionRecord, r.id)
    assert (row.kind, row.purpose) == ("visit", r.purpose)


def test_user_edit_with_is_active_posted_is_a_400(session, world, login) -> None:
    client = login(world.sysadmin)
    url = f"/admin/user/edit/?id={world.sales1.id}"
    version = world.sales1.version
    resp = client.post(url, data={**form_versions(client, url), "full_name": "改名",
                                  "is_active": "n"})
    assert resp.status_code == 400 and ZH.format("is_active") in resp.get_data(as_text=True)
    session.expire_all()
    u = session.get(User, world.sales1.id)
    assert u.full_name != "改名" and u.is_active and u.version == version


def test_calendar_day_edit_with_the_day_posted_is_a_400(session, world, login) -> None:
    from datetime import date

    from portal.services import configuration

    configuration.add_calendar_day(session, world.sysadmin, {"day": date(2030, 10, 1),
                                                             "kind": "holiday", "name": "国庆"})
    client = login(world.sysadmin)
    url = "/admin/calendarday/edit/?id=2030-10-01"
    resp = client.post(url, data={**form_versions(client, url), "kind": "holiday",
                                  "name": "国庆节", "day": "2030-10-02"})
    assert resp.status_code == 400 and ZH.format("day") in resp.get_data(as_text=True)
    session.expire_all()
    assert session.get(CalendarDay, date(2030, 10, 1)).name == "国庆"
    assert session.get(CalendarDay, date(2030, 10, 2)) is None


def test_credit_line_form_has_no_raise_box_and_refuses_one(session, world, login) -> None:
    """提额 is decided by the service (a limit above the one in force): the form had a box the
    service never read; posting it is now refused."""
    client = login(world.manager)
    page = client.get("/admin/creditline/new/").get_data(as_text=True)
    assert 'name="is_raise"' not in page
    count = session.scalar(select(func.count(CreditLine.id)))
    resp = client.post("/admin/creditline/new/", data={
        "customer": str(world.customers["sales1"][0].id), "kind": "long_term",
        "limit_amount": "10000", "term_days": "30", "is_raise": "y"})
    assert resp.status_code == 400 and ZH.format("is_raise") in resp.get_data(as_text=True)
    assert session.scalar(select(func.count(CreditLine.id))) == count


def test_a_form_field_the_verb_does_not_declare_is_a_400(app, session, world, login,
                                                         monkeypatch) -> None:
    """A form that offers more than its verb takes (here: the department form with a verb
    that takes the code only) is refused by the verb, never half saved."""
    view = next(v for v in _views(app) if v.endpoint == "department")
    monkeypatch.setattr(type(view), "create_service", accepts("code")(org.create_department))
    client = login(world.sysadmin)
    client.get("/lang/en")
    resp = client.post("/admin/department/new/", data={"code": "D9", "name": "新部门"})
    assert resp.status_code == 400 and EN.format("name") in resp.get_data(as_text=True)
    assert session.scalar(select(Department).where(Department.code == "D9")) is None


# --- GraphQL: the inputs are typed ------------------------------------------------------------

def test_graphql_refuses_an_undeclared_input_field_and_changes_nothing(
        session, world, api) -> None:  # noqa: F811 - the fixture imported above
    c = world.customers["sales1"][0]
    version = c.version
    out = api(world.sales1)("""mutation($id: ID!, $v: Int!) { updateCustomer(customerId: $id,
        input: {notes: "不应保存", ownerId: "VXNlcjox"}, expectedVersion: $v) { ok } }""",
                            {"id": f"Customer:{c.id}", "v": version})
    assert out.get("data") is None
    assert "ownerId" in out["errors"][0]["message"]
    session.expire_all()
    c = session.get(Customer, c.id)
    assert c.version == version and c.notes != "不应保存"
