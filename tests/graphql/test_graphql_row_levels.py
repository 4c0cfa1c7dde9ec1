"""Relationship levels completed from rows (graphql_api/execution_rows.py, GRAPHQL_ROW_LEVELS):
the same queries with the switch on, off, and with graphql-core alone answer byte for byte the
same body as every role, record the same credit-read audit entry (R-AUD-1) and the same
archive-loan reads (R-CUST-9), run the same statements (constant in page size), and the row
path is really taken where the whole sub-selection is made of ids, columns, enums and marked
relationships. Hidden fields (field groups) and rows out of scope come out as before: their
relationships go through the node path, the scoped loaders answer both."""

from __future__ import annotations

import pytest
from sqlalchemy import select

import graphql_api.execution_context as execution_context
from models.audit import AuditEntry
from tests.factories import make_customer
from tests.graphql.data import add_complaint, add_credit, add_extras, populate
from tests.graphql.test_graphql_nplus1 import count_statements

ROLES = ["sales1", "supervisor", "gm", "finance", "auditor", "manager", "service"]

# G2 of the benchmark, and deeper or wider shapes made only of compilable fields
G2 = """{ customers(first: 100) { nodes { id code name status
  owner { id fullName username } creditLines { id limitAmount status }
  complaints { id number status } } } }"""
DEEP = """{ customers(first: 50, orderBy: ID_DESC) { totalCount
  pageInfo { hasNextPage endCursor }
  edges { cursor node { __typename databaseId id code name kind status importance intent
    registeredAt firstContactAt dealAt notes version
    owner { id username branch { name department { code name } } department { name } }
    branch { id name } department { id code }
    who: owner { fullName }
    creditLines { __typename id kind limitAmount collateralValue termDays status isRaise
      proposedAt approvedAt validFrom validUntil
      proposedBy { username } approvedBy { username }
      evaluation { id rating collateralValue avgMonthlyReceipts evaluatedAt
                   evaluatedBy { fullName } }
      approvals { step at note actor { id username } } }
    lines: creditLines { id }
    creditEvaluations { id rating yearsOfCooperation evaluatedBy { username } }
    complaints { id number channel type cause severity status registeredAt deadlineAt
      extended closedAt customer { id name owner { username } }
      handler { username } receivedBy { id } responsibleDepartment { name } }
    followUps { kind happenedAt notes user { username } }
    ownerHistory { reason changedAt toUser { username } fromUser { id } changedBy { id } }
  } } } }"""
# relationships of other root connections (a complaint's customer may be out of scope)
ROOTS = """{ complaints(first: 100) { nodes { id number status
    customer { id name status owner { username } creditLines { limitAmount } }
    handler { username department { name } } } }
  creditLines(first: 100) { nodes { id limitAmount status
    customer { id code complaints { number } } approvals { step actor { username } } } } }"""
# hidden fields mixed in: the relationships under them fall back to the node path
HIDDEN = """{ customers(first: 100) { nodes { id phone outstandingBalance transactionSummary
  owner { username } contacts { name }
  creditLines { limitAmount effectiveStatus customer { phone } }
  complaints { number description accusedUser { username } events { toStatus }
               customer { id outstandingBalance } } } } }"""
QUERIES = {"g2": G2, "deep": DEEP, "roots": ROOTS, "hidden": HIDDEN}


@pytest.fixture
def rich(world, session):
    populate(session, world)
    # a complaint on sales1's customer handled in another branch, a second credit line
    c = world.customers["sales1"][1]
    add_complaint(session, c, world.service, handler=world.sales4)
    add_credit(session, c, world.manager)
    session.commit()
    return world


def _audit_tail(session, after: int) -> list[tuple]:
    rows = session.execute(select(AuditEntry).where(AuditEntry.id > after)
                           .order_by(AuditEntry.id)).scalars().all()
    return [(a.actor_name, a.action, a.target_type, a.target_id, a.outcome, a.before,
             a.after, a.detail) for a in rows]


def _answer(app, client, session, query: str, **switches: bool) -> tuple[bytes, list]:
    app.config.update(GRAPHQL_FAST_EXECUTION=True, GRAPHQL_ROW_LEVELS=True,
                      GRAPHQL_JSON_STATEMENT=False)
    app.config.update(switches)
    last = session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1)) or 0
    session.commit()
    resp = client.post(query)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    session.rollback()
    return resp.get_data(), _audit_tail(session, last)


@pytest.mark.parametrize("name", sorted(QUERIES))
@pytest.mark.parametrize("who", ROLES)
def test_row_levels_answer_and_audit_exactly_like_the_node_path(rich, api, app, session, who,
                                                                name) -> None:
    client = api(getattr(rich, who))
    query = QUERIES[name]
    client.post(query)  # warm-up (the token's last use is written once a minute)
    on, audit_on = _answer(app, client, session, query)
    off, audit_off = _answer(app, client, session, query, GRAPHQL_ROW_LEVELS=False)
    core, audit_core = _answer(app, client, session, query, GRAPHQL_FAST_EXECUTION=False)
    # one JSON statement per list (PostgreSQL; SQLite answers by row levels)
    js, audit_js = _answer(app, client, session, query, GRAPHQL_JSON_STATEMENT=True)
    assert b'"errors"' not in on or name == "hidden", on[:500]
    assert on == off == core == js
    assert audit_on == audit_off == audit_core == audit_js


