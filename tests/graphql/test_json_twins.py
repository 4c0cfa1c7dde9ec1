"""SQL twins of datetimes and dates (graphql_api/json_sql.py, issue 21): a list selecting them
(G1: ``id code name status registeredAt``; G4 the same at 1,000 rows) is answered by the JSON
statement on PostgreSQL, and the body is byte for byte the row path's — Strawberry's
``isoformat()`` of the value the reader returns (UTC, ``+00:00``, the fraction only when the
microsecond is not 0) — for adversarial values: microsecond 0 and 1 and 999999, midnight,
before 1970, years 99 and 9999, NULLs, in a session whose time zone is not UTC. A value Python
cannot read back unchanged (9999-12-31, ``infinity``) leaves the list to the row path, which
answers exactly as before. On SQLite both runs take the row path and must agree as well."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import literal_column, select, text

from graphql_api import json_sql
from portal.extensions import db as _db
from tests.factories import make_customer
from tests.graphql.data import add_complaint, add_credit, populate
from tests.graphql.test_graphql_row_levels import _answer

# (registered_at, first_contact_at, a credit line's valid_from / valid_until)
MOMENTS = [
    datetime(2026, 3, 10, 0, 0, 0, 0, tzinfo=UTC),            # midnight, microsecond 0
    datetime(2026, 3, 10, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 10, 12, 0, 0, 1, tzinfo=UTC),            # microsecond 1: ".000001"
    datetime(2026, 3, 10, 12, 0, 0, 100000, tzinfo=UTC),       # ".100000", not ".1"
    datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC),            # before 1970
    datetime(1900, 1, 1, 0, 0, 0, 500, tzinfo=UTC),
    datetime(99, 1, 2, 3, 4, 5, tzinfo=UTC),                   # a year of two digits
    datetime(9999, 12, 30, 23, 59, 59, 999999, tzinfo=UTC),   # the last day that is written
]
DATES = [date(2026, 2, 28), date(2024, 2, 29), date(1969, 12, 31), date(99, 1, 2),
         date(1, 1, 1), date(9999, 12, 31), None]

G1 = """{ customers(first: 50, orderBy: ID_ASC) { nodes { id code name status registeredAt } } }"""
WIDE = """{ customers(first: 100, orderBy: ID_ASC) { nodes { id registeredAt firstContactAt
  ownershipExpiresAt dealAt lastServiceAt closedAt
  creditLines { id proposedAt approvedAt validFrom validUntil }
  complaints { id registeredAt deadlineAt closedAt } } } }"""
ROLES = ["sales1", "supervisor", "gm", "finance", "auditor"]


@pytest.fixture
def moments(world, session):
    populate(session, world)
    for i, at in enumerate(MOMENTS):
        c = make_customer(session, world.sales1, registered_at=at, first_contact_at=at,
                          deal_at=None if i % 2 else at, last_service_at=at,
                          ownership_expires_at=at)
        line = add_credit(session, c, world.manager)
        line.proposed_at = at
        line.approved_at = None if i % 3 else at
        line.valid_from = DATES[i % len(DATES)]
        line.valid_until = DATES[(i + 3) % len(DATES)]
        complaint = add_complaint(session, c, world.service, handler=world.service)
        complaint.registered_at = at
        complaint.deadline_at = at
    session.commit()
    if _is_pg(session):  # the company's time zone, not UTC: the twins must not depend on it
        name = session.scalar(text("SELECT current_database()"))
        session.execute(text(f'ALTER DATABASE "{name}" SET timezone TO \'Asia/Shanghai\''))
        session.commit()
        _db.engine.dispose()
        assert session.scalar(text("SHOW timezone")) == "Asia/Shanghai"
    return world


def _is_pg(session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@pytest.fixture
def spy(monkeypatch) -> list[bool]:
    """Whether each list the executor offered to a JSON statement (a list of rows,
    ``json_list``; a connection's page, ``json_page`` where it exists) was answered by it."""
    import graphql_api.execution_context as execution_context

    taken: list[bool] = []
    for name in ("json_list", "json_page"):
        real = getattr(execution_context, name, None)
        if real is None:
            continue

        def answered(*args, real=real, **kwargs):
            done = real(*args, **kwargs)
            taken.append(done is not None)
            return done

        monkeypatch.setattr(execution_context, name, answered)
    return taken


@pytest.mark.parametrize("who", ROLES)
def test_datetimes_and_dates_read_alike_and_take_the_statement(moments, api, app, session, spy,
                                                               who) -> None:
    client = api(getattr(moments, who))
    client.post(G1)
    for query in (G1, WIDE):
        rows, audit_rows = _answer(app, client, session, query)
        spy.clear()
        js, audit_js = _answer(app, client, session, query, GRAPHQL_JSON_STATEMENT=True)
        assert js == rows, (js[:400], rows[:400])
        assert audit_js == audit_rows
        assert b'"errors"' not in js
        # on PostgreSQL the customers' list is a JSON statement's text; SQLite: not tried
        assert (True in spy) is _is_pg(session)


def test_isoformat_of_each_adversarial_value(moments, api, app, session) -> None:
    """What the general manager reads: the exact text of every kind of value."""
    client = api(moments.gm)
    body, _ = _answer(app, client, session, WIDE, GRAPHQL_JSON_STATEMENT=True)
    for at in MOMENTS:
        assert f'"registeredAt":"{at.isoformat()}"'.encode() in body
    assert b'"registeredAt":"2026-03-10T00:00:00+00:00"' in body
    assert b'"registeredAt":"2026-03-10T12:00:00.000001+00:00"' in body
    assert b'"registeredAt":"0099-01-02T03:04:05+00:00"' in body
    assert b'"validFrom":"0001-01-01"' in body and b'"validUntil":"0099-01-02"' in body
    assert b'"dealAt":null' in body and b'"validFrom":null' in body


@pytest.mark.parametrize("stored", ["9999-12-31 12:00:00+00", "9999-12-31 00:00:00+00",
                                    "0001-01-01 00:00:00+00", "0001-01-01 23:59:59+00"])
def test_a_value_at_the_ends_leaves_the_list_to_the_row_path(moments, api, app, session, spy,
                                                            stored) -> None:
    """Values Python may not read back unchanged: the row path answers (and fails) as before."""
    if not _is_pg(session):
        pytest.skip("infinity is PostgreSQL's")
    c = moments.customers["sales1"][0]
    session.execute(text("UPDATE customers SET registered_at = CAST(:v AS timestamptz) "
                         "WHERE id = :id"), {"v": stored, "id": c.id})
    session.commit()
    client = api(moments.gm)
    client.post("{ me { username } }")
    rows, audit_rows = _answer(app, client, session, G1)
    spy.clear()
    js, audit_js = _answer(app, client, session, G1, GRAPHQL_JSON_STATEMENT=True)
    assert spy and True not in spy
    assert js == rows
    assert audit_js == audit_rows


@pytest.mark.parametrize(("kind", "stored"), [
    ("timestamptz", "infinity"), ("timestamptz", "-infinity"), ("date", "infinity"),
    ("date", "-infinity"), ("timestamptz", "10000-01-01 00:00:00+00"), ("date", "10000-01-01"),
    ("timestamptz", "0001-12-31 00:00:00+00 BC"), ("date", "0001-12-31 BC")])
def test_values_python_cannot_read_are_the_sentinel(app, session, kind, stored) -> None:
    """Not writable as Python reads them (psycopg refuses them): the list goes to the row
    path (``SENTINEL``), never a text of our own."""
    if not _is_pg(session):
        pytest.skip("the twins are PostgreSQL's")
    twin = json_sql._datetime_twin if kind == "timestamptz" else json_sql._date_twin
    stmt = select(twin(literal_column(f"CAST('{stored}' AS {kind})")))
    assert session.scalar(stmt) == json_sql.SENTINEL
