"""Limits (security D): depth, aliases (fragments included), tokens, page size and cost.
Limit + 1 is refused before any resolver runs; the limit itself is accepted."""

from __future__ import annotations

import logging

import pytest
from strawberry.extensions import SchemaExtension

from graphql_api.schema import schema

LIMITS = {"GRAPHQL_MAX_DEPTH": 6, "GRAPHQL_MAX_ALIASES": 5, "GRAPHQL_MAX_TOKENS": 200,
          "GRAPHQL_MAX_COST": 1000, "GRAPHQL_MAX_PAGE_SIZE": 100}


@pytest.fixture
def app_overrides() -> dict:
    return dict(LIMITS)


class Calls:
    count = 0


class CountResolvers(SchemaExtension):
    def resolve(self, _next, root, info, *args, **kwargs):
        Calls.count += 1
        return _next(root, info, *args, **kwargs)


@pytest.fixture
def counted(monkeypatch):
    monkeypatch.setattr(schema, "extensions", [*schema.extensions, CountResolvers])
    Calls.count = 0
    return Calls


@pytest.fixture
def gql(world, api):
    return api(world.gm)


def depth_query(depth: int) -> str:
    """departments → nodes → branches → department → … → name: ``depth`` field levels."""
    chain = ["departments(first: 1)", "nodes"]
    while len(chain) < depth - 1:
        chain.append("branches" if chain[-1] in ("nodes", "department") else "department")
    body = "name"
    for field in reversed(chain):
        body = f"{field} {{ {body} }}"
    return "{ " + body + " }"


def alias_query(n: int) -> str:
    """n aliases, half of them inside a fragment (counted where the fragment is spread)."""
    inside = n // 2
    outside = n - inside
    frag = " ".join(f"f{i}: clearance" for i in range(inside)) or "clearance"
    top = " ".join(f"a{i}: me {{ clearance }}" for i in range(outside))
    return f"query {{ {top} me {{ ...F }} }} fragment F on Viewer {{ {frag} }}"


def token_query(tokens: int) -> str:
    return "{ me { clearance" + " clearance" * (tokens - 6) + " } }"


def cost_query(extra: int) -> str:
    """customers(first:100) × complaints (10 each) = 1000; ``extra`` adds a cost-1 field."""
    more = " departments(first: 1) { nodes { id } }" if extra else ""
    return "{ customers(first: 100) { nodes { complaints { number } } }" + more + " }"


CASES = {
    "depth": depth_query,
    "aliases": alias_query,
    "tokens": token_query,
}


def _assert_refused(body: dict, kind: str) -> None:
    assert body.get("data") is None, body
    codes = [(e.get("extensions") or {}).get("limit") for e in body["errors"]]
    messages = " ".join(e["message"] for e in body["errors"])
    assert kind in codes or (kind == "tokens" and "tokens" in messages), body


@pytest.mark.parametrize("kind", ["depth", "aliases", "tokens"])
def test_limit_exactly_is_accepted(gql, counted, kind) -> None:
    limit = LIMITS[{"depth": "GRAPHQL_MAX_DEPTH", "aliases": "GRAPHQL_MAX_ALIASES",
                    "tokens": "GRAPHQL_MAX_TOKENS"}[kind]]
    body = gql(CASES[kind](limit))
    assert "errors" not in body, body
    assert counted.count > 0


@pytest.mark.parametrize("kind", ["depth", "aliases", "tokens"])
def test_limit_plus_one_is_refused_before_any_resolver(gql, counted, kind) -> None:
    limit = LIMITS[{"depth": "GRAPHQL_MAX_DEPTH", "aliases": "GRAPHQL_MAX_ALIASES",
                    "tokens": "GRAPHQL_MAX_TOKENS"}[kind]]
    body = gql(CASES[kind](limit + 1))
    _assert_refused(body, kind)
    assert counted.count == 0


def test_cost_limit(gql, counted) -> None:
    body = gql(cost_query(0))
    assert "errors" not in body, body
    counted.count = 0
    body = gql(cost_query(1))
    _assert_refused(body, "cost")
    assert counted.count == 0


@pytest.mark.parametrize("how", ["literal", "variable"])
def test_page_size_limit(gql, counted, how) -> None:
    def ask(n: int) -> dict:
        if how == "literal":
            return gql(f"{{ users(first: {n}) {{ nodes {{ id }} }} }}")
        return gql("query($n: Int) { users(first: $n) { nodes { id } } }", {"n": n})

    assert "errors" not in ask(100)
    counted.count = 0
    _assert_refused(ask(101), "pageSize")
    _assert_refused(ask(-1), "pageSize")
    assert counted.count == 0


def test_aliases_hidden_in_nested_fragments_are_counted(gql, counted) -> None:
    q = ("query { me { ...A } } fragment A on Viewer { x1: clearance x2: clearance ...B } "
         "fragment B on Viewer { x3: clearance x4: clearance x5: clearance x6: clearance }")
    _assert_refused(gql(q), "aliases")
    assert counted.count == 0


def test_cyclic_or_unknown_fragments_do_not_crash(gql) -> None:
    body = gql("query { me { ...A } } fragment A on Viewer { ...A clearance }")
    assert body["data"] is None and body["errors"]
    body = gql("query { me { ...Missing } }")
    assert body["data"] is None and body["errors"]
    assert all(e["message"] != "Unexpected error" for e in body["errors"])


def test_unexpected_errors_are_masked_and_logged(gql, monkeypatch, caplog) -> None:
    from graphql_api import queries

    monkeypatch.setattr(queries.policy, "AREAS", None)  # me.allowedActions now raises
    with caplog.at_level(logging.ERROR, logger="graphql_api"):
        resp = gql.post("{ me { clearance allowedActions } }")
    assert resp.status_code == 200
    body = resp.get_json()
    error = body["errors"][0]
    assert error["message"] == "Unexpected error"
    assert error["extensions"] == {"code": "INTERNAL", "requestId": resp.headers["X-Request-Id"]}
    assert "AttributeError" not in resp.get_data(as_text=True)
    assert "Traceback" in caplog.text and "AttributeError" in caplog.text
    assert resp.headers["X-Request-Id"] in caplog.text


def test_domain_errors_are_shown(gql) -> None:
    body = gql('{ customers(first: 1, after: "garbage") { nodes { id } } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["extensions"]["reason"] == "BAD_CURSOR"
    assert "cursor" in body["errors"][0]["message"]
