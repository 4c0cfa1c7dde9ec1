"""Section C: CSRF on every POST endpoint of the portal, with CSRF protection switched on as in
production. A POST without a token, with a wrong token or with another session's token is
refused with 400, changes nothing, and leaves exactly one 'denied' audit entry."""

from __future__ import annotations

import re

import pytest
from flask import g

from tests.factories import PASSWORD
from tests.security import campaign
from tests.security.test_admin_surface import _concrete

ROLE_FOR_VIEW = {"customer": "supervisor", "customer_import": "supervisor",
                 "complaint": "service", "receptionrecord": "reception",
                 "creditevaluation": "finance", "creditline": "finance", "grant": "secadmin"}
_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def app_overrides() -> dict:
    return {"WTF_CSRF_ENABLED": True}


def _token(client, path: str = "/login") -> str:
    # Flask-WTF caches the token on ``g``; the tests share one app context across requests
    # (production has one per request), so drop it to read this session's own token.
    g.pop("csrf_token", None)
    body = client.get(path).get_data(as_text=True)
    g.pop("csrf_token", None)
    m = _TOKEN.search(body)
    assert m, f"no csrf_token on {path}"
    return m.group(1)


@pytest.fixture
def csrf_login(app):
    """Log in through the real form, CSRF token included (the plain ``login`` cannot)."""

    def _login(user):
        c = app.test_client()
        resp = c.post("/login", data={"username": user.username, "password": PASSWORD,
                                      "csrf_token": _token(c)})
        assert resp.status_code == 302, resp.status_code
        return c

    return _login


def _post_rules(app) -> list:
    return sorted((r for r in app.url_map.iter_rules()
                   if "POST" in r.methods and r.endpoint not in ("graphql",)),
                  key=lambda r: r.rule)


def _data_for(rule, world) -> dict:
    cust = world.customers["sales1"][0]
    return {"name": "CSRF 改名", "phone": "13900000000", "id": str(cust.id),
            "list_form_pk": str(cust.id), "importance": "A", "action": "reassign",
            "rowid": str(cust.id), "version": str(cust.version), "username": "csrfuser",
            "current_password": PASSWORD, "new_password": "Another-password-9",
            "confirm_password": "Another-password-9", "expires_in_days": "30",
            "reason": "csrf", "kind": "call", "new_owner": str(world.sales2.id)}


def test_login_without_token_is_refused_and_audited(app, world, client, unchanged) -> None:
    with unchanged(denied=1, exclude=frozenset({"users"})):
        resp = client.post("/login", data={"username": "sales1", "password": PASSWORD})
        campaign.check_response(resp, "login without CSRF")
    campaign.count("csrf_cases")
    assert resp.status_code == 400
    # and nobody is logged in
    assert client.get("/admin/customer/").status_code == 302


def test_login_and_a_form_with_the_right_token_work(app, world, csrf_login, session) -> None:
    """The control: with the page's own token the same requests succeed."""
    c = csrf_login(world.sales1)
    resp = c.post("/account/tokens", data={"name": "ci", "expires_in_days": "30",
                                           "csrf_token": _token(c, "/account/tokens")})
    campaign.check_response(resp)
    assert resp.status_code == 201, resp.get_data(as_text=True)[-1500:]


@pytest.mark.parametrize("variant", ["missing", "wrong", "other_session"])
def test_every_post_endpoint_refuses_a_bad_csrf_token(app, world, csrf_login, unchanged,
                                                      variant) -> None:
    rules = _post_rules(app)
    assert len(rules) > 40
    clients: dict = {}
    other = csrf_login(world.sales2)
    foreign_token = _token(other, "/account/tokens")
    for rule in rules:
        path = _concrete(rule)
        area = rule.rule.split("/")[2] if rule.rule.startswith("/admin/") else ""
        role = ROLE_FOR_VIEW.get(area, "sysadmin" if area else "sales")
        if role not in clients:
            clients[role] = csrf_login(world.roles[role])
        c = clients[role]
        data = _data_for(rule, world)
        if variant == "wrong":
            data["csrf_token"] = "IjAxMjM0NTY3ODkwMTIzNDU2Nzg5MDEyMzQ1Njc4OSI.Zz.wrong"
        elif variant == "other_session":
            data["csrf_token"] = foreign_token
        query = f"?id={world.customers['sales1'][0].id}"
        with unchanged(denied=1):
            resp = c.post(path + query, data=data, headers={"X-CSRFToken": data.get(
                "csrf_token", "")} if variant != "missing" else {})
            campaign.check_response(resp, f"POST {path} ({variant} CSRF)")
        campaign.count("csrf_cases")
        if resp.status_code != 400:
            campaign.count("csrf_unexpected")
        assert resp.status_code == 400, (path, variant, resp.status_code)
    # the session still works afterwards (a refusal does not log anyone out)
    assert clients["sales"].get("/admin/customer/").status_code == 200


def test_graphql_cookie_mutation_without_csrf_header_is_refused(app, world, csrf_login,
                                                                unchanged) -> None:
    c = csrf_login(world.sales1)
    cust = world.customers["sales1"][0]
    mutation = ("mutation($id: ID!) { updateCustomer(customerId: $id, input: {notes: \"csrf\"}) "
                "{ __typename } }")
    for headers in ({}, {"X-CSRFToken": "wrong"}):
        with unchanged(denied=1):
            resp = c.post("/graphql", json={"query": mutation,
                                             "variables": {"id": f"Customer:{cust.id}"}},
                          headers=headers)
            campaign.check_response(resp, "graphql mutation without CSRF")
        campaign.count("csrf_cases")
        assert resp.status_code == 403, resp.get_data(as_text=True)
