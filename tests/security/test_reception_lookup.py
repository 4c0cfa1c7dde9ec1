"""Issue 12 (13): reception does not browse archives (R-ROLE-1: "customer lookup by exact
name/phone, no browsing of archives"). The front desk's customer.view on all archives is gone;
instead an exact look-up by full name or phone (normalised) answers code, name and owner of
the archives a walk-in may be linked to — no contact data beyond what was typed — audited and
rate-limited, in the portal (查询老客户) and GraphQL (customerLookup); the walk-in form links
the archive looked up."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEntry, ReceptionRecord
from portal import policy, settings
from portal.services import reception_lookup
from portal.services.errors import PermissionDenied, RuleViolation
from tests.factories import make_customer
from tests.graphql.conftest import Api, make_token

LOOKUP = """query($t: String!) { customerLookup(text: $t) { id code name ownerName } }"""


@pytest.fixture
def api(app, session):
    return lambda user: Api(app.test_client(), make_token(session, user))


@pytest.fixture
def archive(world, session):
    c = make_customer(session, world.sales3, name="杭州明远贸易有限公司", phone="13912345678",
                      address="杭州市西湖区文三路 1 号")
    session.commit()
    return c


def _lookups(session) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "customer.lookup").order_by(AuditEntry.seq)))


def test_R_ROLE_1_reception_does_not_browse_archives(world, session, login, api, archive,
                                                     unchanged):
    assert not policy.can(world.reception, "customer.view")
    assert not policy.can(world.reception, "customer_contact.view")
    desk = login(world.reception)
    for path in ("/admin/customer/", f"/admin/customer/details/?id={archive.id}"):
        with unchanged(denied=1):
            assert desk.get(path).status_code == 403
    client = api(world.reception)
    client("{ me { user { id } } }")
    body = client("{ customers(first: 50) { totalCount edges { node { name phone } } } }")
    assert body.get("data") is None or body["data"]["customers"]["totalCount"] == 0
    body = client('query($id: ID!) { node(id: $id) { id } }', {"id": f"Customer:{archive.id}"})
    assert body["data"]["node"] is None


def test_R_ROLE_1_reception_looks_up_by_exact_name_or_phone_in_the_portal(
        world, session, login, archive):
    desk = login(world.reception)
    page = desk.get("/admin/receptionrecord/lookup/?q=139-1234-5678").get_data(as_text=True)
    assert archive.code in page and archive.name in page and world.sales3.full_name in page
    assert "文三路" not in page  # no contact data beyond what was typed
    assert f"customer={archive.id}" in page
    page = desk.get("/admin/receptionrecord/lookup/?q=杭州明远贸易有限公司").get_data(as_text=True)
    assert archive.code in page and "13912345678" not in page
    # not exact: nothing
    page = desk.get("/admin/receptionrecord/lookup/?q=杭州明远").get_data(as_text=True)
    assert archive.code not in page and "没有找到可关联的档案" in page
    page = desk.get("/admin/receptionrecord/lookup/?q=1391234").get_data(as_text=True)
    assert archive.code not in page
    entries = _lookups(session)
    assert len(entries) == 4 and all(e.actor_id == world.reception.id for e in entries)
    assert archive.code in entries[0].detail and "5678" in entries[0].detail
    assert "13912345678" not in entries[0].detail  # the phone by its last digits only
    # the menu offers it to the front desk
    assert "/admin/receptionrecord/lookup/" in desk.get("/admin/").get_data(as_text=True)


def _walk_in_link(desk, q: str) -> str:
    """The 登记来访并关联此档案 link of the look-up page's first answer."""
    import html
    import re

    page = desk.get(f"/admin/receptionrecord/lookup/?q={q}").get_data(as_text=True)
    hrefs = re.findall(r'href="([^"]*/admin/receptionrecord/new/\?[^"]*customer=[^"]*)"', page)
    assert hrefs, page
    return html.unescape(hrefs[0])


WALK_IN = {"kind": "visit", "visitor_class": "c", "venue": "lounge", "outcome": "pending"}


