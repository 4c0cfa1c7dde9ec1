"""G3: ``node(id:)`` of one customer with its nine relations answered by ONE JSON statement on
PostgreSQL (graphql_api.json_detail, issue 21), exactly as the row path answers it.

The corpus group ``detail_node`` (tests/graphql/json_corpus.py, run by
test_json_statement_parity.py as every role, switch on and off) compares the bodies byte for
byte, the audit entries and the scope. Here: that the statement is really taken (and when it
is not), how many statements G3 costs, the errors of a field the role may not read, and the
policy's ``visible_on_every_row`` the statement relies on for lists of rows."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from models import Complaint, Customer, CustomerContact, User
from portal import clock, policy
from tests.graphql import json_corpus
from tests.graphql.json_corpus import ANCHOR, DETAIL, Doc
from tests.graphql.test_graphql_nplus1 import count_statements
from tests.graphql.test_json_statement_parity import ROLES, answer

G3 = "query($id: ID!) { node(id: $id) { ... on Customer { " + DETAIL + " } } }"


@pytest.fixture
def detail_world(world, session, api):
    from tests.graphql.test_graphql_archive_loans import _borrow

    with clock.frozen(ANCHOR):
        w = json_corpus.build(session, world)
        w.loan_id, _ = _borrow(w, api, w.customers["sales1"][0])
        yield w


def _is_pg(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@pytest.fixture
def taken(monkeypatch):
    """Each call of json_detail from the executor: whether it answered."""
    from graphql_api import json_detail

    calls: list[bool] = []

    def spied(*args, **kwargs):
        done = json_detail.json_detail(*args, **kwargs)
        calls.append(done is not None)
        return done

    monkeypatch.setattr("graphql_api.execution_context.json_detail", spied)
    return calls


def _g3(app, client, session, customer, switch: bool):
    return answer(app, client, session, Doc(G3, {"id": f"Customer:{customer.id}"}), switch)


@pytest.mark.parametrize("who", ["gm", "sales1", "supervisor"])
def test_G3_is_one_statement_instead_of_one_per_relation(detail_world, api, app, session,
                                                         taken, who) -> None:
    """gm, the owner and the supervisor read sales1's customer (classified files, an archive
    on loan, a complaint handled in another department): with the switch on the nine
    relations come from one statement on PostgreSQL (token, the scoped read of the row, the
    statement, the credit-read entry: at most 6 statements), the same body and audit entries
    as the row path's 13 or more; SQLite keeps the row path."""
    w = detail_world
    c = w.customers["sales1"][0]
    with clock.frozen(ANCHOR):
        client = api(getattr(w, who))
        client.post("{ me { username } }")
        _g3(app, client, session, c, True)  # warm: plans and statements cached
        taken.clear()
        on, audit_on = _g3(app, client, session, c, True)
        off, audit_off = _g3(app, client, session, c, False)
        counts = {}
        for switch in (True, False):  # the request alone
            app.config["GRAPHQL_JSON_STATEMENT"] = switch
            counts[switch], _ = count_statements(
                lambda: client.post(G3, {"id": f"Customer:{c.id}"}))
            session.rollback()
    on_count, off_count = counts[True], counts[False]
    assert on == off and audit_on == audit_off
    body = json.loads(on.split(b" ", 1)[1])
    node = body["data"]["node"]
    assert "errors" not in body and node["id"] == f"Customer:{c.id}"
    assert node["complaints"] and node["files"] and node["creditLines"] and node["contacts"]
    assert any(a[1] == "credit.view" for a in audit_on), audit_on
    if _is_pg(session):
        assert taken == [True, True]
        assert on_count <= 6 < off_count, (on_count, off_count)
    else:
        assert taken == [False, False] and on_count == off_count


def test_a_field_the_role_may_not_read_leaves_the_row_path_and_its_error(
        detail_world, api, app, session, taken) -> None:
    """Finance may read credit but not contact details: the customer's phone is decided for
    this one row before any statement, so the row path answers with its FORBIDDEN errors
    (the same with the switch off); a customer the reader may not see is null, as before."""
    w = detail_world
    with clock.frozen(ANCHOR):
        client = api(w.finance)
        client.post("{ me { username } }")
        taken.clear()
        on, audit_on = _g3(app, client, session, w.odd, True)
        off, audit_off = _g3(app, client, session, w.odd, False)
        assert on == off and audit_on == audit_off
        assert taken == [False]
        errors = json.loads(on.split(b" ", 1)[1])["errors"]
        assert {e["path"][-1] for e in errors} >= {"phone", "address", "contacts"}
        assert {e["extensions"]["code"] for e in errors} == {"FORBIDDEN"}
        client = api(w.sales1)
        client.post("{ me { username } }")
        on, audit_on = _g3(app, client, session, w.ownerless, True)
        off, audit_off = _g3(app, client, session, w.ownerless, False)
    assert on == off and audit_on == audit_off
    assert json.loads(on.split(b" ", 1)[1])["data"] == {"node": None}


