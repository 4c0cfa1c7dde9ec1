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


def test_R_ROLE_1_a_walk_in_is_linked_to_the_archive_looked_up(world, session, login, api,
                                                                archive):
    desk = login(world.reception)
    form = desk.get(f"/admin/receptionrecord/new/?customer={archive.id}&visitor_name=李先生")
    assert form.status_code == 200
    body = form.get_data(as_text=True)
    assert 'value="李先生"' in body and 'name="customer"' not in body
    resp = desk.post(f"/admin/receptionrecord/new/?customer={archive.id}", data={
        "kind": "visit", "visitor_class": "c", "venue": "lounge", "visitor_name": "李先生",
        "outcome": "pending"})
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
