"""Issue 12 (7): reads of credit data are audited (R-AUD-1). A request that returns credit
amounts — the credit line and evaluation pages, the customer page showing the balance or the
limit, a list showing amounts, GraphQL credit fields and nodes — leaves ONE ``credit.view``
entry naming the records (not one per row); a request without credit amounts leaves none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEntry, CreditLine
from tests.factories import make_customer
from tests.graphql.conftest import Api, make_token
from tests.graphql.data import add_credit
from tests.graphql.test_graphql_nplus1 import count_statements


def _reads(session, since: int) -> list[AuditEntry]:
    session.expire_all()
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "credit.view", AuditEntry.seq > since).order_by(AuditEntry.seq)))


@pytest.fixture
def api(app, session):
    return lambda user: Api(app.test_client(), make_token(session, user))


def _mark(session) -> int:
    from sqlalchemy import func

    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))


def _lines(world, session, n: int = 3):
    lines = [add_credit(session, c, world.manager)
             for c in world.customers["sales1"] + world.customers["sales2"]][:n]
    session.commit()
    return lines


def test_R_AUD_1_credit_pages_in_the_portal_leave_one_entry_naming_the_records(
        world, session, login):
    lines = _lines(world, session)
    finance = login(world.finance)
    mark = _mark(session)
    assert finance.get(f"/admin/creditline/details/?id={lines[0].id}").status_code == 200
    entries = _reads(session, mark)
    assert len(entries) == 1
    assert (entries[0].actor_id, entries[0].target_type, entries[0].target_id) == (
        world.finance.id, "CreditLine", str(lines[0].id))
    assert entries[0].request_id

    mark = _mark(session)
    assert finance.get(
        f"/admin/creditevaluation/details/?id={lines[0].evaluation_id}").status_code == 200
    entries = _reads(session, mark)
    assert [(e.target_type, e.target_id) for e in entries] == [
        ("CreditEvaluation", str(lines[0].evaluation_id))]

    # a list showing amounts: one entry for the page, naming every row shown
    mark = _mark(session)
    assert finance.get("/admin/creditline/").status_code == 200
    entries = _reads(session, mark)
    assert len(entries) == 1
    every = session.scalars(select(CreditLine.id).order_by(CreditLine.id)).all()
    assert len(every) <= 20  # one page
    assert entries[0].detail == "creditline.index_view: CreditLine " + ", ".join(map(str, every))

    # the customer page showing the balance and the limit names the customer and the line
    customer = lines[0].customer
    mark = _mark(session)
    page = finance.get(f"/admin/customer/details/?id={customer.id}").get_data(as_text=True)
    assert "应收余额" in page
    entries = _reads(session, mark)
    assert len(entries) == 1
    assert f"CreditLine {lines[0].id}" in entries[0].detail
    assert f"Customer {customer.id}" in entries[0].detail


def test_R_AUD_1_pages_without_credit_amounts_leave_no_credit_entry(world, session, login):
    lines = _lines(world, session, 1)
    mark = _mark(session)
    # customer service reads every archive but not its credit figures
    service = login(world.service)
    assert service.get(f"/admin/customer/details/?id={lines[0].customer_id}").status_code == 200
    assert service.get("/admin/customer/").status_code == 200
    # the evaluation list shows ratings, not amounts
    assert login(world.finance).get("/admin/creditevaluation/").status_code == 200
    assert _reads(session, mark) == []


def test_R_AUD_1_graphql_credit_fields_and_nodes_leave_one_entry_per_request(
        world, session, api):
    lines = _lines(world, session)
    client = api(world.gm)
    mark = _mark(session)
    body = client("{ creditLines(first: 50) { edges { node { id limitAmount } } } }")
    assert "errors" not in body, body
    entries = _reads(session, mark)
    assert len(entries) == 1
    ids = ", ".join(map(str, session.scalars(select(CreditLine.id).order_by(CreditLine.id))))
    assert entries[0].detail == f"graphql: CreditLine {ids}"

    # customer balances: one entry naming the customers whose balance was returned
    mark = _mark(session)
    body = client("{ customers(first: 100) { edges { node { outstandingBalance } } } }")
    assert "errors" not in body, body
    entries = _reads(session, mark)
    assert len(entries) == 1 and entries[0].detail.startswith("graphql: Customer ")

    # a node by id, with the evaluation's amounts nested: one entry naming both
    mark = _mark(session)
    body = client('query($id: ID!) { node(id: $id) { ... on CreditLine { limitAmount '
                  'evaluation { collateralValue } } } }', {"id": f"CreditLine:{lines[0].id}"})
    assert "errors" not in body, body
    entries = _reads(session, mark)
    assert [e.detail for e in entries] == [
        f"graphql: CreditEvaluation {lines[0].evaluation_id}; CreditLine {lines[0].id}"]

    # no credit amount selected: no entry
    mark = _mark(session)
    body = client("{ creditLines(first: 50) { edges { node { id status } } } "
                  "customers(first: 5) { edges { node { name } } } }")
    assert "errors" not in body, body
    assert _reads(session, mark) == []


def test_R_AUD_1_graphql_credit_list_audit_keeps_statement_count_flat(world, session, api):
    for _ in range(40):
        add_credit(session, make_customer(session, world.sales1), world.manager)
    session.commit()
    client = api(world.gm)
    query = "query($n: Int!) { creditLines(first: $n) { edges { node { limitAmount } } } }"
    client(query, {"n": 1})  # warm-up (the token's last use is written once a minute)
    counts = {}
    for n in (5, 40):
        mark = _mark(session)
        counts[n], body = count_statements(lambda n=n: client(query, {"n": n}))
        assert len(body["data"]["creditLines"]["edges"]) == n
        assert len(_reads(session, mark)) == 1
    print(f"\nSQL statements for a GraphQL credit list with its audit entry: {counts}")
    assert counts[5] == counts[40]
