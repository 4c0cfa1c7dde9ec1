"""Issue 12 (12): a crafted pagination cursor (a list, bool, float, huge integer or a value of
the wrong type where the order column's value is expected) and a variable of the wrong type are
the client's mistakes: a BAD_USER_INPUT / validation answer, never INTERNAL or a 500."""

from __future__ import annotations

import base64
import json

import pytest


def _cursor(parts: list) -> str:
    raw = json.dumps(parts, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.fixture
def gql(world, api):
    return api(world.gm)


CRAFTED = [
    ["id", ["v", None], [1, 2]], ["id", ["v", None], True], ["id", ["v", None], 1.5],
    ["id", ["v", None], 10**30], ["id", ["v", None], -(10**30)],
    ["name", ["v", [1, 2]], 3], ["name", ["v", True], 3], ["name", ["v", 1.5], 3],
    ["name", ["v", 10**30], 3], ["name", ["v", {"a": 1}], 3], ["name", ["t", "2020-01-01"], 3],
    ["reg-", ["v", "not-a-date"], 3], ["reg-", ["t", 5], 3], ["reg-", ["d", []], 3],
    ["id", "v", 3], ["id"], "just a string", 12,
]
ORDERS = {"id": "ID_ASC", "name": "NAME_ASC", "reg-": "REGISTERED_AT_DESC"}


@pytest.mark.parametrize("parts", CRAFTED, ids=[json.dumps(p)[:40] for p in CRAFTED])
def test_R_SEC_D_crafted_cursor_is_bad_user_input(gql, parts) -> None:
    key = parts[0] if isinstance(parts, list) and parts and parts[0] in ORDERS else "id"
    order = ORDERS[key]
    resp = gql.post(f"query($a: String) {{ customers(first: 2, after: $a, orderBy: {order}) "
                    "{ nodes { id } } }", {"a": _cursor(parts)})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    error = resp.get_json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert "cursor" in error["message"]


@pytest.mark.parametrize(("decl", "value"), [("Int", "5"), ("Int", 1.5), ("Int", 10**12),
                                             ("Int", [1]), ("Boolean", "yes"),
                                             ("String", {"a": 1})])
def test_R_SEC_D_variable_of_the_wrong_type_is_a_client_error(gql, decl, value) -> None:
    field = {"Int": "customers(first: $v) { nodes { id } }",
             "Boolean": "pendingActions(waitingOnly: $v) { id }",
             "String": "customers(first: 1, after: $v) { nodes { id } }"}[decl]
    resp = gql.post(f"query($v: {decl}) {{ {field} }}", {"v": value})
    body = resp.get_json()
    if body["errors"][0]["extensions"]["code"] == "LIMIT_EXCEEDED":  # caught even earlier
        assert value == 10**12
    else:
        assert resp.status_code == 400, resp.status_code
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"] and all(e.get("extensions", {}).get("code") != "INTERNAL"
                                  for e in body["errors"]), body
    assert all(e["message"] != "Unexpected error" for e in body["errors"])
