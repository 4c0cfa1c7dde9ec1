"""The token's user, roles and grants kept between requests (issue 21, ``API_TOKEN_CACHE``):
a request reads only ``auth_epoch`` and the token's row when nothing the token is authorised
with has changed; every change (through the services, plain SQL, another connection or
process) moves the epoch at its commit, so it still applies from the next request.

Every test of tests/graphql/test_token_statement.py runs here again with the cache on and
off (each request in its own thread and session, as under gunicorn)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import create_engine, select, text, update

from models import ApiToken, RoleAssignment
from models.base import utcnow
from portal import clock, policy_grants, policy_loans, settings
from portal.extensions import db
from portal.services import tokens
from tests.graphql.conftest import make_token
from tests.graphql.test_token_statement import (  # noqa: F401  (run again, both ways)
    LIST,
    ME,
    FreshApi,
    test_plain_read_files_what_the_orm_read_files,
    test_R_CUST_9_loans_read_with_the_token_serve_only_while_in_force,
    test_R_ROLE_4_deactivation_revocation_and_expiry_apply_on_the_next_request,
    test_R_ROLE_5_grant_and_role_changes_apply_on_the_next_request,
    test_R_ROLE_5_token_grants_are_those_of_the_token_owners_roles,
    test_R_ROLE_6_two_factor_setting_and_enrolment_apply_on_the_next_request,
    test_the_last_used_time_is_written_at_most_once_a_minute,
)

EPOCH_TABLES = ("users", "role_assignments", "grants", "settings", "two_factor",
                "archive_loans")


@pytest.fixture(autouse=True, params=[True, False], ids=["kept", "not-kept"])
def token_cache(request, app):
    app.config["API_TOKEN_CACHE"] = request.param
    tokens.forget_kept()
    yield request.param
    tokens.forget_kept()


@pytest.fixture
def fresh(client, session, monkeypatch):
    return lambda user: FreshApi(client, make_token(session, user), monkeypatch)


@pytest.fixture
def full_reads(monkeypatch):
    """How many times the full token statement was read (its rows cut into objects)."""
    count = [0]
    real = tokens._TokenRows.__init__

    def counted(self, rows):
        count[0] += 1
        real(self, rows)

    monkeypatch.setattr(tokens._TokenRows, "__init__", counted)
    return count


def _epoch() -> int:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT n FROM auth_epoch WHERE id = 1")).scalar_one()


def test_a_kept_token_is_read_with_one_small_statement(fresh, world, token_cache,
                                                       full_reads) -> None:
    api = fresh(world.sales1)
    names = api.names()
    assert names and full_reads[0] == 1
    for _ in range(3):
        assert api.names() == names
    assert full_reads[0] == (1 if token_cache else 4)


@pytest.mark.parametrize("table", EPOCH_TABLES)
def test_every_change_of_a_table_the_token_reads_moves_the_epoch_at_commit(
        app, world, session, table) -> None:
    """Plain SQL on another connection (as another process would): a rolled-back change
    moves nothing, a committed one moves the epoch."""
    from models import ArchiveLoan

    now = clock.now()
    session.add(ArchiveLoan(customer_id=world.customers["sales1"][0].id,
                            borrower_id=world.sales4.id, reason="核对", status="approved",
                            starts_at=now, ends_at=now + timedelta(hours=1)))
    session.commit()
    column = {"settings": "key", "two_factor": "user_id"}.get(table, "id")
    touch = text(f"UPDATE {table} SET {column} = {column}")
    before = _epoch()
    engine = create_engine(db.engine.url)
    try:
        with engine.connect() as conn:
            assert conn.execute(touch).rowcount > 0
            conn.rollback()
        assert _epoch() == before
        with engine.begin() as conn:
            conn.execute(touch)
        assert _epoch() > before
    finally:
        engine.dispose()


def test_every_epoch_trigger_exists(app) -> None:
    """A SQLite batch migration that recreates one of these tables drops its triggers."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            names = set(conn.execute(text(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'auth_epoch%'")).scalars())
            expected = {f"auth_epoch_{t}{s}" for t in EPOCH_TABLES for s in ("", "_truncate")}
        else:
            names = set(conn.execute(text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'auth_epoch%'")).scalars())
            expected = {f"auth_epoch_{t}_{e}" for t in EPOCH_TABLES
                        for e in ("insert", "update", "delete")}
    assert names == expected


def test_changes_by_plain_sql_from_another_connection_apply_on_the_next_request(
        fresh, world, session, token_cache) -> None:
    api = fresh(world.sales1)
    assert api.names()
    engine = create_engine(db.engine.url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE role_assignments SET revoked_at = :t WHERE user_id = :u"),
                         {"t": utcnow(), "u": world.sales1.id})
        assert api.post(ME).status_code == 200
        assert api.names() == set()
        with engine.begin() as conn:
            conn.execute(text("UPDATE users SET is_active = :f WHERE id = :u"),
                         {"f": False, "u": world.sales1.id})
        assert api.post(ME).status_code == 401
        api2 = fresh(world.sales2)
        assert api2.post(ME).status_code == 200
        with engine.begin() as conn:  # the token's own row: read afresh, no trigger needed
            conn.execute(text("UPDATE api_tokens SET revoked_at = :t WHERE user_id = :u"),
                         {"t": utcnow(), "u": world.sales2.id})
        assert api2.post(ME).status_code == 401
        api3 = fresh(world.sales3)
        assert api3.post(ME).status_code == 200
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM api_tokens WHERE user_id = :u"),
                         {"u": world.sales3.id})
        assert api3.post(ME).status_code == 401
    finally:
        engine.dispose()


def test_a_clock_set_back_reads_the_token_again(fresh, world, token_cache,
                                                full_reads) -> None:
    """Loans were kept as read at some time; an earlier clock (tests) reads them again."""
    api = fresh(world.sales1)
    base = clock.now().replace(microsecond=0)
    with clock.frozen(base):
        api.post(ME)
    with clock.frozen(base - timedelta(hours=1)):
        api.post(ME)
    assert full_reads[0] == 2


def test_kept_and_fresh_reads_file_the_same_for_every_user(app, world, session) -> None:
    """For every user of the company holding a token (roles revoked and loans included): the
    objects, grants, loans and two-factor setting filed from the kept rows equal a fresh
    read's, column for column."""
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

    def filed(keep: bool, raw: str) -> tuple:
        with app.app_context():
            s = db.session
            user, reason = tokens.authenticate(s, raw, keep=keep)
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
                   s.new == set() and not s.deleted, user in s and token.user is user)
            s.rollback()
            return out

    compared = 0
    for user in users:
        if not user.is_active:
            continue
        with clock.frozen(now):  # the same last-used time every way
            fresh_read = filed(False, raws[user.id])
            assert filed(True, raws[user.id]) == fresh_read, user.username  # kept now
            assert (user.id, tokens.hash_token(raws[user.id])) in {
                (k.cut.rows[0][len(tokens._TOKEN.c)], h) for (_, h), k in tokens._kept.items()}
            assert filed(True, raws[user.id]) == fresh_read, user.username  # from the kept
        compared += 1
    assert compared > 5
