"""Issue 21: on PostgreSQL a GraphQL request's connection begins its transaction at the first
write (``GRAPHQL_LAZY_BEGIN``): a read-only request sends no BEGIN and no COMMIT (two round
trips of a plain list's four), and everything from the first write to the COMMIT is still ONE
transaction — the credit-read audit entry (R-AUD-1: head lock and insert together), a
mutation's service. Connections leave the pool out of autocommit for everything else."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from graphql_api import transactions
from models import AuditEntry, Customer
from portal.extensions import db
from tests.graphql.data import add_credit

LIST = "{ customers(first: 5) { nodes { id name } } }"
IDLE, INTRANS = 0, 2  # psycopg's pq.TransactionStatus


@pytest.fixture
def on_postgres(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("psycopg's BEGIN round trip: PostgreSQL only")


class Wire:
    """The BEGIN/COMMIT/ROLLBACK psycopg sends, and each statement with the connection's
    transaction status right after it (INTRANS: inside a transaction block)."""

    def __init__(self, monkeypatch) -> None:
        import psycopg._connection_base as base

        self.log: list[tuple[str, int | str]] = []
        real = base.BaseConnection._exec_command

        def spy(conn, command, *args, **kwargs):
            self.log.append(("command", bytes(command).decode() if isinstance(
                command, bytes) else str(command)))
            return real(conn, command, *args, **kwargs)

        monkeypatch.setattr(base.BaseConnection, "_exec_command", spy)

        def after(conn, cursor, statement, parameters, context, executemany) -> None:
            status = conn.connection.dbapi_connection.info.transaction_status
            self.log.append((statement.lstrip()[:40], int(status)))

        event.listen(db.engine, "after_cursor_execute", after)
        monkeypatch.setattr(self, "_undo", lambda: event.remove(
            db.engine, "after_cursor_execute", after), raising=False)

    def commands(self) -> list[int | str]:
        return [c for kind, c in self.log if kind == "command"]

    def writes(self) -> list[tuple[str, int | str]]:
        return [(s, st) for s, st in self.log
                if s != "command" and not transactions.is_plain_read(s + " ")]


@pytest.fixture
def wire(monkeypatch, on_postgres):
    w = Wire(monkeypatch)
    w.log.clear()
    yield w
    w._undo()


def test_a_read_only_request_sends_no_begin_and_no_commit(world, api, app, wire) -> None:
    client = api(world.sales1)
    assert client(LIST)["data"]["customers"]["nodes"]  # warm-up: last-used written
    wire.log.clear()
    assert client(LIST)["data"]["customers"]["nodes"]
    assert wire.commands() == []
    assert wire.log and all(status == IDLE for _s, status in wire.log)


def test_switch_off_begins_as_before(world, api, app, wire) -> None:
    client = api(world.sales1)
    client(LIST)
    app.config["GRAPHQL_LAZY_BEGIN"] = False
    try:
        wire.log.clear()
        client(LIST)
        assert wire.commands() == ["BEGIN", "COMMIT"]
    finally:
        app.config["GRAPHQL_LAZY_BEGIN"] = True


def test_R_AUD_1_the_credit_read_entry_is_one_transaction(world, session, api, wire) -> None:
    for c in world.customers["sales1"][:2]:
        add_credit(session, c, world.manager)
    session.commit()
    client = api(world.gm)
    client(LIST)
    before = session.scalar(select(func.count()).select_from(AuditEntry))
    session.commit()  # the test's session is the request's: leave it without a transaction
    wire.log.clear()
    body = client("{ creditLines(first: 50) { edges { node { id limitAmount } } } }")
    assert "errors" not in body, body
    log = list(wire.log)
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == before + 1
    wire.log = log
    writes = wire.writes()
    assert len(writes) >= 2  # the head's lock, the entry
    assert all(status == INTRANS for _s, status in writes), writes
    assert wire.commands() == ["BEGIN", "COMMIT"], log
    first_write = log.index(writes[0])
    assert log[first_write - 1] == ("command", "BEGIN")
    assert all(status == IDLE for _s, status in log[:first_write - 1])  # the reads


def test_a_mutation_is_one_transaction(world, session, api, wire) -> None:
    from graphql_api import ids

    customer = world.customers["sales1"][0]
    version = customer.version
    client = api(world.sales1)
    client(LIST)
    session.commit()
    wire.log.clear()
    body = client('mutation($id: ID!, $v: Int!) { updateCustomer(customerId: $id, '
                  'expectedVersion: $v, input: {phone: "13900000000"}) { ok errors { message } '
                  'result { phone } } }',
                  {"id": ids.to_global("Customer", customer.id), "v": version})
    assert "errors" not in body and body["data"]["updateCustomer"]["ok"], body
    writes = wire.writes()
    assert writes and all(status == INTRANS for _s, status in writes), writes
    assert wire.commands().count("BEGIN") == 1 and wire.commands()[-1] == "COMMIT"
    session.expire_all()
    assert session.get(Customer, customer.id).phone == "13900000000"


def test_connections_leave_the_pool_out_of_autocommit(world, api, app, on_postgres) -> None:
    client = api(world.sales1)
    client(LIST)
    client(LIST)
    for _ in range(3):
        with db.engine.connect() as conn:
            assert conn.connection.dbapi_connection.autocommit is False


@pytest.mark.parametrize(("statement", "plain"), [
    ("SELECT 1", True),
    ("  select id FROM customers WHERE name = 'for update'", False),  # when in doubt: not
    ("SELECT id FROM customers FOR UPDATE", False),
    ("SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED", False),
    ("SELECT pg_advisory_xact_lock(190010)", False),
    ("SELECT nextval('s')", False),
    ("WITH new_entry AS (INSERT INTO audit_entries VALUES (1)) SELECT 1", False),
    ("UPDATE audit_chain_head SET seq = seq", False),
    ("INSERT INTO t VALUES (1)", False),
    ("SAVEPOINT sa_1", False),
])
def test_what_counts_as_a_plain_read(statement: str, plain: bool) -> None:
    assert transactions.is_plain_read(statement) is plain


def test_an_engine_not_yet_connected_begins_as_before(app) -> None:
    """Before the engine's first connection its default isolation is unknown: no lazy BEGIN
    (and no error: a worker's first request may be a GraphQL one)."""
    from sqlalchemy import create_engine

    engine = create_engine(db.engine.url)
    try:
        assert transactions.reads_commit_each(engine) is False
        with engine.connect():
            pass
        assert transactions.reads_commit_each(engine) is (engine.dialect.name == "postgresql")
    finally:
        engine.dispose()