def test_R_AUD_1_credit_amounts_read_from_rows_are_audited(rich, api, app, session) -> None:
    client = api(rich.gm)
    client.post(G2)
    body, audit = _answer(app, client, session, G2)
    reads = [a for a in audit if a[1] == "credit.view"]
    assert b"limitAmount" in body and len(reads) == 1
    assert "CreditLine" in (reads[0][7] or "") + (reads[0][6] or "")


def test_row_path_is_taken_for_compilable_levels_only(rich, api, app, session,
                                                      monkeypatch) -> None:
    calls: list[str] = []
    real = execution_context.relation_column

    def spy(ctx, spec, *args, **kwargs):
        calls.append(spec.field.python_name)
        return real(ctx, spec, *args, **kwargs)

    monkeypatch.setattr(execution_context, "relation_column", spy)
    client = api(rich.gm)
    client.post(G2)
    calls.clear()
    _answer(app, client, session, G2)
    assert len(calls) == 3  # owner, creditLines, complaints: once per level, not per row
    calls.clear()
    _answer(app, client, session, G2, GRAPHQL_ROW_LEVELS=False)
    assert calls == []
    _answer(app, client, session, HIDDEN)
    assert len(calls) == 1  # only owner { username }: the others select guarded fields


@pytest.fixture
def many_customers(world, session):
    for _ in range(105):
        c = make_customer(session, world.sales1)
        add_complaint(session, c, world.service, handler=world.service)
        add_credit(session, c, world.manager)
        add_extras(session, c, world.sales1)
    session.commit()
    return world


@pytest.mark.parametrize("who", ["sales1", "gm"])
def test_statements_constant_in_page_size_with_row_levels(many_customers, api, app,
                                                          who) -> None:
    client = api(getattr(many_customers, who))
    query = DEEP.replace("first: 50", "first: $n").replace("{ customers", "query($n: Int!) "
                                                           "{ customers", 1)
    client(query, {"n": 1})
    seen = {}
    app.config["GRAPHQL_JSON_STATEMENT"] = False
    for on in (True, False):
        app.config["GRAPHQL_ROW_LEVELS"] = on
        for n in (10, 100):
            count, body = count_statements(lambda n=n: client(query, {"n": n}))
            assert "errors" not in body, body
            assert len(body["data"]["customers"]["edges"]) == n
            seen[(on, n)] = count
    assert seen[(True, 10)] == seen[(True, 100)] == seen[(False, 10)] == seen[(False, 100)]


def test_R_CUST_9_a_borrower_reading_lists_is_audited_like_the_node_path(rich, api, app,
                                                                         session) -> None:
    """A reader with a loan in force: the loan reads recorded for lists whose relationships
    reach the borrowed archive are the same with the switch on and off."""
    from tests.graphql.test_graphql_archive_loans import _borrow

    c = rich.customers["sales1"][0]
    loan_id, _ = _borrow(rich, api, c)
    borrower = api(rich.sales4)
    borrower.post(G2)
    for query in (G2, ROOTS, DEEP):
        on, audit_on = _answer(app, borrower, session, query)
        off, audit_off = _answer(app, borrower, session, query, GRAPHQL_ROW_LEVELS=False)
        js, audit_js = _answer(app, borrower, session, query, GRAPHQL_JSON_STATEMENT=True)
        assert on == off == js
        assert audit_on == audit_off == audit_js
        assert any(a[1] == "archive_loan.read" and a[3] == str(loan_id) for a in audit_on), \
            (query, audit_on)
        assert c.code.encode() in on or query is ROOTS


def test_every_marked_relationship_is_exactly_its_one_or_many_call() -> None:
    """``@relation(kind, key, model[, order])`` repeats what the resolver's body passes to
    ``one``/``many``: the row path makes the same loader call, so they must never drift."""
    import ast
    import pathlib

    marked = 0
    types_dir = pathlib.Path(__file__).resolve().parents[2] / "graphql_api" / "types"
    for path in sorted(types_dir.glob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, ast.FunctionDef):
                continue
            marks = [d for d in fn.decorator_list if isinstance(d, ast.Call)
                     and getattr(d.func, "id", None) == "relation"]
            if not marks:
                continue
            marked += 1
            kind, key, model, *order = (ast.unparse(a) for a in marks[0].args)
            body = [s for s in fn.body if not isinstance(s, ast.ImportFrom)]
            assert len(body) == 1 and isinstance(body[0], ast.Return), (path, fn.name)
            call = body[0].value
            assert isinstance(call, ast.Call), (path, fn.name)
            args = [ast.unparse(a) for a in call.args]
            assert ast.unparse(call.func) == kind.strip("'\""), (path, fn.name)
            assert args[:2] == ["info", "self"], (path, fn.name)
            if kind.strip("'\"") == "one":
                assert args[2:4] == [key, model] and len(args) == 5, (path, fn.name)
            else:
                assert args[2:4] == [model, key] and args[5:] == order, (path, fn.name)
    assert marked >= 20
