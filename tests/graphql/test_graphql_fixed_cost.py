"""The fixed cost of a token request (issue 21, direction 1): the token, its user, the user's
roles and their grants are read in ONE statement, and every change still applies from the
very next request: a grant change, a role change, a deactivation, a token revocation."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import delete, event, or_, select, update

from models import ApiToken, AuditEntry, Grant, RoleAssignment
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


def _loan(session, customer, borrower, starts, ends):
    from models import ArchiveLoan
    from models.enums import LoanStatus

    loan = ArchiveLoan(customer_id=customer.id, borrower_id=borrower.id, reason="核对",
                       status=LoanStatus.APPROVED.value, starts_at=starts, ends_at=ends)
    session.add(loan)
    session.commit()
    return loan


def test_R_CUST_9_loans_in_force_ride_on_the_token_statement(app, world, session,
                                                             client) -> None:
    """The borrower's loans are read with the token: no statement of their own; the borrowed
    archive is listed and its read audited with the loan's id."""
    from portal import clock

    c = world.customers["sales1"][0]
    now = clock.now()
    loan = _loan(session, c, world.sales4, now - timedelta(hours=1), now + timedelta(days=1))
    api = Api(client, make_token(session, world.sales4))
    api(LIST)  # warm (and the last-used write of the first request)
    with statements(app) as seen:
        body = api(LIST)
    assert c.name in _names(body)
    token_reads = [s for s in seen if "FROM api_tokens" in s]
    assert len(token_reads) == 1 and "archive_loans" in token_reads[0], token_reads
    assert not [s for s in seen if s.startswith("SELECT archive_loans.")], seen
    session.expire_all()
    detail = session.scalars(select(AuditEntry.detail).where(
        AuditEntry.action == "archive_loan.read",
        AuditEntry.target_id == str(loan.id))).all()
    assert detail == [f"graphql: Customer {c.id}"] * 2


def test_R_CUST_9_token_read_loans_never_serve_before_the_start_or_after_the_end(
        world, session, client) -> None:
    """Loans read with the token are still judged by the clock at each use: an archive is
    served from its loan's start to (not including) its end, not a second outside; a loan
    approved, revoked or ended between two requests applies from the next request."""
    from models import ArchiveLoan
    from models.enums import LoanStatus
    from portal import clock

    c, d = world.customers["sales1"]
    base = clock.now().replace(microsecond=0)
    early = _loan(session, c, world.sales4, base + timedelta(hours=1), base + timedelta(hours=2))
    api = Api(client, make_token(session, world.sales4))

    def listed() -> set[str]:
        return set(_names(api(LIST)))

    with clock.frozen(base):
        assert c.name not in listed()  # approved, not begun
    with clock.frozen(base + timedelta(hours=1) - timedelta(seconds=1)):
        assert c.name not in listed()
    with clock.frozen(base + timedelta(hours=1)):
        assert c.name in listed()
    with clock.frozen(base + timedelta(hours=2) - timedelta(seconds=1)):
        assert c.name in listed()
    with clock.frozen(base + timedelta(hours=2)):
        assert c.name not in listed()  # ended
    with clock.frozen(base + timedelta(hours=1, minutes=30)):
        names = listed()
        assert c.name in names and d.name not in names
        later = _loan(session, d, world.sales4, base, base + timedelta(hours=3))
        names = listed()  # approved since the last request
        assert c.name in names and d.name in names
        session.execute(update(ArchiveLoan).where(ArchiveLoan.id == early.id)
                        .values(status=LoanStatus.REVOKED.value))
        session.commit()
        names = listed()  # revoked since the last request
        assert c.name not in names and d.name in names
    with clock.frozen(base + timedelta(hours=3)):
        assert d.name not in listed()
    session.expire_all()
    reads = session.scalars(select(AuditEntry.target_id).where(
        AuditEntry.action == "archive_loan.read")).all()
    # one audited read per request that served the archive, naming the loan
    assert sorted(reads) == sorted([str(early.id)] * 4 + [str(later.id)] * 2)


def test_R_ROLE_5_a_branch_move_applies_on_the_next_token_request(world, session,
                                                                 client) -> None:
    """The row rule of a scope is built once per user, branch and department and reused
    (portal/policy_grants._row_condition): a supervisor moved to another branch sees that
    branch's customers from the very next request, and no longer the old branch's."""
    from models import User

    api = Api(client, make_token(session, world.supervisor))
    b1 = {c.name for c in world.customers["sales1"] + world.customers["sales2"]}
    b2 = {c.name for c in world.customers["sales3"]}
    for _ in range(2):  # the second request is served from the built rule
        names = set(_names(api(LIST)))
        assert b1 <= names and not names & b2
    session.execute(update(User).where(User.id == world.supervisor.id)
                    .values(branch_id=world.b2.id))
    session.commit()
    for _ in range(2):
        names = set(_names(api(LIST)))
        assert b2 <= names and not names & b1


def test_R_ROLE_5_reused_row_rules_equal_freshly_built_ones(world, session) -> None:
    """A reused rule is the rule the policy builds now, for every role of the company, every
    cached model and both SQL forms."""
    from portal import policy, policy_grants

    users = [u for u in vars(world).values() if isinstance(u, type(world.sales1))]
    assert len(users) > 5
    for user in users:
        for model in sorted(policy_grants._PURE_RULES, key=lambda m: m.__name__):
            scopes = policy_grants.scopes_for(user, "view", model)
            if not scopes or "all" in scopes:
                continue
            for per_row in (False, True):
                fresh = or_(*[policy.SCOPE_FILTERS[model](user, s, per_row)
                             for s in sorted(scopes)])
                for _ in range(2):
                    reused = policy_grants._row_condition(
                        model, policy.SCOPE_FILTERS[model], user, scopes, per_row)
                    assert str(reused) == str(fresh)
                    assert reused.compile().params == fresh.compile().params
