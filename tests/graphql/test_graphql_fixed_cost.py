"""The fixed cost of a token request (issue 21, direction 1): the token, its user, the user's
roles and their grants are read in ONE statement, and every change still applies from the
very next request: a grant change, a role change, a deactivation, a token revocation."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import delete, event, select, update

from models import ApiToken, Grant, RoleAssignment
from models.base import utcnow
from models.org import TwoFactor
from portal.extensions import db
from portal.services import configuration
from portal.services import tokens as token_service
from tests.graphql.conftest import Api, make_token

LIST = "{ customers(first: 50) { nodes { id name } } }"
ME = "{ me { user { username } } }"


@contextmanager
def statements(app):
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _names(body: dict) -> list[str]:
    return [n["name"] for n in body["data"]["customers"]["nodes"]]


def test_token_user_roles_and_grants_are_one_statement(app, world, session, client) -> None:
    api = Api(client, make_token(session, world.sales1))
    api(LIST)  # warm (and the last-used write of the first request)
    with statements(app) as seen:
        body = api(LIST)
    assert _names(body)
    token_reads = [s for s in seen if "FROM api_tokens" in s]
    assert len(token_reads) == 1 and "grants" in token_reads[0] \
        and "role_assignments" in token_reads[0], token_reads
    # no statement of its own for the grants any more
    assert not [s for s in seen if s.startswith("SELECT grants.")], seen


def test_R_ROLE_5_a_grant_change_applies_on_the_next_token_request(world, session,
                                                                  client) -> None:
    api = Api(client, make_token(session, world.sales1))
    assert _names(api(LIST))
    session.execute(delete(Grant).where(Grant.role == "sales", Grant.area == "customer",
                                        Grant.action == "view"))
    session.commit()
    assert _names(api(LIST)) == []


def test_R_ROLE_5_a_role_change_applies_on_the_next_token_request(world, session,
                                                                 client) -> None:
    api = Api(client, make_token(session, world.sales1))
    assert _names(api(LIST))
    session.execute(update(RoleAssignment).where(RoleAssignment.user_id == world.sales1.id)
                    .values(revoked_at=utcnow()))
    session.commit()
    assert _names(api(LIST)) == []


def test_R_ROLE_4_a_deactivation_applies_on_the_next_token_request(world, session,
                                                                  client) -> None:
    raw = make_token(session, world.sales1)
    api = Api(client, raw)
    assert api(ME)["data"]["me"]["user"]["username"] == "sales1"
    world.sales1.is_active = False
    session.commit()
    assert api.post(ME).status_code == 401


def test_a_token_revocation_applies_on_the_next_request(world, session, client) -> None:
    raw = make_token(session, world.sales1)
    api = Api(client, raw)
    assert api(ME)["data"]["me"]["user"]["username"] == "sales1"
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == world.sales1.id))
    token_service.revoke_token(session, world.sales1, token.id)
    assert api.post(ME).status_code == 401


def test_R_ROLE_6_two_factor_setting_and_enrolment_ride_on_the_token_statement(
        app, world, session, client) -> None:
    """The general manager must use two factors (and is enrolled): the check reads the setting
    and the enrolment in the token statement, not in statements of their own."""
    api = Api(client, make_token(session, world.gm))
    api(LIST)
    with statements(app) as seen:
        assert _names(api(LIST))
    assert not [s for s in seen if "FROM settings" in s and "api_tokens" not in s], seen
    assert not [s for s in seen if "FROM two_factor" in s and "api_tokens" not in s], seen


def test_R_ROLE_6_a_two_factor_setting_change_applies_on_the_next_token_request(
        world, session, client) -> None:
    api = Api(client, make_token(session, world.sales1))  # sales1 has no second factor
    assert _names(api(LIST))
    configuration.update_setting(session, world.sysadmin, "two_factor.required_roles",
                                 {"value": ["general_manager", "sales", "secadmin", "secauditor", "sysadmin"]})
    session.commit()
    refused = api.post(LIST)
    assert refused.status_code == 403
    assert refused.get_json()["errors"][0]["extensions"]["code"] == "TWO_FACTOR_REQUIRED"
    configuration.reset_setting(session, world.sysadmin, "two_factor.required_roles")
    session.commit()
    assert _names(api(LIST))


def test_R_ROLE_6_a_lost_enrolment_applies_on_the_next_token_request(world, session,
                                                                    client) -> None:
    api = Api(client, make_token(session, world.gm))
    assert _names(api(LIST))
    session.execute(delete(TwoFactor).where(TwoFactor.user_id == world.gm.id))
    session.commit()
    refused = api.post(LIST)
    assert refused.status_code == 403
    assert refused.get_json()["errors"][0]["extensions"]["code"] == "TWO_FACTOR_REQUIRED"


def test_R_ROLE_5_token_grants_are_those_of_the_token_owners_roles(world, session,
                                                                   client) -> None:
    """With the general manager holding a token too, a salesperson's token request still sees
    only the salesperson's own customers, on the first request and every later one (the
    grants read with the token were once those of every token owner's roles)."""
    from models import Customer

    make_token(session, world.gm)
    api = Api(client, make_token(session, world.sales1))
    own = set(session.scalars(select(Customer.name)
                              .where(Customer.owner_id == world.sales1.id)).all())
    others = set(session.scalars(select(Customer.name)
                                 .where(Customer.owner_id != world.sales1.id)).all())
    assert own and others - own  # the check means something
    for _ in range(3):
        names = set(_names(api(LIST)))
        assert names and names <= own, names - own
