"""The token statement as a request's fresh session runs it (issue 21): plain columns on the
connection, filed as the session's objects as if the ORM had loaded them. The other token
tests share the test's session (and so read through the ORM, which keeps what that session
holds); here every request runs in its own thread, hence its own app context and session, as
under gunicorn — and every change must still apply from the next request."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from models import ApiToken, Customer, Grant, RoleAssignment
from models.base import utcnow
from models.org import TwoFactor
from portal import clock, policy_grants, policy_loans, settings
from portal.extensions import db
from portal.services import tokens
from tests.graphql.conftest import make_token

LIST = "{ customers(first: 50) { nodes { id name } } }"
ME = "{ me { user { username } } }"


class FreshApi:
    """Posts each request from a new thread: nothing of the test's session is shared."""

    def __init__(self, client, raw: str, monkeypatch) -> None:
        self.client = client
        self.raw = raw
        self.core_reads = 0
        real = tokens._TokenRows.objects

        def counted(rows, session, *token_row):
            self.core_reads += 1
            return real(rows, session, *token_row)

        monkeypatch.setattr(tokens._TokenRows, "objects", counted)

    def post(self, query: str):
        out: list = []
        before = self.core_reads
        thread = threading.Thread(target=lambda: out.append(self.client.post(
            "/graphql", json={"query": query},
            headers={"Authorization": f"Bearer {self.raw}"})))
        thread.start()
        thread.join()
        assert self.core_reads == before + 1 or out[0].status_code == 401  # the plain read
        return out[0]

    def names(self) -> set[str]:
        resp = self.post(LIST)
        assert resp.status_code == 200, resp.get_data(as_text=True)
        return {n["name"] for n in resp.get_json()["data"]["customers"]["nodes"]}


@pytest.fixture
def fresh(client, session, monkeypatch):
    return lambda user: FreshApi(client, make_token(session, user), monkeypatch)


def test_R_ROLE_5_grant_and_role_changes_apply_on_the_next_request(fresh, world,
                                                                    session) -> None:
    api = fresh(world.sales1)
    own = {c.name for c in world.customers["sales1"]}
    assert own and api.names() == own & api.names() and own <= api.names()
    session.execute(delete(Grant).where(Grant.role == "sales", Grant.area == "customer",
                                        Grant.action == "view"))
    session.commit()
    assert api.names() == set()
    api2 = fresh(world.sales2)
    session.execute(update(RoleAssignment).where(RoleAssignment.user_id == world.sales2.id)
                    .values(revoked_at=utcnow()))
    session.commit()
    assert api2.post(ME).status_code == 200  # still signed in, with no role in force
    assert api2.names() == set()


def test_R_ROLE_5_token_grants_are_those_of_the_token_owners_roles(fresh, world,
                                                                   session) -> None:
    make_token(session, world.gm)
    api = fresh(world.sales1)
    own = set(session.scalars(select(Customer.name)
                              .where(Customer.owner_id == world.sales1.id)).all())
    for _ in range(3):
        names = api.names()
        assert names and names <= own, names - own


