"""Twin tests (issue 13, architecture principle 4): each portal list preset is the service's SQL
predicate, and the SQL predicate agrees with its Python twin, on the demo data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_views.customers import CustomerView
from models import Customer
from portal import clock, demo
from portal.services import customers as customer_service
from tests.graphql.conftest import api  # noqa: F401 - the ``api(user)`` fixture


@pytest.fixture
def demo_customers(session):
    demo.load(session)
    return session.scalars(select(Customer)).all()


def _ids(session, condition) -> set[int]:
    return set(session.scalars(select(Customer.id).where(condition)))


def test_R_CUST_4_void_preset_twins_the_service(app, session, demo_customers) -> None:
    now = clock.now()
    service_sql = _ids(session, customer_service.void_or_expired_sql(session, now))
    service_py = {c.id for c in demo_customers
                  if customer_service.is_void(c, now) or customer_service.ownership_expired(c, now)}
    with app.test_request_context():
        portal = _ids(session, CustomerView.presets["void"][1](None))
    assert service_sql == service_py == portal
    void_sql = _ids(session, customer_service.is_void_sql(session, now))
    assert void_sql == {c.id for c in demo_customers if customer_service.is_void(c, now)}
    assert void_sql and void_sql <= portal
    # the derived status, not the stored one, decides
    assert all(customer_service.effective_status(c, now) == "void"
               for c in demo_customers if c.id in void_sql)


def test_R_CUST_4_follow_up_due_preset_twins_the_service(app, session, demo_customers) -> None:
    now = clock.now()
    service_sql = _ids(session, customer_service.follow_up_due_sql(session, now))
    service_py = {c.id for c in demo_customers if customer_service.is_follow_up_due(c, now)}
    with app.test_request_context():
        portal = _ids(session, CustomerView.presets["follow_up_due"][1](None))
    assert service_sql and service_sql == service_py == portal
    # every void card is also due (void is a prospect past its deadline)
    assert _ids(session, customer_service.is_void_sql(session, now)) <= service_sql


def _portal_status_filter_ids(app, client, status: str) -> set[int]:
    """The customer list of the portal filtered on 状态 (the derived status), all pages."""
    import re

    from admin_views.common import EffectiveStatusFilter

    view = next(v for v in app.extensions["admin"][0]._views
                if isinstance(v, CustomerView))
    index = next(i for i, f in enumerate(view._filters) if isinstance(f, EffectiveStatusFilter))
    arg = f"flt0_{view.get_filter_arg(index, view._filters[index])}"
    ids: set[int] = set()
    page = 0
    while True:
        html = client.get(f"/admin/customer/?{arg}={status}&page_size=100&page={page}"
                          ).get_data(as_text=True)
        found = {int(i) for i in re.findall(r"/admin/customer/details/\?id=(\d+)", html)}
        if not found - ids:
            return ids
        ids |= found
        page += 1


def test_R_CUST_4_effective_status_is_the_same_in_both_doors(app, session, demo_customers,
                                                             login, api) -> None:  # noqa: F811
    """废卡 and 意向客户 as the service derives them: the portal's 状态 filter, GraphQL's
    ``effectiveStatus`` (field and filter) and the Python twin list the same customers."""
    from models import User

    now = clock.now()
    gm = session.scalars(select(User).where(User.username == "gm")).one()
    portal_client, graphql = login(gm, demo.DEMO_PASSWORD), api(gm)
    for status in ("void", "prospect", "active"):
        service = {c.id for c in demo_customers
                   if customer_service.effective_status(c, now) == status}
        sql = _ids(session, customer_service.effective_status_in_sql(session, [status], now))
        nodes, after = [], None
        while True:
            body = graphql("""query($s: [CustomerStatus!], $a: String) { customers(first: 100,
                after: $a, filter: {effectiveStatus: $s}) { nodes { databaseId effectiveStatus }
                pageInfo { hasNextPage endCursor } } }""", {"s": [status.upper()], "a": after})
            assert "errors" not in body, body
            nodes += body["data"]["customers"]["nodes"]
            info = body["data"]["customers"]["pageInfo"]
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
        assert {n["effectiveStatus"] for n in nodes} <= {status.upper()}
        portal = _portal_status_filter_ids(app, portal_client, status)
        assert service == sql == {n["databaseId"] for n in nodes} == portal, status
    assert _ids(session, customer_service.effective_status_in_sql(session, ["void"], now))
def test_R_CRED_7_review_due_preset_twins_the_service(app, session, demo_customers) -> None:
    from admin_views.credit import CreditEvaluationView
    from models import CreditEvaluation
    from portal.services import credit, credit_read

    now = clock.now()
    evaluations = session.scalars(select(CreditEvaluation)).all()
    service_sql = set(session.scalars(select(CreditEvaluation.id).where(
        credit_read.evaluation_review_due_sql(session, now))))
    service_py = {e.id for e in evaluations if credit_read.evaluation_review_due(e, now)}
    with app.test_request_context():
        portal = set(session.scalars(select(CreditEvaluation.id).where(
            CreditEvaluationView.presets["review_due"][1](None))))
    assert service_sql and service_sql == service_py == portal
    # one row per customer, the same customers as the customer-level rule (home page)
    customers_due = _ids(session, credit.review_due_clause(session, now))
    by_id = {e.id: e.customer_id for e in evaluations}
    assert sorted(by_id[i] for i in service_sql) == sorted(customers_due)


def test_doors_hold_no_date_arithmetic() -> None:
    """Issue 13: date windows are service predicates; no door computes one with timedelta."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [str(p.relative_to(root)) for door in ("admin_views", "graphql_api")
                 for p in (root / door).rglob("*.py") if "timedelta" in p.read_text("utf-8")]
    assert offenders == []


