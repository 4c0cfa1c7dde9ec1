from sqlalchemy import select

from models import Grant


def test_app_serves_login_and_graphql(client):
    assert client.get("/admin/").status_code == 302
    assert client.get("/login").status_code == 200
    resp = client.post("/graphql", json={"query": "{ __typename }"})
    assert resp.status_code == 200
    assert resp.get_json()["data"]["__typename"] == "Query"


def test_migrations_seed_default_grants(session):
    assert session.scalar(select(Grant).limit(1)) is not None


def test_world_builds(world, login):
    c = login(world.sales1)
    assert c.get("/admin/").status_code == 200


def test_anonymous_typename_probe_reads_nothing_else(client):
    for query in ("{ customers(first: 1) { totalCount } }", "{ __typename me { id } }",
                  "{ a: __typename }", "mutation { __typename }"):
        resp = client.post("/graphql", json={"query": query})
        assert resp.status_code == 401, query