def test_R_ROLE_4_deactivation_revocation_and_expiry_apply_on_the_next_request(
        fresh, world, session) -> None:
    api = fresh(world.sales1)
    assert api.post(ME).get_json()["data"]["me"]["user"]["username"] == "sales1"
    world.sales1.is_active = False
    session.commit()
    assert api.post(ME).status_code == 401
    api2 = fresh(world.sales2)
    assert api2.post(ME).status_code == 200
    token = session.scalars(select(ApiToken).where(ApiToken.user_id == world.sales2.id)).one()
    tokens.revoke_token(session, world.sales2, token.id)
    session.commit()
    assert api2.post(ME).status_code == 401
    api3 = fresh(world.sales3)
    assert api3.post(ME).status_code == 200
    session.execute(update(ApiToken).where(ApiToken.user_id == world.sales3.id)
                    .values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert api3.post(ME).status_code == 401


def test_R_ROLE_6_two_factor_setting_and_enrolment_apply_on_the_next_request(
        fresh, world, session) -> None:
    from portal.services import configuration

    api = fresh(world.gm)  # must use two factors, and is enrolled
    assert api.names()
    session.execute(delete(TwoFactor).where(TwoFactor.user_id == world.gm.id))
    session.commit()
    refused = api.post(LIST)
    assert refused.status_code == 403
    assert refused.get_json()["errors"][0]["extensions"]["code"] == "TWO_FACTOR_REQUIRED"
    sales = fresh(world.sales1)
    assert sales.names()
    configuration.update_setting(session, world.sysadmin, "two_factor.required_roles",
                                 {"value": ["general_manager", "sales", "secadmin",
                                            "secauditor", "sysadmin"]})
    session.commit()
    assert sales.post(LIST).status_code == 403


def test_R_CUST_9_loans_read_with_the_token_serve_only_while_in_force(fresh, world,
                                                                      session) -> None:
    from models import ArchiveLoan
    from models.enums import LoanStatus

    c = world.customers["sales1"][0]
    base = clock.now().replace(microsecond=0)
    session.add(ArchiveLoan(customer_id=c.id, borrower_id=world.sales4.id, reason="核对",
                            status=LoanStatus.APPROVED.value, starts_at=base + timedelta(hours=1),
                            ends_at=base + timedelta(hours=2)))
    session.commit()
    api = fresh(world.sales4)
    with clock.frozen(base):
        assert c.name not in api.names()
    with clock.frozen(base + timedelta(hours=1)):
        assert c.name in api.names()
    with clock.frozen(base + timedelta(hours=2)):
        assert c.name not in api.names()


def test_the_last_used_time_is_written_at_most_once_a_minute(fresh, world, session) -> None:
    api = fresh(world.sales1)
    base = clock.now().replace(microsecond=0)
    used = lambda: session.scalars(select(ApiToken.last_used_at).where(  # noqa: E731
        ApiToken.user_id == world.sales1.id).execution_options(populate_existing=True)).one()
    with clock.frozen(base):
        api.post(ME)
    assert used() == base
    with clock.frozen(base + timedelta(seconds=59)):
        api.post(ME)
    assert used() == base
    with clock.frozen(base + timedelta(minutes=1)):
        api.post(ME)
    assert used() == base + timedelta(minutes=1)


def test_plain_read_files_what_the_orm_read_files(app, world, session) -> None:
    """For every user of the company holding a token (roles revoked and loans included): the
    objects, the grants, the loans and the two-factor setting filed by the plain read equal
    the ORM's, column for column."""
    from models import ArchiveLoan
    from models.enums import LoanStatus

    now = clock.now()
    session.add(ArchiveLoan(customer_id=world.customers["sales1"][0].id,
                            borrower_id=world.sales4.id, reason="核对",
                            status=LoanStatus.APPROVED.value, starts_at=now - timedelta(hours=1),
                            ends_at=now + timedelta(hours=1)))
    session.execute(update(RoleAssignment).where(RoleAssignment.user_id == world.sales2.id)
                    .values(revoked_at=utcnow()))
    session.commit()
    users = [u for u in vars(world).values() if isinstance(u, type(world.sales1))]
    raws = {u.id: make_token(session, u) for u in users}
    session.commit()

    def filed(plain: bool, raw: str) -> tuple:
        with app.app_context():
            s = db.session
            held = [] if plain else s.scalars(select(ApiToken).limit(1)).all()  # → the ORM
            assert tokens._holds_any_loaded_type(s) is not plain
            user, reason = tokens.authenticate(s, raw)
            assert user is not None, reason
            token = s.scalars(select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(
                raw))).one()
            columns = lambda obj: {c.key: getattr(obj, c.key)  # noqa: E731
                                   for c in obj.__table__.c} if obj is not None else None
            two_factor = s.info.get("token_two_factor")
            out = (columns(user), [columns(a) for a in user.role_assignments],
                   columns(token), columns(two_factor),
                   dict(s.info.get(policy_grants._CACHE_KEY, {})),
                   s.info.get(policy_loans._CACHE_KEY),
                   settings.get(s, tokens.TWO_FACTOR_ROLES_SETTING),
                   s.new == set() and not s.deleted)
            s.rollback()
            del held
            return out

    compared = 0
    for user in users:
        if not user.is_active:
            continue
        with clock.frozen(now):  # the same last-used time both ways
            assert filed(True, raws[user.id]) == filed(False, raws[user.id]), user.username
        compared += 1
    assert compared > 5
