"""Section D of the campaign: what the GraphQL endpoint refuses before any resolver runs.

JSON array bodies (batching), text/plain, form posts, multipart and GET queries are refused;
invalid JSON, huge bodies and variables, deeply nested JSON and input objects answer 400/413 (or
a GraphQL error), never a 5xx; introspection is off in the production configuration; an
unexpected exception is masked with the request id."""

from __future__ import annotations

import json

import pytest

from tests.graphql.conftest import make_token
from tests.security import campaign

QUERY = "{ me { user { username } } }"


@pytest.fixture
def token(world, session) -> str:
    return make_token(session, world.sales1)


def _post(client, token, **kwargs):
    headers = kwargs.pop("headers", {})
    headers.setdefault("Authorization", f"Bearer {token}")
    resp = client.post("/graphql", headers=headers, **kwargs)
    campaign.check_response(resp, f"graphql {kwargs.get('content_type', '')}", bad_input=True)
    return resp


def test_refused_transports(app, world, client, token, unchanged) -> None:
    body = json.dumps({"query": QUERY})
    cases = [
        ({"data": json.dumps([{"query": QUERY}, {"query": QUERY}]),
          "content_type": "application/json"}, {400}),
        ({"data": "  \n[" + json.dumps({"query": QUERY}) + "]",
          "content_type": "application/json"}, {400}),
        ({"data": body, "content_type": "text/plain"}, {415}),
        ({"data": {"query": QUERY}}, {415}),  # form post
        ({"data": body, "content_type": "application/graphql"}, {415}),
        ({"data": body, "content_type": "multipart/form-data; boundary=x"}, {415, 400}),
        ({"data": body, "content_type": "application/x-www-form-urlencoded"}, {415}),
    ]
    with unchanged(exclude=frozenset({"api_tokens"})):  # last-used time of the token
        for kwargs, expected in cases:
            resp = _post(client, token, **kwargs)
            assert resp.status_code in expected, (kwargs.get("content_type"), resp.status_code)
            assert "data" not in (resp.get_json(silent=True) or {}) or \
                resp.get_json()["data"] is None
        resp = client.get("/graphql", query_string={"query": QUERY},
                          headers={"Authorization": f"Bearer {token}"})
        campaign.check_response(resp, "GET query", bad_input=True)
        assert resp.status_code in (400, 405)
        assert "sales1" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("body", [
    b"{", b"{\"query\": ", b"\xff\xfe", b"null", b"42", b"\"string\"", b"{}",
    b"{\"query\": null}", b"{\"query\": 42}", b"{\"query\": \"{ me { user { username } } }\", "
    b"\"variables\": 42}", b"{\"query\": \"{ me { user { username } } }\", \"variables\": [1]}",
    b"{\"query\": \"{ me { user { username } } }\", \"operationName\": 42}",
    b"{\"query\": \"" + b"{" * 5000 + b"\"}",
    b"[" * 50000 + b"]" * 50000,
    b"{\"query\": \"{ me { user { username } } }\", \"variables\": " + b"[" * 50000 + b"]" * 50000 + b"}",
    b"{\"query\": \"{ me { user { username } } }\", \"variables\": {\"a\": " + b"{\"a\": " * 30000
    + b"1" + b"}" * 30001 + b"}",
    b"{\"query\": \"{ me { user { username } } }\", \"x\": \"\\ud800\"}",
])
def test_invalid_json_and_deep_nesting_never_5xx(app, world, client, token, body) -> None:
    resp = _post(client, token, data=body, content_type="application/json")
    assert resp.status_code in (200, 400, 413), resp.status_code
    if resp.status_code == 200:  # answered as GraphQL: an error, no data leak of others
        assert resp.get_json().get("errors") or resp.get_json().get("data")


def test_nul_characters_are_refused_before_any_resolver(app, world, session, client,
                                                         token) -> None:
    """PostgreSQL text cannot hold NUL: found by the fuzzer as a masked 500 on PostgreSQL."""
    cust = world.customers["sales1"][0]
    before = campaign.db_fingerprint(session, {"api_tokens"})
    call = f'closeCustomer(customerId: "Customer:{cust.id}", reason: REASON) {{ ok }}'
    mutation = "mutation($r: String!) { " + call.replace("REASON", "$r") + " }"
    literal = "mutation { " + call.replace("REASON", '"a\\u0000b"') + " }"
    for body in ({"query": mutation, "variables": {"r": "a\x00b"}},
                 {"query": literal, "variables": {}},
                 {"query": QUERY, "variables": {"x\x00": 1}}):
        resp = _post(client, token, json=body)
        assert resp.status_code == 400, (body, resp.status_code, resp.get_data(as_text=True))
    assert campaign.db_fingerprint(session, {"api_tokens"}) == before


