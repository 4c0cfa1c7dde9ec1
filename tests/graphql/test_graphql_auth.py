"""Authentication of /graphql and the transport rules (security A/B/D): tokens (none, bad,
expired, revoked, deactivated user), the session cookie with CSRF for mutations, POST JSON
only, no batching, GraphiQL and introspection switches, and the /account/tokens page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from models import ApiToken, AuditEntry, Customer
from models.base import utcnow
from portal.services import tokens as token_service
from portal.services import users as user_service
from tests.graphql.conftest import Api, make_token

Q = "{ me { user { username } } }"
CREATE = 'mutation { createCustomer(input: {name: "新客户甲", phone: "13912345678"}) ' \
         "{ ok errors { code message } result { id } } }"


def _denied_entries(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry)
                          .where(AuditEntry.outcome == "denied"))


def _customers(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Customer))


def test_valid_token_works_and_records_last_use(world, session, client) -> None:
    raw = make_token(session, world.sales1)
    body = Api(client, raw)(Q)
    assert body["data"]["me"]["user"]["username"] == "sales1"
    session.expire_all()
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == world.sales1.id))
    assert token.last_used_at is not None


@pytest.mark.parametrize("case", ["none", "garbage", "wrong_scheme", "unknown", "expired",
                                  "revoked", "deactivated"])
def test_refused_credentials_answer_401_with_one_denied_entry(world, session, client,
                                                              case) -> None:
    headers = {}
    if case == "garbage":
        headers["Authorization"] = "Bearer not-a-token"
    elif case == "wrong_scheme":
        headers["Authorization"] = "Basic c2FsZXMxOnB3"
    elif case == "unknown":
        headers["Authorization"] = "Bearer " + token_service.TOKEN_PREFIX + "x" * 43
    elif case == "expired":
        raw = make_token(session, world.sales1)
        session.execute(ApiToken.__table__.update().values(
            expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
        headers["Authorization"] = f"Bearer {raw}"
    elif case == "revoked":
        raw = make_token(session, world.sales1)
        tok = session.scalar(select(ApiToken))
        token_service.revoke_token(session, world.sales1, tok.id)
        headers["Authorization"] = f"Bearer {raw}"
    elif case == "deactivated":
        raw = make_token(session, world.sales2, revoked_at=None)
        # even if a token row were left unrevoked, an inactive user is refused
        world.sales2.is_active = False
        session.commit()
        headers["Authorization"] = f"Bearer {raw}"
    before = _denied_entries(session)
    resp = client.post("/graphql", json={"query": Q}, headers=headers)
    assert resp.status_code == 401
    assert resp.is_json and resp.get_json()["errors"][0]["extensions"]["code"] == \
        "UNAUTHENTICATED"
    assert "data" not in resp.get_json()
    assert _denied_entries(session) == before + 1


def test_deactivating_a_user_kills_their_tokens(world, session, client) -> None:
    from portal.services import customers

    if not hasattr(customers, "redistribute_on_departure"):
        pytest.skip("users.deactivate_user needs customers.redistribute_on_departure")
    raw = make_token(session, world.sales3)
    assert Api(client, raw)(Q)["data"]["me"]["user"]["username"] == "sales3"
    user_service.deactivate_user(session, world.sysadmin, world.sales3.id, "left the company")
    assert client.post("/graphql", json={"query": Q},
                       headers={"Authorization": f"Bearer {raw}"}).status_code == 401


def _csrf_from_tokens_page(c) -> str:
    html = c.get("/account/tokens").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def test_cookie_auth_reads_without_csrf_but_mutations_need_it(world, session, login) -> None:
    c = login(world.sales1)
    resp = c.post("/graphql", json={"query": Q})
    assert resp.status_code == 200
    assert resp.get_json()["data"]["me"]["user"]["username"] == "sales1"

    before, denied = _customers(session), _denied_entries(session)
    for headers in ({}, {"X-CSRFToken": "forged"}):
        resp = c.post("/graphql", json={"query": CREATE}, headers=headers)
        assert resp.status_code == 403
        body = resp.get_json()
        assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "CSRF"
    assert _customers(session) == before
    assert _denied_entries(session) == denied + 2

    resp = c.post("/graphql", json={"query": CREATE},
                  headers={"X-CSRFToken": _csrf_from_tokens_page(c)})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["data"]["createCustomer"]["ok"] is True
    assert _customers(session) == before + 1


def test_token_mutations_need_no_csrf(world, session, api) -> None:
    before = _customers(session)
    body = api(world.sales1)(CREATE)
    assert body["data"]["createCustomer"]["ok"] is True, body
    assert _customers(session) == before + 1


@pytest.mark.parametrize("kind", ["get", "get_query", "text_plain", "form", "multipart",
                                  "array", "bad_json", "huge"])
def test_transport_refusals(world, session, client, kind) -> None:
    auth = {"Authorization": f"Bearer {make_token(session, world.gm)}"}
    before = _customers(session)
    if kind == "get":
        resp = client.get("/graphql", headers={**auth, "Accept": "text/html"})
    elif kind == "get_query":
        resp = client.get("/graphql?query=" + Q, headers=auth)
    elif kind == "text_plain":
        resp = client.post("/graphql", data='{"query": "' + Q + '"}',
                           headers={**auth, "Content-Type": "text/plain"})
    elif kind == "form":
        resp = client.post("/graphql", data={"query": CREATE}, headers=auth)
    elif kind == "multipart":
        resp = client.post("/graphql", data={"operations": '{"query": "' + Q + '"}',
                                             "map": "{}"},
                           content_type="multipart/form-data", headers=auth)
    elif kind == "array":
        resp = client.post("/graphql", json=[{"query": Q}, {"query": CREATE}], headers=auth)
    elif kind == "bad_json":
        resp = client.post("/graphql", data="{not json", headers={
            **auth, "Content-Type": "application/json"})
    else:
        resp = client.post("/graphql", json={"query": Q, "variables": {"x": "y" * 300_000}},
                           headers=auth)
    assert 400 <= resp.status_code < 500, (kind, resp.status_code)
    assert _customers(session) == before


def test_graphiql_only_when_enabled(world, session, client, app) -> None:
    assert app.config["GRAPHQL_GRAPHIQL"] is False
    resp = client.get("/graphql", headers={"Accept": "text/html"})
    assert resp.status_code == 405
    assert b"graphiql" not in resp.data.lower()


class TestWithGraphiQL:
    @pytest.fixture
    def app_overrides(self) -> dict:
        return {"GRAPHQL_GRAPHIQL": True}

    def test_graphiql_is_served_in_development(self, client) -> None:
        resp = client.get("/graphql", headers={"Accept": "text/html"})
        assert resp.status_code == 200 and b"graphiql" in resp.data.lower()

    def test_graphiql_assets_are_local_not_from_a_cdn(self, client) -> None:
        """Issue 14: GraphiQL hangs on intranets when it loads from a public CDN."""
        import re

        html = client.get("/graphql", headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "unpkg.com" not in html and "jsdelivr" not in html
        assets = re.findall(r'(?:src|href)="(/graphql/static/[^"]+)"', html)
        assert len(assets) == 7
        for url in assets:
            resp = client.get(url)
            assert resp.status_code == 200 and len(resp.data) > 500, url
        assert client.get("/graphql/static/LICENSES.txt").status_code == 404


INTROSPECT = "{ __schema { types { name } } }"


def test_introspection_on_by_default_in_testing(world, api) -> None:
    assert api(world.gm)(INTROSPECT)["data"]["__schema"]["types"]


class TestProductionSwitches:
    @pytest.fixture
    def app_overrides(self) -> dict:
        return {"GRAPHQL_INTROSPECTION": False}

    def test_introspection_refused(self, world, api) -> None:
        body = api(world.gm)(INTROSPECT)
        assert body["data"] is None and "introspection" in body["errors"][0]["message"].lower()

    def test_no_field_suggestions(self, world, api) -> None:
        body = api(world.gm)("{ custmers { totalCount } }")
        assert "Did you mean" not in body["errors"][0]["message"]


# -- /account/tokens ------------------------------------------------------------------------


def test_tokens_page_requires_login(client) -> None:
    assert client.get("/account/tokens").status_code == 302
    assert client.post("/account/tokens", data={"name": "x"}).status_code == 302


def test_token_created_once_listed_used_and_revoked(world, session, login) -> None:
    c = login(world.sales1)
    resp = c.post("/account/tokens", data={"name": "手机App", "expires_in_days": "30"})
    assert resp.status_code == 201
    assert resp.headers["Cache-Control"] == "no-store"
    raw = re.search(r'<code id="new-token"[^>]*>([^<]+)</code>',
                    resp.get_data(as_text=True)).group(1)
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == world.sales1.id))
    assert token.token_hash != raw and raw not in token.token_hash
    assert token.prefix == raw[:token_service.PREFIX_LENGTH]
    assert token.expires_at > utcnow() + timedelta(days=29)

    listing = c.get("/account/tokens").get_data(as_text=True)
    assert raw not in listing and token.prefix in listing and "手机App" in listing

    api = Api(c.application.test_client(), raw)
    assert api(Q)["data"]["me"]["user"]["username"] == "sales1"

    assert c.post(f"/account/tokens/{token.id}/revoke").status_code == 302
    assert api.post(Q).status_code == 401


def test_token_page_validation_and_foreign_ids(world, session, login) -> None:
    c = login(world.sales1)
    assert c.post("/account/tokens", data={"name": "", "expires_in_days": "30"}
                  ).status_code == 400
    assert c.post("/account/tokens", data={"name": "x", "expires_in_days": "9999"}
                  ).status_code == 400
    make_token(session, world.sales2)
    other = session.scalar(select(ApiToken).where(ApiToken.user_id == world.sales2.id))
    assert c.post(f"/account/tokens/{other.id}/revoke").status_code == 404
    session.expire_all()
    assert session.get(ApiToken, other.id).revoked_at is None
    assert c.post("/account/tokens/999999/revoke").status_code == 404
