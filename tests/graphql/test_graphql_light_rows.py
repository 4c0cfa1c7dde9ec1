"""Lists are loaded as plain rows of the selected columns (graphql_api.loaders), not ORM objects:
field visibility must still be exactly ``policy.visible_fields`` on the real row, for every
role, on customers and complaints reached through lists and through relationships; and a
selection that mixes aliases and fragments must get every column it asks for."""

from __future__ import annotations

import pytest

from models import Complaint, Customer
from portal import policy
from portal.extensions import db
from tests.graphql.test_graphql_parity import ROLES, rich_world  # noqa: F401  (fixture)

CUSTOMER_GUARDED = {"phone": "phone", "address": "address", "website": "website",
                    "creditCode": "credit_code", "outstandingBalance": "outstanding_balance",
                    "transactionSummary": "transaction_summary"}
COMPLAINT_GUARDED = {"description": "description", "resolution": "resolution",
                     "compensationAmount": "compensation_amount",
                     "rejectionReason": "rejection_reason", "satisfaction": "satisfaction"}

_C = " ".join(CUSTOMER_GUARDED)
_K = " ".join(COMPLAINT_GUARDED)
QUERY = (f"{{ customers(first: 100) {{ nodes {{ databaseId {_C} complaints {{ databaseId {_K} }} }} }}"
         f"  complaints(first: 100) {{ nodes {{ databaseId {_K} customer {{ databaseId {_C} }} }} }} }}")


def _forbidden(body: dict) -> set[tuple]:
    """(path as a tuple) of every FORBIDDEN error."""
    return {tuple(e["path"]) for e in body.get("errors", [])
            if e["extensions"]["code"] == "FORBIDDEN"}


@pytest.mark.parametrize("role", ROLES)
def test_field_visibility_on_plain_rows_equals_the_policy(rich_world, api, role) -> None:  # noqa: F811
    user = rich_world.roles[role]
    body = api(user)(QUERY)
    forbidden = _forbidden(body)
    data = body["data"]
    checked = 0

    def check(path: tuple, node: dict, model: type, fields: dict[str, str]) -> None:
        nonlocal checked
        obj = db.session.get(model, node["databaseId"])
        visible = policy.visible_fields(user, model, obj)
        for gql_name, column in fields.items():
            hidden = (*path, gql_name) in forbidden
            assert hidden == (column not in visible), (role, model.__name__, obj.id, gql_name)
            if not hidden:
                assert node[gql_name] == _plain(getattr(obj, column)), (role, gql_name)
            checked += 1

    for i, c in enumerate(data["customers"]["nodes"]):
        check(("customers", "nodes", i), c, Customer, CUSTOMER_GUARDED)
        for j, k in enumerate(c["complaints"]):
            check(("customers", "nodes", i, "complaints", j), k, Complaint, COMPLAINT_GUARDED)
    for i, k in enumerate(data["complaints"]["nodes"]):
        check(("complaints", "nodes", i), k, Complaint, COMPLAINT_GUARDED)
        if k["customer"] is not None:
            check(("complaints", "nodes", i, "customer"), k["customer"], Customer,
                  CUSTOMER_GUARDED)
    if data["customers"]["nodes"] or data["complaints"]["nodes"]:
        assert checked


def _plain(value):
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def test_some_role_sees_and_some_role_is_refused_guarded_fields(rich_world, api) -> None:  # noqa: F811
    """The parity above proves something only if both outcomes occur."""
    outcomes = set()
    for role in ("general_manager", "finance", "reception"):
        body = api(rich_world.roles[role])(QUERY)
        outcomes.add(bool(_forbidden(body)))
        outcomes.add(any(n["phone"] is not None for n in body["data"]["customers"]["nodes"]))
    assert outcomes == {True, False}


def test_aliases_and_fragments_get_their_columns(rich_world, api) -> None:  # noqa: F811
    gm = rich_world.roles["general_manager"]
    q = """
    fragment Who on User { username fullName }
    fragment More on Customer { registeredAt owner { ...Who } }
    {
      customers(first: 5, orderBy: NAME_ASC) {
        edges { cursor node { a: code ... on Customer { name } ...More
                              b: owner { databaseId } c: owner { ...Who } } }
        pageInfo { endCursor }
      }
    }"""
    body = api(gm)(q)
    assert "errors" not in body, body
    edges = body["data"]["customers"]["edges"]
    assert edges
    for e in edges:
        n = e["node"]
        c = db.session.scalar(db.select(Customer).where(Customer.code == n["a"]))
        assert n["name"] == c.name
        assert n["registeredAt"]
        assert n["owner"]["username"] == c.owner.username
        assert n["b"]["databaseId"] == c.owner_id
        assert n["c"]["fullName"] == c.owner.full_name
    # the cursor (NAME_ASC: name and id) needed columns nobody selected
    nxt = api(gm)("query($a: String) { customers(first: 5, orderBy: NAME_ASC, after: $a) "
                  "{ nodes { name } } }", {"a": body["data"]["customers"]["pageInfo"]["endCursor"]})
    assert "errors" not in nxt, nxt
