"""One policy, two doors: for every role and every model exposed by GraphQL, the ids visible
through GraphQL equal those of ``policy.scope`` and those of the portal's list view
(``ScopedModelView.get_query``); the allowed actions equal ``policy.can``. Relationships are
scoped at any depth: nothing of another salesperson leaks through owner, complaints, etc."""

from __future__ import annotations

import pytest
from flask_login import login_user
from sqlalchemy import select

from graphql_api.queries import CONNECTION_MODELS
from models import Customer, User
from models.enums import Level
from portal import audit, policy
from portal.extensions import db
from tests.graphql.data import add_complaint, add_file, populate


@pytest.fixture(params=[(True, True, True), (True, True, False), (True, False, False),
                        (False, False, False)],
                ids=["json-statement", "fast-execution", "fast-without-row-levels",
                     "graphql-core"])
def app_overrides(request) -> dict:
    """Every parity test runs four ways: with one JSON statement per list
    (graphql_api/json_statement.py, PostgreSQL; on SQLite the same as the next), with the
    fast executor (graphql_api/execution.py) and its relationship levels from rows
    (execution_rows.py), with the fast executor alone (GRAPHQL_ROW_LEVELS off) and with
    graphql-core alone (GRAPHQL_FAST_EXECUTION off): the answers must be the same."""
    fast, rows, json_statement = request.param
    return {"GRAPHQL_FAST_EXECUTION": fast, "GRAPHQL_ROW_LEVELS": rows,
            "GRAPHQL_JSON_STATEMENT": json_statement}


ROLES = ["sales", "supervisor", "dept_manager", "general_manager", "finance", "service",
         "reception", "auditor", "sysadmin", "secadmin", "secauditor"]


@pytest.fixture
def rich_world(world, session):
    populate(session, world)
    # classified files: no read up, whatever the role
    c = world.customers["sales1"][0]
    add_file(session, c, world.sales1, Level.SECRET.value)
    add_file(session, c, world.manager, Level.CONFIDENTIAL.value).responsible_manager_id = \
        world.manager.id
    add_file(session, c, world.gm, Level.TOP_SECRET.value)
    # a complaint on sales1's customer handled by someone of another branch
    add_complaint(session, world.customers["sales1"][1], world.service, handler=world.sales4)
    audit.record(session, world.sales1, "test.event", c)
    audit.record(session, world.gm, "test.event", c)
    session.commit()
    return world


def graphql_ids(client, field: str) -> set[int]:
    ids: set[int] = set()
    after = None
    total = None
    while True:
        body = client(f"query($after: String) {{ {field}(first: 100, after: $after) "
                      "{ totalCount pageInfo { hasNextPage endCursor } nodes { databaseId } } }",
                      {"after": after})
        assert "errors" not in body, body
        page = body["data"][field]
        total = page["totalCount"]
        ids |= {n["databaseId"] for n in page["nodes"]}
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert total == len(ids), f"{field}: totalCount {total} != {len(ids)} rows"
    return ids


def admin_ids(app, user: User, model: type) -> set[int] | None:
    try:
        from admin_views.base import ScopedModelView
    except ImportError:
        return None
    views = [v for a in app.extensions.get("admin", []) for v in a._views
             if isinstance(v, ScopedModelView) and getattr(v, "model", None) is model]
    if not views:
        return None
    with app.test_request_context("/admin/"):
        login_user(db.session.get(User, user.id))
        return {row.id for row in views[0].get_query().all()}


@pytest.mark.parametrize("role", ROLES)
def test_parity_of_every_list_with_the_policy_and_the_portal(rich_world, api, app, session,
                                                              role) -> None:
    user = rich_world.roles[role]
    client = api(user)
    checked_admin = 0
    for field, model in CONNECTION_MODELS.items():
        got = graphql_ids(client, field)
        session.expire_all()
        expected = set(session.scalars(policy.scope(select(model.id), user, model)).all())
        assert got == expected, f"{role} {field}: graphql {sorted(got)} != policy " \
                                f"{sorted(expected)}"
        portal = admin_ids(app, user, model)
        if portal is not None:
            checked_admin += 1
            assert got == portal, f"{role} {field}: graphql {sorted(got)} != portal " \
                                  f"{sorted(portal)}"
    assert checked_admin >= 9, f"only {checked_admin} portal list views compared"


