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