def test_R_CUST_9_a_borrower_reads_the_lent_archive_in_one_statement(
        detail_world, api, app, session, taken) -> None:
    """sales4 borrowed sales1's first archive: G3 shows it (one statement on PostgreSQL) and
    leaves the same archive-loan read entry as the row path."""
    w = detail_world
    with clock.frozen(ANCHOR):
        client = api(w.sales4)
        client.post("{ me { username } }")
        taken.clear()
        on, audit_on = _g3(app, client, session, w.customers["sales1"][0], True)
        off, audit_off = _g3(app, client, session, w.customers["sales1"][0], False)
    assert on == off and audit_on == audit_off
    assert json.loads(on.split(b" ", 1)[1])["data"]["node"]["name"]
    assert any(a[1] == "archive_loan.read" and a[3] == str(w.loan_id) for a in audit_on)
    assert taken == [_is_pg(session)]


def test_visible_on_every_row_is_within_every_rows_visible_fields(detail_world,
                                                                  session) -> None:
    """What the statement reads as plain columns of a list (``visible_on_every_row``) is
    readable on each row for every role (``visible_fields``), and a field group granted
    only in a narrower scope is not in it."""
    w = detail_world
    models = (Customer, Complaint, CustomerContact, User)
    checked = 0
    for who in ROLES:
        user = getattr(w, who)
        for model in models:
            every = policy.visible_on_every_row(user, model)
            for obj in session.scalars(select(model)).unique():
                assert every <= policy.visible_fields(user, model, obj), (who, model, obj.id)
                checked += 1
    assert checked > 100
    # sales1 reads complaint details only in their scope; gm everywhere
    assert "description" not in policy.visible_on_every_row(w.sales1, Complaint)
    assert "description" in policy.visible_on_every_row(w.gm, Complaint)


def test_a_complaint_detail_hidden_on_one_row_leaves_the_row_path(detail_world, api, app,
                                                                  session, taken) -> None:
    """The security administrator widens the salespeople's customer.view and complaint.view
    to their branch, complaint_detail stays their own: sales1 now reads sales2's customer and
    its complaints but not their descriptions. The statement's per-row condition (the
    policy's ``scope`` for ``complaint_detail.view``) sends that request back to the row path
    (same body, with the FORBIDDEN error on each description, same audit entries); sales1's
    own customer is still answered by the statement."""
    from models import Grant
    from portal.services import grants

    w = detail_world
    query = """query($id: ID!) { node(id: $id) { ... on Customer { id name
        complaints { id number status description } } } }"""
    theirs, mine = w.customers["sales2"][0], w.customers["sales1"][1]
    with clock.frozen(ANCHOR):
        client = api(w.sales1)
        client.post("{ me { username } }")
        for area in ("customer", "complaint"):
            gid = session.scalar(select(Grant.id).where(
                Grant.role == "sales", Grant.area == area, Grant.action == "view"))
            grants.change_scope(session, w.secadmin, gid, {"scope": "branch"})
        session.commit()
        results = {}
        for customer in (theirs, mine):
            doc = Doc(query, {"id": f"Customer:{customer.id}"})
            taken.clear()
            on, audit_on = answer(app, client, session, doc, True)
            off, audit_off = answer(app, client, session, doc, False)
            assert on == off and audit_on == audit_off, customer.id
            results[customer.id] = (json.loads(off.split(b" ", 1)[1]), list(taken))
    body, calls = results[theirs.id]
    assert body["data"]["node"]["complaints"], body
    assert {e["path"][-1] for e in body["errors"]} == {"description"}, body["errors"]
    assert calls == [False]
    body, calls = results[mine.id]
    assert "errors" not in body and body["data"]["node"]["complaints"][0]["description"]
    assert calls == [_is_pg(session)]