def test_huge_variables_are_413(app, world, client, token) -> None:
    big = {"query": "query($s: String) { me { user { username } } }",
           "variables": {"s": "x" * (1024 * 1024 + 10)}}
    resp = _post(client, token, data=json.dumps(big), content_type="application/json")
    assert resp.status_code == 413


def test_deeply_nested_input_object_is_refused(app, world, client, token) -> None:
    """A customer filter nested through a variable of JSON depth 500: a GraphQL error (the
    input type is not recursive) or 400, never a 5xx, never a crash."""
    nested: dict = {"name": "x"}
    for _ in range(500):
        nested = {"and": nested, "name": "x"}
    q = "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }"
    resp = _post(client, token, data=json.dumps({"query": q, "variables": {"f": nested}}),
                 content_type="application/json")
    assert resp.status_code in (200, 400, 413)
    if resp.status_code == 200:
        assert resp.get_json().get("errors")
    # the same depth inline in the document: the token limit stops it before parsing ends
    inline = "{ customers(filter: " + "{name: \"x\", and: " * 500 + "{}" + "}" * 500 + \
        ") { totalCount } }"
    resp = _post(client, token, data=json.dumps({"query": inline}),
                 content_type="application/json")
    assert resp.status_code in (200, 400, 413)
    if resp.status_code == 200:
        assert resp.get_json().get("errors")


def test_unexpected_exceptions_are_masked_with_a_request_id(app, world, client, token,
                                                            monkeypatch, caplog) -> None:
    from portal import policy

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals: password=hunter2")

    monkeypatch.setattr(policy, "visible_fields", boom)
    monkeypatch.setattr(policy, "group_visible", boom)
    resp = client.post("/graphql",
                       json={"query": "{ customers(first: 1) { nodes { name phone } } }"},
                       headers={"Authorization": f"Bearer {token}", "X-Request-Id": "req-42"})
    campaign.check_response(resp, "masked error")
    text = resp.get_data(as_text=True)
    assert "hunter2" not in text and "secret internals" not in text
    errors = resp.get_json()["errors"]
    assert errors and all(e["message"] == "Unexpected error" for e in errors), errors
    assert any(e.get("extensions", {}).get("requestId") == "req-42" for e in errors), errors
    # the full trace is in the server log, tied to the same request id
    assert any("req-42" in r.getMessage() and r.exc_info for r in caplog.records)


class TestProductionConfiguration:
    """Introspection and GraphiQL are off with the production settings."""

    @pytest.fixture
    def app_overrides(self) -> dict:
        from portal.config import ProductionConfig

        return {"GRAPHQL_INTROSPECTION": ProductionConfig.GRAPHQL_INTROSPECTION,
                "GRAPHQL_GRAPHIQL": ProductionConfig.GRAPHQL_GRAPHIQL}

    def test_introspection_refused(self, world, client, token) -> None:
        for q in ("{ __schema { types { name } } }", "{ __type(name: \"Customer\") { name } }",
                  "query { ...F } fragment F on Query { __schema { queryType { name } } }"):
            resp = _post(client, token, json={"query": q})
            body = resp.get_json()
            assert body.get("errors"), body
            assert not body.get("data"), body
        # __typename stays allowed (clients rely on it)
        resp = _post(client, token, json={"query": "{ __typename }"})
        assert resp.get_json()["data"] == {"__typename": "Query"}

    def test_no_graphiql(self, client) -> None:
        resp = client.get("/graphql", headers={"Accept": "text/html"})
        campaign.check_response(resp)
        assert resp.status_code in (401, 404, 405)
        assert "graphiql" not in resp.get_data(as_text=True).lower()


def test_production_config_really_switches_introspection_off() -> None:
    from portal.config import ProductionConfig

    assert ProductionConfig.GRAPHQL_INTROSPECTION is False
    assert ProductionConfig.GRAPHQL_GRAPHIQL is False
