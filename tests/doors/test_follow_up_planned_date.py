"""下次回访日期 (issue 14, R-CUST-4): a salesperson agrees the next follow-up day with the
customer; from that day the customer is 待回访 (home page, list preset, GraphQL), and the day can
never be later than the rules' deadline or in the past."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import Customer, FollowUp
from portal import clock
from portal.services import customers, worklist
from portal.services.errors import ValidationFailed
from tests.factories import make_customer

NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)  # 10:00 in the company's time zone


@pytest.fixture
def customer(session, world):
    with clock.frozen(NOW):
        c = make_customer(session, world.sales1, registered_at=NOW,
                          ownership_expires_at=NOW + timedelta(days=60))
        session.commit()
        customers.record_follow_up(session, world.sales1, c.id, "call")
    with clock.frozen(NOW + timedelta(hours=1)):
        customers.record_follow_up(session, world.sales1, c.id, "visit",
                                   planned_next_on=date(2026, 11, 13))
    return session.get(Customer, c.id)


def _due_listed(session, now) -> set[int]:
    return set(session.scalars(select(Customer.id).where(
        customers.follow_up_due_sql(session, now))))


def test_R_CUST_4_customer_is_due_from_the_agreed_next_follow_up_date(session, world,
                                                                       customer):
    assert customers.planned_follow_up_on(customer) == date(2026, 11, 13)
    before = datetime(2026, 11, 12, 15, 0, tzinfo=UTC)  # 23:00 on the 12th, company time
    on_day = datetime(2026, 11, 12, 16, 30, tzinfo=UTC)  # 00:30 on the 13th, company time
    assert not customers.is_follow_up_due(customer, before)
    assert customer.id not in _due_listed(session, before)
    assert customers.is_follow_up_due(customer, on_day)  # the service and its SQL twin agree
    assert customer.id in _due_listed(session, on_day)
    assert not customers.is_void(customer, on_day)  # an agreed day is not the rules' deadline
    rows = worklist.my_follow_ups(session, world.sales1, on_day)
    (row,) = [r for r in rows if r.record.id == customer.id]
    assert row.state == worklist.PLANNED and row.extra["planned_on"] == date(2026, 11, 13)


@pytest.mark.parametrize("day, message", [
    (date(2026, 11, 18), "deadline"),   # the rules say weekly: due by the 17th
    (date(2026, 11, 9), "past"),
    ("13/11/2026", "Enter a date"),
])
def test_R_CUST_4_next_follow_up_date_outside_the_rules_changes_nothing(session, world,
                                                                        customer, day,
                                                                        message):
    count = session.scalar(select(func.count(FollowUp.id)))
    with clock.frozen(NOW + timedelta(hours=2)), pytest.raises(ValidationFailed) as err:
        customers.record_follow_up(session, world.sales1, customer.id, "call",
                                   planned_next_on=day)
    assert message in err.value.message and err.value.field == "planned_next_on"
    assert session.scalar(select(func.count(FollowUp.id))) == count


def test_R_CUST_4_next_follow_up_date_in_graphql(session, world, customer, api):
    with clock.frozen(NOW + timedelta(hours=2)):
        client = api(world.sales1)
        ok = client("""mutation($c: ID!) { recordFollowUp(customerId: $c, kind: CALL,
            plannedNextOn: "2026-11-14") { ok errors { message field } result {
            plannedNextOn nextDueAt } } }""", {"c": f"Customer:{customer.id}"})
        late = client("""mutation($c: ID!) { recordFollowUp(customerId: $c, kind: CALL,
            plannedNextOn: "2026-12-30") { ok errors { message field } } }""",
                      {"c": f"Customer:{customer.id}"})
    payload = ok["data"]["recordFollowUp"]
    assert payload["ok"], payload
    assert payload["result"]["plannedNextOn"] == "2026-11-14"
    bad = late["data"]["recordFollowUp"]
    assert not bad["ok"] and bad["errors"][0]["field"] == "plannedNextOn"


def test_R_CUST_4_next_follow_up_date_in_the_portal_form(session, world, customer, login):
    with clock.frozen(NOW + timedelta(hours=2)):
        client = login(world.sales1)
        page = client.get(f"/admin/customer/follow-up/?ids={customer.id}").get_data(
            as_text=True)
        assert "下次回访日期" in page
        resp = client.post(f"/admin/customer/follow-up/?ids={customer.id}",
                           data={"kind": "call", "notes": "", "intent": "",
                                 "planned_next_on": "2026-11-15"}, follow_redirects=True)
    html = resp.get_data(as_text=True)
    assert "约定下次回访：2026-11-15" in html
    session.expire_all()
    assert customers.planned_follow_up_on(session.get(Customer, customer.id)) == \
        date(2026, 11, 15)
