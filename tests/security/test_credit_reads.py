"""Issue 12 (7): reads of credit data are audited (R-AUD-1). A request that returns credit
amounts — the credit line and evaluation pages, the customer page showing the balance or the
limit, a list showing amounts, GraphQL credit fields and nodes — leaves ONE ``credit.view``
entry naming the records (not one per row); a request without credit amounts leaves none."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
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


def _named(entry: AuditEntry, model: str) -> set[int]:
    """The ids of ``model`` an entry's detail names (``"...: CreditLine 3, 5; Customer 7"``)."""
    detail = entry.detail.rsplit(": ", 1)[1]
    for part in detail.split("; "):
        name, _, ids = part.partition(" ")
        if name == model:
            return {int(i) for i in ids.split(", ")}
    return set()


def test_R_AUD_1_csv_exports_with_credit_amounts_leave_one_entry_naming_the_records(
        world, session, login):
    from models import CreditEvaluation, Customer

    lines = _lines(world, session)
    for c in world.customers["sales1"]:
        c.outstanding_balance = 1234
    session.commit()
    finance = login(world.finance)
    for url, model, ids in (
            ("/admin/creditline/export/csv/", "CreditLine",
             set(session.scalars(select(CreditLine.id)))),
            ("/admin/creditevaluation/export/csv/", "CreditEvaluation",
             set(session.scalars(select(CreditEvaluation.id)))),
            ("/admin/customer/export/csv/", "Customer", set(session.scalars(select(Customer.id))))):
        mark = _mark(session)
        resp = finance.get(url)
        assert resp.status_code == 200, url
        resp.get_data()
        entries = _reads(session, mark)
        assert len(entries) == 1, (url, [e.detail for e in entries])
        assert entries[0].actor_id == world.finance.id and entries[0].request_id
        assert entries[0].detail.split(":")[0].endswith(".export")
        assert _named(entries[0], model) == ids, url
    assert lines

    # a salesperson's export names only the archives whose balance it carries: their own
    sales = login(world.sales1)
    mark = _mark(session)
    resp = sales.get("/admin/customer/export/csv/")
    assert resp.status_code == 200
    resp.get_data()
    [entry] = _reads(session, mark)
    assert _named(entry, "Customer") == {c.id for c in world.customers["sales1"]}

    # customer service exports every archive, but no balance: no credit entry
    mark = _mark(session)
    resp = login(world.service).get("/admin/customer/export/csv/")
    assert resp.status_code == 200 and "1234" not in resp.get_data(as_text=True)
    assert _reads(session, mark) == []


def _receivables(world, session):
    from datetime import UTC, datetime, timedelta

    from portal import clock
    from portal.services import credit
    from tests.services.test_credit import _approved_line

    now = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
    customer = world.customers["sales1"][0]
    with clock.frozen(now):
        _approved_line(session, world, customer, term_days=10)
        credit.record_transaction(session, world.finance, customer.id, "order", "2500.5")
    session.commit()
    return customer, now + timedelta(days=45)


def test_R_AUD_1_receivables_pages_and_files_name_the_records(world, session, login):
    from models import Receivable
    from portal import clock

    customer, later = _receivables(world, session)
    item = session.scalar(select(Receivable.id).where(Receivable.customer_id == customer.id))
    finance = login(world.finance)
    with clock.frozen(later):
        for url, model, ids in (
                ("/admin/receivables/", "Customer", {customer.id}),
                ("/admin/receivables/?format=csv", "Customer", {customer.id}),
                ("/admin/receivables/?format=xlsx", "Customer", {customer.id}),
                (f"/admin/receivables/collection?month={later:%Y-%m}&format=csv", "Receivable",
                 {item}),
                (f"/admin/receivables/summary?month={later:%Y-%m}&format=xlsx", "Customer",
                 {customer.id})):
            mark = _mark(session)
            assert finance.get(url).status_code == 200, url
            entries = _reads(session, mark)
            assert len(entries) == 1, (url, [e.detail for e in entries])
            assert _named(entries[0], model) == ids, (url, entries[0].detail)


def test_R_AUD_1_graphql_receivables_items_leave_one_entry_naming_the_records(
        world, session, api):
    from models import Receivable
    from portal import clock

    customer, later = _receivables(world, session)
    item = session.scalar(select(Receivable.id).where(Receivable.customer_id == customer.id))
    client = api(world.finance)
    client("{ me { user { id } } }")
    with clock.frozen(later):
        mark = _mark(session)
        body = client('query($m: String) { receivablesAgeing { rows { code balance } } '
                      'collectionList(month: $m) { code openAmount } '
                      'creditLines(first: 5) { edges { node { limitAmount } } } }',
                      {"m": f"{later:%Y-%m}"})
        assert "errors" not in body, body
        assert body["data"]["collectionList"]
    entries = _reads(session, mark)
    assert len(entries) == 1, [e.detail for e in entries]
    assert entries[0].detail.startswith("graphql: ")
    assert _named(entries[0], "Customer") == {customer.id}
    assert _named(entries[0], "Receivable") == {item}
    assert _named(entries[0], "CreditLine") == set(session.scalars(select(CreditLine.id)))


@pytest.mark.parametrize("ids", [[7], [3, 5, 11], list(range(1, 25_001)), [5, 3], [2, 2, 9],
                                 ["k-2", "k-1"], [-4, 1]])
def test_R_AUD_1_streamed_export_ids_write_the_same_entry_as_a_set_of_rows(world, session, ids):
    """An export names its rows through a compact run of ids (a million tuples would not stay
    memory-flat); the entry must read exactly as the one built from (model, id) pairs."""
    from portal.services import credit_reads

    run = credit_reads.IdRun()
    run.extend(iter(ids))
    mark = _mark(session)
    streamed = credit_reads.record_credit_run(session, world.finance, "Customer", run,
                                              where="customer.export")
    built = credit_reads.record_credit_read(session, world.finance,
                                            [("Customer", i) for i in ids],
                                            where="customer.export")
    session.commit()
    assert streamed is not None and built is not None
    assert (streamed.detail, streamed.target_type, streamed.target_id) == (
        built.detail, built.target_type, built.target_id)
    assert len(_reads(session, mark)) == 2


def test_R_AUD_1_streamed_export_with_no_row_shown_writes_nothing(world, session):
    from portal.services import credit_reads

    mark = _mark(session)
    assert credit_reads.record_credit_run(session, world.finance, "Customer",
                                          credit_reads.IdRun()) is None
    session.commit()
    assert _reads(session, mark) == []


@given(st.sets(st.tuples(st.sampled_from(["CreditLine", "Customer", "OverLimitApproval"]),
                         st.integers(min_value=0, max_value=10**12)), max_size=60))
def test_R_AUD_1_credit_read_detail_names_row_ids_as_their_text_would(refs) -> None:
    """The detail of a credit-read entry lists integer row ids (the usual case, written by a
    shorter path) exactly as it lists the same ids given as text: grouped by type, ascending
    by number, each once."""
    from portal.services import credit_reads

    as_text = {(name, str(i)) for name, i in refs}
    assert credit_reads.describe(refs) == credit_reads.describe(as_text)
    assert credit_reads._refs(set(refs)) == set(refs)
    if refs:
        name, first = min(refs)
        assert credit_reads.describe({(name, first)}) == f"{name} {first}"
