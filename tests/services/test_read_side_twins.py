"""Twin tests (issue 13, architecture principle 4): each portal list preset is the service's SQL
predicate, and the SQL predicate agrees with its Python twin, on the demo data."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from admin_views.customers import CustomerView
from models import Customer
from portal import clock, demo
from portal.services import customers as customer_service


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
