"""Section G of the campaign (security.md): faults.

- two editors of one customer: the second gets a clear conflict and nothing is lost, in the
  portal (edit form with the version it was read at) and through GraphQL (``expectedVersion``);
  runs on SQLite and PostgreSQL;
- every app connection killed between requests (``pg_terminate_backend`` from a separate admin
  connection): the next request succeeds (PostgreSQL only);
- ``/healthz`` answers 503 while the database refuses connections and 200 again afterwards,
  without restarting the app (PostgreSQL only).

Between two requests the tests call ``db.session.remove()``: that is what the end of a real
request does (the test client shares one app context across requests, a server does not).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from models import Customer
from portal.extensions import db
from tests.conftest import ON_POSTGRES
from tests.graphql.conftest import make_token
from tests.security import campaign

ROUNDS = 25
_VERSION = re.compile(r'name="version"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="version"')
UPDATE = """mutation($id: ID!, $notes: String!, $v: Int!) {
  updateCustomer(customerId: $id, input: {notes: $notes}, expectedVersion: $v) {
    ok errors { code message } result { notes version } } }"""

needs_pg = pytest.mark.skipif(not ON_POSTGRES, reason="fault injection needs PostgreSQL "
                              "(set DATABASE_URL=postgresql+psycopg://…)")


def end_request() -> None:
    db.session.remove()


def _form_version(body: str) -> int:
    m = _VERSION.search(body)
    assert m, "the edit form carries no version field"
    return int(m.group(1) or m.group(2))


def _english(client):
    client.get("/lang/en")
    return client


def test_two_editors_in_the_portal_second_gets_a_conflict(world, session, login) -> None:
    cust = world.customers["sales1"][0]
    a = _english(login(world.sales1))
    b = _english(login(world.supervisor))
    url = f"/admin/customer/edit/?id={cust.id}"
    for i in range(ROUNDS):
        form_a = campaign.check_response(a.get(url)).get_data(as_text=True)
        form_b = campaign.check_response(b.get(url)).get_data(as_text=True)
        va, vb = _form_version(form_a), _form_version(form_b)
        assert va == vb
        end_request()
        ra = a.post(url, data={"name": cust.name, "notes": f"A{i}", "version": str(va)})
        campaign.check_response(ra, "first editor")
        assert ra.status_code == 302, ra.get_data(as_text=True)[-800:]
        end_request()
        rb = b.post(url, data={"name": cust.name, "notes": f"B{i}", "version": str(vb)})
        campaign.check_response(rb, "second editor")
        end_request()
        campaign.count("conflict_cases")
        body = rb.get_data(as_text=True)
        row = session.get(Customer, cust.id)
        session.refresh(row)
        detected = (rb.status_code == 200 and "changed by someone else" in body
                    and row.notes == f"A{i}" and row.version == va + 1)
        if detected:
            campaign.count("conflicts_detected")
        assert detected, (rb.status_code, row.notes, row.version, body[-600:])
        end_request()


def test_two_editors_through_graphql_second_gets_a_conflict(world, session, client) -> None:
    cust = world.customers["sales1"][0]
    ta = make_token(session, world.sales1)
    tb = make_token(session, world.supervisor)
    gid = f"Customer:{cust.id}"

    def call(token: str, notes: str, version: int) -> dict:
        resp = client.post("/graphql", json={"query": UPDATE, "variables": {
            "id": gid, "notes": notes, "v": version}},
            headers={"Authorization": f"Bearer {token}"})
        campaign.check_response(resp, "graphql update")
        end_request()
        return resp.get_json()

    for i in range(ROUNDS):
        session.expire_all()
        version = session.get(Customer, cust.id).version
        end_request()
        first = call(ta, f"A{i}", version)["data"]["updateCustomer"]
        assert first["ok"], first
        second = call(tb, f"B{i}", version)["data"]["updateCustomer"]
        campaign.count("conflict_cases")
        row = session.get(Customer, cust.id)
        session.refresh(row)
        detected = (not second["ok"] and [e["code"] for e in second["errors"]] == ["conflict"]
                    and row.notes == f"A{i}" and row.version == version + 1)
        if detected:
            campaign.count("conflicts_detected")
        assert detected, (second, row.notes, row.version)
        end_request()


# ------------------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def pg_admin(database_url: str) -> Iterator:
    """An AUTOCOMMIT connection to the maintenance database, outside the app's pool."""
    url = make_url(database_url)
    engine = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        yield conn, url.database
    engine.dispose()


