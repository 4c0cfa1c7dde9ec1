"""One JSON statement per list (graphql_api/json_statement.py, GRAPHQL_JSON_STATEMENT, PostgreSQL):
the body and the audit entries left behind are byte for byte those of the row path, as seven
roles, for values that test the SQL twins (quotes, backslashes, control characters, Chinese,
nulls, empty lists, aliases, fragments, __typename, key order); the statement is really taken
where every field has a twin and not elsewhere; a value today's path reports as an error
(an unknown enum value) falls back and is reported the same; statements per request stay
constant in page size and drop by the relationship levels."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

import graphql_api.json_statement as json_statement
from tests.factories import make_customer
from tests.graphql.data import add_complaint, add_credit, populate
from tests.graphql.test_graphql_nplus1 import count_statements
from tests.graphql.test_graphql_row_levels import G2, ROLES, _answer

TRICKY = "引号\"反斜杠\\ 换行\n 制表\t 控制\x01\x1f é \u2028 😀 </script> 'a' %s %(x)s"
SHAPES = """query Q { customers(first: 100) { nodes { __typename
  ... on Customer { code id } kind: name id status importance intent databaseId version
  special: specialCategory notes
  ...Owner
  lines: creditLines { limitAmount status id __typename isRaise termDays }
  complaints { number id status channel customer { id name owner { username } } }
  again: owner { id } } } }