def test_R_ROLE_1_a_walk_in_is_linked_to_the_archive_looked_up(world, session, login, api,
                                                                archive):
    desk = login(world.reception)
    url = _walk_in_link(desk, "13912345678")
    form = desk.get(url.replace("visitor_phone=", "visitor_name=李先生&x="))
    assert form.status_code == 200
    body = form.get_data(as_text=True)
    assert 'value="李先生"' in body and 'name="customer"' not in body
    # the form shows the archive it will link, as the look-up answered it
    assert 'id="linked-archive"' in body and "本次来访将关联老客户档案" in body
    for shown in (archive.code, archive.name, world.sales3.full_name):
        assert shown in body
    assert "文三路" not in body and 'name="create_customer"' not in body
    resp = desk.post(url, data={**WALK_IN, "visitor_name": "李先生"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    record = session.scalar(select(ReceptionRecord).where(
        ReceptionRecord.visitor_name == "李先生"))
    assert record.customer_id == archive.id and record.is_returning
    # GraphQL: the id the look-up answered is what registerReception takes
    client = api(world.reception)
    found = client(LOOKUP, {"t": "+86 139 1234 5678"})["data"]["customerLookup"]
    assert found == [{"id": f"Customer:{archive.id}", "code": archive.code,
                      "name": archive.name, "ownerName": world.sales3.full_name}]
    out = client("""mutation($input: ReceptionInput!) { registerReception(input: $input) {
        ok errors { message } result { id } } }""", {"input": {
        "kind": "VISIT", "visitorName": "王女士", "customerId": found[0]["id"]}})
    assert out["data"]["registerReception"]["ok"], out
    record = session.scalar(select(ReceptionRecord).where(
        ReceptionRecord.visitor_name == "王女士"))
    assert record.customer_id == archive.id


def test_R_ROLE_1_lookup_is_refused_to_others_and_rate_limited(world, session, login, api,
                                                               archive, unchanged):
    # who may not look up: refused, audited, nothing answered (both doors and the service)
    sales = login(world.sales1)
    with unchanged(denied=1):
        assert sales.get("/admin/receptionrecord/lookup/?q=13912345678").status_code == 403
    client = api(world.sales1)
    client("{ me { user { id } } }")
    with unchanged(denied=1, exclude=frozenset({"api_tokens"})):
        body = client(LOOKUP, {"t": "13912345678"})
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    with unchanged(denied=1), pytest.raises(PermissionDenied):
        reception_lookup.lookup(session, world.sales1, "13912345678")
    # the front desk: at most customer.lookups_per_hour look-ups an hour
    limit = int(settings.get(session, "customer.lookups_per_hour"))
    for _ in range(limit):
        reception_lookup.lookup(session, world.reception, "杭州明远贸易有限公司")
    with unchanged(denied=1), pytest.raises(RuleViolation):
        reception_lookup.lookup(session, world.reception, "13912345678")
    desk = api(world.reception)
    desk("{ me { user { id } } }")
    with unchanged(denied=1, exclude=frozenset({"api_tokens"})):
        body = desk(LOOKUP, {"t": "13912345678"})
        assert body["data"] is None and body["errors"][0]["extensions"].get("rule") == "R-ROLE-1"
    portal = login(world.reception)
    with unchanged(denied=1):
        page = portal.get("/admin/receptionrecord/lookup/?q=13912345678")
        assert archive.code not in page.get_data(as_text=True)


def test_R_ROLE_1_reception_pages_still_work(world, session, login):
    desk = login(world.reception)
    for path in ("/admin/", "/admin/receptionrecord/", "/admin/receptionrecord/new/",
                 "/admin/receptionrecord/rotation/", "/admin/receptionrecord/lookup/"):
        assert desk.get(path).status_code == 200, path


def test_R_ROLE_1_the_walk_in_form_shows_no_archive_it_was_not_answered(
        world, session, login, archive, unchanged):
    """An id typed into the address bar (not a look-up answer of this person) shows nothing
    of the archive and links nothing: no way round the audited, rate-limited look-up."""
    desk = login(world.reception)
    url = _walk_in_link(desk, "13912345678")
    for target in (f"/admin/receptionrecord/new/?customer={archive.id}",
                   url.replace("pick=", "pick=x")):
        with unchanged():
            body = desk.get(target).get_data(as_text=True)
            assert archive.name not in body and archive.code not in body
            assert "无法确认要关联的客户档案" in body
        with unchanged():
            resp = desk.post(target, data={**WALK_IN, "visitor_name": "赵先生"},
                             follow_redirects=True)
            assert resp.status_code == 200
            assert "无法确认要关联的客户档案" in resp.get_data(as_text=True)


def test_R_ROLE_1_reception_opens_no_customer_create_page_through_either_door(
        world, session, login, api, unchanged):
    assert not policy.can(world.reception, "customer.add")
    desk = login(world.reception)
    with unchanged(denied=1):
        assert desk.get("/admin/customer/new/").status_code == 403
    with unchanged(denied=1):
        resp = desk.post("/admin/customer/new/", data={"name": "前台自建客户", "kind": "end",
                                                       "phone": "13800009999"})
        assert resp.status_code == 403
    assert "/admin/customer/new/" not in desk.get("/admin/").get_data(as_text=True)
    client = api(world.reception)
    client("{ me { user { id } } }")
    with unchanged(denied=1, exclude=frozenset({"api_tokens"})):
        body = client("""mutation { createCustomer(input: {name: "前台自建客户", kind: END,
            phone: "13800009999"}) { ok errors { code } } }""")
        assert body["data"]["createCustomer"]["errors"][0]["code"] == "forbidden", body
    # a new visitor's prospect archive comes with the walk-in record, owned by who serves
    page = desk.get("/admin/receptionrecord/new/").get_data(as_text=True)
    assert 'name="create_customer"' in page and "同时建立潜在客户档案" in page
    resp = desk.post("/admin/receptionrecord/new/", data={
        **WALK_IN, "visitor_name": "孙女士", "visitor_phone": "13800007777",
        "create_customer": "y"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:3000]
    from models import Customer

    session.expire_all()
    record = session.scalar(select(ReceptionRecord).where(
        ReceptionRecord.visitor_name == "孙女士"))
    created = session.get(Customer, record.customer_id)
    assert created is not None and created.name == "孙女士" and created.status == "prospect"
    assert created.owner_id == record.assigned_to_id
