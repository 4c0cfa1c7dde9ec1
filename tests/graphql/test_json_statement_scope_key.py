"""The JSON statement found by its scope key (graphql_api/json_statement.py ``_scope_key``,
``policy.scope_key``, ``Page.select_key``): one query text asked by users of different scopes,
with different filters, page sizes and cursors in its variables, and again after a user moved
branch, a grant changed (R-ROLE-5) and a loan started (R-CUST-9), answers and audits byte for
byte like the row path (R-ROLE-1, R-AUD-1); on PostgreSQL the repeated asks are found by the
key, without building the scoped selects."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select

import graphql_api.json_statement as json_statement
from graphql_api import ids
from models import ArchiveLoan, AuditEntry, Grant
from models.enums import LoanStatus
from portal import clock
from tests.factories import make_customer
from tests.graphql.data import add_complaint, add_credit, populate

QUERY = """query Q($n: Int, $after: String, $branch: ID) {
  customers(first: $n, after: $after, filter: { branch: $branch }) {
    pageInfo { hasNextPage endCursor }
    nodes { id name status owner { username } creditLines { limitAmount status }
            complaints { number } } } }"""


@pytest.fixture
def company(world, session):
    populate(session, world)
    for who in ("sales1", "sales3", "sales4"):
        c = world.customers[who][0]
        add_complaint(session, c, world.service)
        add_credit(session, c, world.manager)
    session.commit()
    return world


def _answer(app, client, session, variables: dict, on: bool) -> tuple[bytes, list]:
    app.config.update(GRAPHQL_FAST_EXECUTION=True, GRAPHQL_ROW_LEVELS=True,
                      GRAPHQL_JSON_STATEMENT=on)
    last = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    session.commit()
    resp = client.post(QUERY, variables)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    session.rollback()
    tail = session.execute(select(AuditEntry.action, AuditEntry.target_type,
                                  AuditEntry.target_id, AuditEntry.detail)
                           .where(AuditEntry.id > last).order_by(AuditEntry.id)).all()
    return resp.get_data(), [tuple(r) for r in tail]


def _compare_all(app, api, session, world, users) -> int:
    """Every user × branch filter × page size, and the second page: row path == statement.
    The number of answers with rows."""
    asked = 0
    branches = [None, ids.to_global("Branch", world.b1.id), ids.to_global("Branch", world.b3.id)]
    for user in users:
        client = api(user)
        client.post(QUERY, {"n": 1})  # warm-up (the token's last use)
        for branch in branches:
            for n in (2, 5):
                variables = {"n": n, "branch": branch}
                for _page in range(2):
                    rows, audit_rows = _answer(app, client, session, variables, False)
                    for _again in range(2):  # built, then found by its key
                        js, audit_js = _answer(app, client, session, variables, True)
                        assert js == rows, (user.username, variables, js[:300], rows[:300])
                        assert audit_js == audit_rows
                    data = orjson.loads(js)["data"]["customers"]
                    asked += bool(data["nodes"])
                    if not data["pageInfo"]["hasNextPage"]:
                        break
                    variables = {**variables, "after": data["pageInfo"]["endCursor"]}
    return asked


def test_R_ROLE_1_statements_found_by_scope_key_answer_like_the_row_path(
        company, api, app, session, monkeypatch) -> None:
    found: list[bool] = []

    class Spy(type(json_statement._BY_SCOPE)):  # type: ignore[misc]
        def get(self, key, default=None):
            hit = super().get(key, default)
            found.append(hit is not None)
            return hit

    spy = Spy(json_statement._BY_SCOPE)
    monkeypatch.setattr(json_statement, "_BY_SCOPE", spy)
    w = company
    users = [w.sales1, w.sales3, w.supervisor, w.manager, w.gm, w.auditor, w.finance, w.service,
             w.reception]
    assert _compare_all(app, api, session, w, users) > 20

    # the same text after a user moved branch, a grant changed and a loan started
    w.sales3.branch_id = w.b1.id
    w.supervisor.branch_id = w.b3.id
    w.supervisor.department_id = w.b3.department_id
    grant = session.scalar(select(Grant).where(Grant.role == "sales", Grant.area == "customer",
                                              Grant.action == "view"))
    grant.scope = "branch"
    lent = make_customer(session, w.sales4)
    add_credit(session, lent, w.manager)
    now = clock.now()
    session.add(ArchiveLoan(customer_id=lent.id, borrower_id=w.gm.id, reason="核对",
                            status=LoanStatus.APPROVED.value,
                            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1)))
    session.add(ArchiveLoan(customer_id=lent.id, borrower_id=w.sales1.id, reason="核对",
                            status=LoanStatus.APPROVED.value,
                            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1)))
    session.commit()
    assert _compare_all(app, api, session, w, [w.sales1, w.sales3, w.supervisor, w.gm]) > 10
    if session.get_bind().dialect.name == "postgresql":
        assert sum(found) > 20  # the repeated asks were found by their key