fragment Owner on Customer { owner { fullName username id } }"""


@pytest.fixture
def tricky(world, session):
    populate(session, world)
    c = world.customers["sales1"][0]
    c.name = TRICKY
    c.notes = TRICKY
    c.special_category = None
    add_complaint(session, c, world.service, handler=world.sales4)
    add_credit(session, c, world.manager)
    make_customer(session, world.sales1)  # no credit line, no complaint: empty lists
    session.commit()
    return world


def _is_pg(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@pytest.mark.parametrize("who", ROLES)
def test_json_statement_answers_and_audits_exactly_like_the_row_path(tricky, api, app, session,
                                                                     who) -> None:
    client = api(getattr(tricky, who))
    for query in (G2, SHAPES):
        client.post(query)
        rows, audit_rows = _answer(app, client, session, query)
        js, audit_js = _answer(app, client, session, query, GRAPHQL_JSON_STATEMENT=True)
        assert js == rows, (js[:300], rows[:300])
        assert audit_js == audit_rows


def test_json_statement_is_taken_on_postgresql_only(tricky, api, app, session,
                                                    monkeypatch) -> None:
    taken: list[bool] = []

    def spy(real):
        def spied(*args, **kwargs):
            done = real(*args, **kwargs)
            taken.append(done is not None)
            return done
        return spied

    # a connection's page (json_page, the page folded in) or a list picked by id (json_list)
    for name in ("json_list", "json_page"):
        monkeypatch.setattr(f"graphql_api.execution_context.{name}",
                            spy(getattr(json_statement, name)))
    client = api(tricky.gm)
    for query in (G2, SHAPES):
        taken.clear()
        body, _ = _answer(app, client, session, query, GRAPHQL_JSON_STATEMENT=True)
        assert b"Customer:" in body
        # PostgreSQL: the page folded into one statement; SQLite: neither answers
        assert taken == ([True] if _is_pg(session) else [False, False])
    taken.clear()
    _answer(app, client, session, G2)  # the switch off: not even tried
    assert taken == []
    # a computed field (no SQL twin) or a guarded one: the row path answers
    for query in ("{ customers(first: 5) { nodes { id effectiveStatus } } }",
                  "{ customers(first: 5) { nodes { id phone } } }"):
        taken.clear()
        _answer(app, client, session, query, GRAPHQL_JSON_STATEMENT=True)
        assert not any(taken)


def test_unknown_stored_enum_value_falls_back_to_the_same_error(tricky, api, app,
                                                                session) -> None:
    if not _is_pg(session):
        pytest.skip("the JSON statement is PostgreSQL's; SQLite cannot drop the check")
    c = tricky.customers["sales1"][0]
    # a value the schema's enum does not know (a constraint dropped by hand, an old row)
    session.execute(text("ALTER TABLE customers DROP CONSTRAINT ck_customers_status_known"))
    session.execute(text("UPDATE customers SET status = 'bogus' WHERE id = :id"), {"id": c.id})
    session.commit()
    client = api(tricky.gm)
    client.post(G2)
    rows, audit_rows = _answer(app, client, session, G2)
    js, audit_js = _answer(app, client, session, G2, GRAPHQL_JSON_STATEMENT=True)
    assert b'"errors"' in rows
    request_id = re.compile(rb'"[0-9a-f]{16}"')  # each request's own id, in the error
    assert request_id.sub(b"id", js) == request_id.sub(b"id", rows)
    assert audit_js == audit_rows


@pytest.fixture
def many(world, session):
    for _ in range(105):
        c = make_customer(session, world.sales1)
        add_complaint(session, c, world.service, handler=world.service)
        add_credit(session, c, world.manager)
    session.commit()
    return world


@pytest.mark.parametrize("who", ["sales1", "gm"])
def test_statements_constant_in_page_size_and_fewer(many, api, app, session, who) -> None:
    client = api(getattr(many, who))
    query = G2.replace("first: 100", "first: $n").replace("{ customers", "query($n: Int!) "
                                                          "{ customers", 1)
    client(query, {"n": 1})
    seen = {}
    for on in (True, False):
        app.config["GRAPHQL_JSON_STATEMENT"] = on
        for n in (10, 100):
            count, body = count_statements(lambda n=n: client(query, {"n": n}))
            assert "errors" not in body, body
            assert len(body["data"]["customers"]["nodes"]) == n
            seen[(on, n)] = count
    assert seen[(True, 10)] == seen[(True, 100)]
    assert seen[(False, 10)] == seen[(False, 100)]
    if _is_pg(session):  # the page, owners, credit lines and complaints: one statement
        assert seen[(True, 100)] == seen[(False, 100)] - 3


@pytest.mark.parametrize("order", ["REGISTERED_AT_DESC", "NAME_ASC", "CODE_ASC", "ID_DESC"])
@pytest.mark.parametrize("who", ["sales1", "gm"])
def test_folded_page_cursors_and_has_next_equal_the_row_paths(tricky, api, app, session,
                                                              monkeypatch, order, who) -> None:
    """The page folded into its statement (pageInfo from the statement's first/last rows and
    its n + 1st row): every page of a walk by cursor, two rows at a time, is byte for byte the
    row path's, cursors included (a datetime's cursor too), up to the last page."""
    folded: list[bool] = []

    def spy(*args, **kwargs):
        done = json_statement.json_page(*args, **kwargs)
        folded.append(done is not None)
        return done

    monkeypatch.setattr("graphql_api.execution_context.json_page", spy)
    client = api(getattr(tricky, who))
    if _is_pg(session):  # the driver's datetimes in another zone: the cursor reads UTC
        session.execute(text("SET TIME ZONE 'Asia/Shanghai'"))
        session.commit()
    try:
        pages = _walk(app, client, session, order)
        assert pages >= 2
        # PostgreSQL: every page asked with the switch on answered by its one statement
        assert len(folded) >= pages
        assert all(folded) if _is_pg(session) else not any(folded)
    finally:
        if _is_pg(session):
            session.rollback()
            session.execute(text("RESET TIME ZONE"))
            session.commit()


def _walk(app, client, session, order: str) -> int:
    """Pages walked, each compared with the row path's."""
    import orjson

    after = ""
    pages = 0
    while True:
        query = (f"{{ customers(first: 2, orderBy: {order}{after}) {{ pageInfo {{ hasNextPage "
                 "hasPreviousPage startCursor endCursor } nodes { id name "
                 "owner { username } creditLines { limitAmount } } } }")
        client.post(query)
        rows, audit_rows = _answer(app, client, session, query)
        js, audit_js = _answer(app, client, session, query, GRAPHQL_JSON_STATEMENT=True)
        assert js == rows, (js[:400], rows[:400])
        assert audit_js == audit_rows
        info = orjson.loads(js)["data"]["customers"]["pageInfo"]
        pages += 1
        if not info["hasNextPage"]:
            break
        after = f', after: "{info["endCursor"]}"'
    return pages