@pytest.mark.parametrize("role", ROLES)
def test_allowed_actions_equal_the_policy(world, api, role) -> None:
    user = world.roles[role]
    got = api(user)("{ me { allowedActions } }")["data"]["me"]["allowedActions"]
    expected = sorted(f"{a}.{v}" for a, verbs in policy.AREAS.items() for v in verbs
                      if policy.can(user, f"{a}.{v}"))
    assert got == expected


def test_node_out_of_scope_is_null_like_missing(rich_world, api) -> None:
    client = api(rich_world.sales1)
    mine = rich_world.customers["sales1"][0].id
    other = rich_world.customers["sales4"][0].id
    q = "query($id: ID!) { node(id: $id) { id ... on Customer { name } } }"
    assert client(q, {"id": f"Customer:{mine}"})["data"]["node"]["id"] == f"Customer:{mine}"
    for gid in (f"Customer:{other}", "Customer:999999", "Nope:1", "garbage"):
        body = client(q, {"id": gid})
        assert body == {"data": {"node": None}}, (gid, body)


def test_nested_relationships_are_scoped(rich_world, api, session) -> None:
    """sales1 sees their customers, but not the handler from another branch, nor others'
    complaints, files above their clearance, or users out of scope, through any path."""
    body = api(rich_world.sales1)("""{
      customers(first: 100) { nodes {
        databaseId owner { username }
        complaints { handler { username } receivedBy { username } customer { databaseId }
                     accusedUser { username } }
        files { title level }
        receptionRecords { receivedBy { username } assignedTo { username } }
        creditLines { proposedBy { username } customer { owner { username } } }
      } }
      users(first: 100) { nodes { username } }
    }""")
    assert "errors" not in body, body
    nodes = body["data"]["customers"]["nodes"]
    assert {n["databaseId"] for n in nodes} == {c.id for c in rich_world.customers["sales1"]}
    visible_users = {u["username"] for u in body["data"]["users"]["nodes"]}
    assert visible_users == {"sales1"}
    seen_users = set()
    for n in nodes:
        seen_users.add(n["owner"]["username"])
        for c in n["complaints"]:
            assert c["customer"]["databaseId"] == n["databaseId"]
            for key in ("handler", "receivedBy", "accusedUser"):
                if c[key]:
                    seen_users.add(c[key]["username"])
        for r in n["receptionRecords"]:
            for key in ("receivedBy", "assignedTo"):
                if r[key]:
                    seen_users.add(r[key]["username"])
        for line in n["creditLines"]:
            if line["proposedBy"]:
                seen_users.add(line["proposedBy"]["username"])
        for f in n["files"]:
            assert f["level"] in ("PUBLIC", "INTERNAL", "SECRET")  # clearance INTERNAL…
    assert seen_users <= visible_users  # users out of scope are null on every path
    levels = {f["level"] for n in nodes for f in n["files"]}
    assert "CONFIDENTIAL" not in levels and "TOP_SECRET" not in levels


def test_complaint_of_invisible_customer_never_appears(rich_world, api, session) -> None:
    """sales4 handles a complaint of sales1's customer: they see the complaint (they are in its
    chain) but the customer behind it is null, and sales1's other data stays hidden."""
    body = api(rich_world.sales4)("""{
      complaints(first: 100) { nodes { number handler { username }
        customer { databaseId complaints { number } owner { username } } } }
      customers(first: 100) { nodes { databaseId complaints { number } } }
    }""")
    assert "errors" not in body, body
    own_ids = {c.id for c in rich_world.customers["sales4"]}
    assert {n["databaseId"] for n in body["data"]["customers"]["nodes"]} == own_ids
    handled = [c for c in body["data"]["complaints"]["nodes"]
               if c["handler"] and c["handler"]["username"] == "sales4"]
    assert handled and all(c["customer"] is None for c in handled)


