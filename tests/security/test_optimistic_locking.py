"""Issue 12 (10): optimistic locking is required, not optional (security B, R-AUD-1's
"before → after" only means something when nobody overwrites a change they never saw).

- GraphQL: every update mutation takes ``expectedVersion: Int!``; without it the request is a
  validation error, with a stale one a CONFLICT; nothing changes either way.
- Portal: every edit and workflow form carries the version (a hidden field); a missing one is a
  clear validation message, a stale one the conflict message; nothing changes either way."""

from __future__ import annotations

import re

import pytest

from portal.services import credit as credit_svc
from tests.graphql.conftest import Api, make_token
from tests.graphql.data import add_credit

UPDATE_CUSTOMER = """mutation($id: ID!, $v: Int!) {
  updateCustomer(customerId: $id, input: {notes: "changed"}, expectedVersion: $v) {
    ok errors { code field message } result { notes version } } }"""
UPDATE_CUSTOMER_WITHOUT = """mutation($id: ID!) {
  updateCustomer(customerId: $id, input: {notes: "changed"}) { ok } }"""
REVIEW = """mutation($id: ID!) { reviewCreditLine(creditLineId: $id, accept: true) { ok } }"""
MISSING = "没有说明您看到的是记录的哪个版本"


@pytest.fixture
def api(app, session):
    return lambda user: Api(app.test_client(), make_token(session, user))


def _gql_errors(body: dict) -> list[str]:
    return [e["message"] for e in body.get("errors") or []]


def test_R_AUD_1_every_graphql_update_requires_expected_version(app):
    """The schema: every mutation that takes the version takes it as ``Int!``."""
    from graphql_api.schema import schema

    mutation = schema._schema.mutation_type
    taking = {name: f.args["expectedVersion"].type for name, f in mutation.fields.items()
              if "expectedVersion" in f.args}
    assert len(taking) >= 18, sorted(taking)
    assert {name: str(t) for name, t in taking.items() if str(t) != "Int!"} == {}


def test_R_AUD_1_graphql_update_without_or_with_stale_version_changes_nothing(
        world, session, api, unchanged):
    c = world.customers["sales1"][0]
    client = api(world.sales1)
    client("{ me { user { id } } }")  # the token's first use is recorded once
    with unchanged(exclude=frozenset({"api_tokens"})):
        resp = client.post(UPDATE_CUSTOMER_WITHOUT, {"id": f"Customer:{c.id}"})
        assert resp.status_code in (200, 400)
        body = resp.get_json()
        assert body.get("data") is None
        assert any("expectedVersion" in m for m in _gql_errors(body)), body
        # an explicit null is refused the same way, as the client's mistake
        resp = client.post(UPDATE_CUSTOMER, {"id": f"Customer:{c.id}", "v": None})
        assert resp.status_code == 400
        assert resp.get_json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        # a stale version: a CONFLICT in the payload
        body = client(UPDATE_CUSTOMER, {"id": f"Customer:{c.id}", "v": c.version + 7})
        payload = body["data"]["updateCustomer"]
        assert not payload["ok"] and payload["errors"][0]["code"] == "conflict"
    # a workflow mutation without it
    line = add_credit(session, c, world.manager)
    session.commit()
    api(world.finance)("{ me { user { id } } }")
    with unchanged(exclude=frozenset({"api_tokens"})):
        body = api(world.finance).post(REVIEW, {"id": f"CreditLine:{line.id}"}).get_json()
        assert body.get("data") is None and any(
            "expectedVersion" in m for m in _gql_errors(body)), body
    # with the version it goes through
    body = client(UPDATE_CUSTOMER, {"id": f"Customer:{c.id}", "v": c.version})
    assert body["data"]["updateCustomer"]["ok"], body


def _edit_form(c) -> dict[str, str]:
    return {"name": c.name, "kind": c.kind, "source": c.source or "",
            "importance": c.importance, "intent": c.intent, "notes": "changed"}


def test_R_AUD_1_portal_edit_without_or_with_stale_version_changes_nothing(
        world, session, login, unchanged):
    c = world.customers["sales1"][0]
    sales = login(world.sales1)
    page = sales.get(f"/admin/customer/edit/?id={c.id}").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="version"[^>]*type="hidden"|type="hidden"[^>]*'
                     r'name="version"', page), "the edit form carries the version"
    with unchanged():
        resp = sales.post(f"/admin/customer/edit/?id={c.id}", data=_edit_form(c))
        assert resp.status_code == 200 and MISSING in resp.get_data(as_text=True)
        resp = sales.post(f"/admin/customer/edit/?id={c.id}",
                          data={**_edit_form(c), "version": "abc"})
        assert resp.status_code == 200 and MISSING in resp.get_data(as_text=True)
        resp = sales.post(f"/admin/customer/edit/?id={c.id}",
                          data={**_edit_form(c), "version": str(c.version + 3)},
                          follow_redirects=True)
        assert "已有其他人修改了它" in resp.get_data(as_text=True)
    resp = sales.post(f"/admin/customer/edit/?id={c.id}",
                      data={**_edit_form(c), "version": str(c.version)})
    assert resp.status_code == 302
    session.expire_all()
    assert c.notes == "changed"


def test_R_AUD_1_portal_workflow_form_without_or_with_stale_version_changes_nothing(
        world, session, login, unchanged):
    c = world.customers["sales1"][0]
    line = add_credit(session, c, world.manager)
    session.commit()
    finance = login(world.finance)
    url = f"/admin/creditline/workflow/?id={line.id}&op=review_accept"
    page = finance.get(url).get_data(as_text=True)
    assert f'name="version" type="hidden" value="{line.version}"' in page or \
        f'type="hidden" name="version" value="{line.version}"' in page, page
    with unchanged():
        resp = finance.post(url, data={"note": "资料齐全"}, follow_redirects=True)
        assert MISSING in resp.get_data(as_text=True)
        resp = finance.post(url, data={"note": "资料齐全", "version": str(line.version + 1)},
                            follow_redirects=True)
        assert resp.status_code == 200
    assert credit_svc.line_in_force(session, c.id) is None
    resp = finance.post(url, data={"note": "资料齐全", "version": str(line.version)})
    assert resp.status_code == 302
    session.expire_all()
    assert line.status == "reviewed"


def test_R_AUD_1_portal_inline_list_edit_carries_the_version(world, session, login, unchanged):
    c = world.customers["sales1"][0]
    sales = login(world.sales1)
    page = sales.get("/admin/customer/").get_data(as_text=True)
    assert re.search(rf'data-pk="{c.id}"[^>]*data-version="{c.version}"|'
                     rf'data-version="{c.version}"[^>]*data-pk="{c.id}"', page)
    other = "A" if c.importance != "A" else "B"
    with unchanged():
        resp = sales.post("/admin/customer/ajax/update/",
                          data={"list_form_pk": str(c.id), "importance": other})
        assert resp.status_code == 400 and MISSING in resp.get_data(as_text=True)
        resp = sales.post("/admin/customer/ajax/update/", data={
            "list_form_pk": str(c.id), "importance": other, "version": str(c.version + 1)})
        assert resp.status_code == 400
    resp = sales.post("/admin/customer/ajax/update/", data={
        "list_form_pk": str(c.id), "importance": other, "version": str(c.version)})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    session.expire_all()
    assert c.importance == other
