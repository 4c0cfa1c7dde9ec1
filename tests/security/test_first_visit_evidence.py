"""Issue 12 (4): a salesperson cannot take a colleague's customer with a reception record they
enter themselves (R-CUST-3 first-visit evidence). Back-dated or future arrivals are refused
unless a supervisor enters them; a salesperson cannot name themselves as designated staff;
matching a walk-in to an archive never links or reveals another person's customer; only
records entered by the front desk or a supervisor count as evidence, within the 2-month
validity (or when they led to a deal)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Customer, ReceptionRecord
from portal import clock
from portal.services import customers, reception
from portal.services.errors import RuleViolation
from tests.graphql.conftest import make_token

REGISTER = """mutation($i: ReceptionInput!) { registerReception(input: $i) {
  ok errors { code rule field message } result { id isReturning customer { id name } } } }"""


def _gql(client, session, user, variables):
    token = make_token(session, user)
    resp = client.post("/graphql", json={"query": REGISTER, "variables": variables},
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()["data"]["registerReception"]


@pytest.mark.parametrize("shift", [timedelta(days=-730), timedelta(days=-1), timedelta(days=1)])
def test_R_CUST_3_arrival_before_today_or_in_future_refused_unless_supervisor(
        world, session, client, unchanged, shift):
    when = (clock.now() + shift).isoformat()
    with unchanged(denied=1, exclude=frozenset({"api_tokens"})):
        out = _gql(client, session, world.sales2, {"i": {
            "kind": "VISIT", "visitorName": "张三", "arrivedAt": when}})
        assert not out["ok"] and out["errors"][0]["rule"] == "R-CUST-3", out
    with unchanged(denied=1), pytest.raises(RuleViolation):
        reception.register_reception(session, world.reception, {
            "kind": "visit", "visitor_name": "张三", "arrived_at": when})
    # the supervisor may, and the record is evidence (the supervisor's entry confirms it)
    rec = reception.register_reception(session, world.supervisor, {
        "kind": "visit", "visitor_name": "张三", "arrived_at": when,
        "designated_staff_id": world.sales2.id})
    assert rec.counts_as_evidence


def test_R_CUST_3_salesperson_cannot_name_themselves_designated_staff(world, session, login,
                                                                      unchanged):
    with unchanged(denied=1), pytest.raises(RuleViolation):
        reception.register_reception(session, world.sales2, {
            "kind": "visit", "visitor_name": "李四", "designated_staff_id": world.sales2.id})
    c = login(world.sales2)
    with unchanged(denied=1):
        resp = c.post("/admin/receptionrecord/new/", data={
            "kind": "visit", "visitor_class": "c", "venue": "lounge", "visitor_name": "李四",
            "designated_staff": str(world.sales2.id), "outcome": "pending"})
        assert resp.status_code == 200 and "首访原则" in resp.get_data(as_text=True)
    # the front desk records the same request
    rec = reception.register_reception(session, world.reception, {
        "kind": "visit", "visitor_name": "李四", "designated_staff_id": world.sales2.id})
    assert rec.assigned_to_id == world.sales2.id and rec.counts_as_evidence


def test_R_CUST_3_walk_in_match_never_reveals_a_colleagues_customer(world, session, client):
    theirs = world.customers["sales1"][0]
    theirs.phone = "13800138000"
    from portal.normalize import normalize_phone

    theirs.phone_normalized = normalize_phone(theirs.phone)
    session.commit()
    out = _gql(client, session, world.sales2, {"i": {
        "kind": "VISIT", "visitorName": "王五", "visitorPhone": "13800138000"}})
    assert out["ok"], out
    assert out["result"]["isReturning"] is False and out["result"]["customer"] is None
    rec = session.scalars(select(ReceptionRecord).order_by(ReceptionRecord.id.desc())).first()
    assert rec.customer_id is None and not rec.counts_as_evidence
    # the front desk's record of the same visitor links the archive (R-RECV-2)
    rec = reception.register_reception(session, world.reception, {
        "kind": "visit", "visitor_name": "王五", "visitor_phone": "13800138000"})
    assert rec.customer_id == theirs.id and rec.is_returning


def _claim_setup(session, world, days_ago: int, outcome: str = "pending"):
    target = world.customers["sales1"][1]
    rec = reception.register_reception(session, world.supervisor, {
        "kind": "visit", "visitor_name": target.name, "customer_id": target.id,
        "designated_staff_id": world.sales2.id, "outcome": outcome,
        "arrived_at": (clock.now() - timedelta(days=days_ago)).isoformat()})
    return target, rec


def test_R_CUST_3_only_front_desk_or_supervisor_records_are_evidence(world, session, unchanged):
    target, rec = _claim_setup(session, world, 10)
    # the same record, had a salesperson entered it, is no evidence: the claim is refused
    rec.counts_as_evidence = False
    session.commit()
    with unchanged(denied=1), pytest.raises(RuleViolation):
        customers.claim_customer(session, world.sales2, target.id)
    # entered by the supervisor it is: the earlier visit owns the customer
    rec.counts_as_evidence = True
    session.commit()
    customers.claim_customer(session, world.sales2, target.id)
    session.expire_all()
    assert session.get(Customer, target.id).owner_id == world.sales2.id


@pytest.mark.parametrize(("outcome", "wins"), [("pending", False), ("deal", True)])
def test_R_CUST_3_evidence_older_than_the_validity_counts_only_with_a_deal(
        world, session, unchanged, outcome, wins):
    target, _rec = _claim_setup(session, world, 70, outcome)
    if wins:
        customers.claim_customer(session, world.sales2, target.id)
    else:
        with unchanged(denied=1), pytest.raises(RuleViolation):
            customers.claim_customer(session, world.sales2, target.id)
    session.expire_all()
    assert (session.get(Customer, target.id).owner_id == world.sales2.id) == wins