def _kill_app_connections(conn, dbname: str) -> int:
    return len(conn.execute(text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = :db AND pid <> pg_backend_pid()"), {"db": dbname}).all())


@needs_pg
def test_all_connections_killed_between_requests_next_request_succeeds(world, session,
                                                                       login, client,
                                                                       pg_admin) -> None:
    conn, dbname = pg_admin
    c = login(world.sales1)
    token = make_token(session, world.sales1)
    cust = world.customers["sales1"][0]
    cid, name = cust.id, cust.name
    end_request()
    killed_total = 0
    for i in range(5):
        assert campaign.check_response(c.get("/admin/customer/")).status_code == 200
        end_request()
        killed_total += _kill_app_connections(conn, dbname)
        # a read, a GraphQL query and a write, each right after the kill
        assert campaign.check_response(c.get("/admin/customer/")).status_code == 200
        end_request()
        killed_total += _kill_app_connections(conn, dbname)
        resp = client.post("/graphql", json={"query": "{ me { user { username } } }"},
                           headers={"Authorization": f"Bearer {token}"})
        campaign.check_response(resp)
        assert (resp.get_json().get("data") or {}).get("me", {}).get("user", {}).get("username") == "sales1", \
            resp.get_json()
        end_request()
        killed_total += _kill_app_connections(conn, dbname)
        version = session.get(Customer, cid).version
        end_request()
        _kill_app_connections(conn, dbname)
        resp = c.post(f"/admin/customer/edit/?id={cid}",
                      data={"name": name, "notes": f"after kill {i}",
                            "version": str(version)})
        campaign.check_response(resp)
        assert resp.status_code == 302
        end_request()
        assert session.get(Customer, cid).notes == f"after kill {i}"
        end_request()
    assert killed_total > 0, "nothing was killed: the test did not test anything"


@needs_pg
def test_readyz_503_while_the_database_is_down_and_200_after(world, login, client,
                                                               pg_admin) -> None:
    conn, dbname = pg_admin
    c = login(world.sales1)
    assert client.get("/readyz").status_code == 200
    end_request()
    try:
        conn.execute(text(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS false'))
        _kill_app_connections(conn, dbname)
        for _ in range(3):
            resp = client.get("/readyz")
            campaign.check_response(resp) if resp.status_code != 503 else None
            assert resp.status_code == 503, resp.get_data(as_text=True)
            assert resp.get_json()["status"] == "unavailable"
            assert resp.get_json()["database"].startswith("unavailable")
            end_request()
            # liveness does not depend on the database: the app server is not restarted
            assert client.get("/healthz").status_code == 200
            end_request()
        # a page and the API answer a clean 503 too (never a 500 with a trace)
        resp = c.get("/admin/customer/")
        assert resp.status_code == 503, resp.status_code
        assert "Traceback" not in resp.get_data(as_text=True)
        end_request()
        resp = client.post("/graphql", json={"query": "{ me { user { username } } }"},
                           headers={"Authorization": "Bearer cap_nothing"})
        assert resp.status_code == 503, resp.status_code
        end_request()
    finally:
        conn.execute(text(f'ALTER DATABASE "{dbname}" ALLOW_CONNECTIONS true'))
    resp = client.get("/readyz")
    campaign.check_response(resp)
    assert resp.status_code == 200 and resp.get_json()["status"] == "ok"
    end_request()
    assert campaign.check_response(c.get("/admin/customer/")).status_code == 200