def test_field_groups_null_with_forbidden_error(rich_world, api) -> None:
    """Finance reads every customer but not their contact fields (policy visible_fields)."""
    body = api(rich_world.finance)(
        "{ customers(first: 2) { nodes { name phone outstandingBalance contacts { name } } } }")
    nodes = body["data"]["customers"]["nodes"]
    assert nodes and all(n["phone"] is None and n["contacts"] is None for n in nodes)
    assert all(n["outstandingBalance"] is not None for n in nodes)
    forbidden = [e for e in body["errors"] if e["extensions"]["code"] == "FORBIDDEN"]
    assert {e["path"][-1] for e in forbidden} == {"phone", "contacts"}
    assert "Customer.phone" in " ".join(e["message"] for e in forbidden)


def test_search_by_phone_does_not_reveal_hidden_phones(rich_world, api, session) -> None:
    c = rich_world.customers["sales2"][0]
    q = "query($s: String) { customers(filter: {search: $s}) { totalCount } }"
    assert api(rich_world.gm)(q, {"s": c.phone})["data"]["customers"]["totalCount"] == 1
    assert api(rich_world.finance)(q, {"s": c.phone})["data"]["customers"]["totalCount"] == 0


def test_filters_and_ordering(rich_world, api, session) -> None:
    client = api(rich_world.gm)
    sales2 = rich_world.sales2
    body = client("query($o: ID) { customers(filter: {owner: $o}, orderBy: NAME_ASC) "
                  "{ totalCount nodes { databaseId name owner { username } } } }",
                  {"o": f"User:{sales2.id}"})
    nodes = body["data"]["customers"]["nodes"]
    assert body["data"]["customers"]["totalCount"] == 2
    assert {n["owner"]["username"] for n in nodes} == {"sales2"}
    assert [n["name"] for n in nodes] == sorted(n["name"] for n in nodes)
    # keyset pages in a non-id order cover every row exactly once
    seen, after = [], None
    while True:
        page = client("query($a: String) { customers(first: 3, after: $a, orderBy: "
                      "REGISTERED_AT_DESC) { pageInfo { hasNextPage endCursor } "
                      "nodes { databaseId } } }", {"a": after})["data"]["customers"]
        seen += [n["databaseId"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(session.scalars(select(Customer.id)).all())
    assert len(seen) == len(set(seen))
    body = client('{ complaints(filter: {status: [REGISTERED]}) { totalCount } }')
    assert body["data"]["complaints"]["totalCount"] >= 8
    body = client('{ complaints(filter: {status: [CLOSED]}) { totalCount } }')
    assert body["data"]["complaints"]["totalCount"] == 0


def test_R_CUST_9_a_loan_shows_the_borrowed_archive_only_in_both_doors(rich_world, api, app,
                                                                     session) -> None:
    """sales4 (department 2) borrows one archive of sales1: every list of both doors equals the
    policy's scope, the customers are their own plus that one, and nothing of sales1's other
    archive appears through any relationship."""
    from portal.services import archive_loans

    borrowed, other = rich_world.customers["sales1"]
    loan = archive_loans.request_access(session, rich_world.sales4, borrowed.code, "核对订单")
    archive_loans.decide_access(session, rich_world.manager, loan.id, True)
    user = session.get(User, rich_world.sales4.id)
    client = api(user)
    for field, model in CONNECTION_MODELS.items():
        got = graphql_ids(client, field)
        session.expire_all()
        expected = set(session.scalars(policy.scope(select(model.id), user, model)).all())
        assert got == expected, f"{field}: graphql {sorted(got)} != policy {sorted(expected)}"
        portal = admin_ids(app, user, model)
        if portal is not None:
            assert got == portal, f"{field}: graphql {sorted(got)} != portal {sorted(portal)}"
    customers = graphql_ids(client, "customers")
    assert customers == {c.id for c in rich_world.customers["sales4"]} | {borrowed.id}
    body = client("""{ customers(first: 100) { nodes { databaseId
        complaints { customer { databaseId } } creditLines { customer { databaseId } }
        owner { username } } } }""")
    assert "errors" not in body, body
    reached = {n["databaseId"] for n in body["data"]["customers"]["nodes"]}
    for n in body["data"]["customers"]["nodes"]:
        reached |= {c["customer"]["databaseId"] for c in n["complaints"] + n["creditLines"]}
    assert other.id not in reached