def test_calendar_month_arrows_cross_the_year() -> None:
    from portal.services import workcalendar

    assert workcalendar.adjacent_months(2026, 1) == ("2025-12", "2026-02")
    assert workcalendar.adjacent_months(2026, 12) == ("2026-11", "2027-01")


def test_R_CUST_2_claimable_preset_twins_the_service(app, session, demo_customers) -> None:
    from admin_views.customers import _claimable
    from models import User

    now = clock.now()
    service_sql = _ids(session, customer_service.claimable_sql(session, now))
    service_py = {c.id for c in demo_customers if customer_service.is_claimable(c, now)}
    assert service_sql and service_sql == service_py
    branch_id = next(c.branch_id for c in demo_customers if c.id in service_sql)
    user = session.scalars(select(User).where(User.branch_id == branch_id)).first()
    with app.test_request_context():
        portal = _ids(session, _claimable(user))
    assert portal == {c.id for c in demo_customers
                      if c.id in service_sql and c.branch_id == branch_id}


def test_R_CUST_2_home_expiring_list_is_the_list_badge_predicate(session, demo_customers) -> None:
    """The sales home's 建档即将到期 list and the customer list's expiring highlight come from one
    predicate (row_states.ownership_expiring_sql): for every owner, the home list holds exactly
    that owner's customers the row badge marks as expiring."""
    from models import User
    from portal.services import row_states, worklist

    now = clock.now()
    expiring = _ids(session, row_states.ownership_expiring_sql(session, now))
    badges = row_states.customer_states(session, [c.id for c in demo_customers], now)
    assert expiring == {i for i, s in badges.items() if row_states.OWNERSHIP_EXPIRING in s}
    owners = {c.owner_id for c in demo_customers if c.id in expiring}
    assert owners, "the demo has an ownership ending soon"
    for owner in session.scalars(select(User).where(User.id.in_(owners))):
        home = {r.record.id for r in worklist.ownership_expiring(session, owner, now)}
        assert home == {c.id for c in demo_customers
                        if c.id in expiring and c.owner_id == owner.id}
