"""No N+1: the same nested query at page sizes 10 and 100 runs the same number of SQL
statements (counted with a before_cursor_execute listener around the HTTP request)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from portal.extensions import db
from tests.factories import make_customer
from tests.graphql.data import add_complaint, add_credit, add_extras, add_file

NESTED = """
query($n: Int!) {
  customers(first: $n, orderBy: ID_DESC) {
    totalCount
    edges { cursor node {
      id name phone status
      owner { username branch { name } }
      creditLines { status limitAmount approvals { step actor { username } } }
      complaints { number status description customer { id } events { toStatus } }
      contacts { name }
      followUps { kind }
      ownerHistory { reason toUser { username } }
      files { title downloadUrl }
    } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


def count_statements(fn) -> tuple[int, object]:
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements), result


@pytest.fixture
def many_customers(world, session):
    owner = world.sales1
    for _ in range(105):
        c = make_customer(session, owner)
        add_complaint(session, c, world.service, handler=world.service)
        add_credit(session, c, world.manager)
        add_extras(session, c, owner)
        add_file(session, c, owner)
    session.commit()
    return world


COUNTS: dict[tuple[str, int], int] = {}


@pytest.mark.parametrize("who", ["sales1", "gm"])
def test_statement_count_does_not_grow_with_page_size(many_customers, api, who) -> None:
    client = api(getattr(many_customers, who))
    client(NESTED, {"n": 1})  # warm-up: the token's last-used time is written once a minute
    seen = {}
    for n in (10, 100):
        count, body = count_statements(lambda n=n: client(NESTED, {"n": n}))
        assert "errors" not in body, body
        edges = body["data"]["customers"]["edges"]
        assert len(edges) == n
        assert all(e["node"]["complaints"] and e["node"]["creditLines"] for e in edges)
        seen[n] = count
        COUNTS[(who, n)] = count
    print(f"\nSQL statements for the nested query as {who}: "
          f"page 10 → {seen[10]}, page 100 → {seen[100]}")
    assert seen[10] == seen[100]
