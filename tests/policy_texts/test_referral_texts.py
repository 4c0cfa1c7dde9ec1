"""Issue 16, 老带新 (R-CUST-3): a referred customer belongs to whoever originally received the
referrer, or to the referrer's current owner if that person has left; both doors."""

from __future__ import annotations

from sqlalchemy import select

from models import Customer, OwnerChange
from portal import clock
from portal.services import customers, reception
from tests.doors.conftest import gid, post_form


def _referrer_received_by_sales1_now_owned_by_sales2(session, world) -> Customer:
    """A walk-in received by sales1 (the original receiver), later moved to sales2."""
    rec = reception.register_reception(session, world.reception, {
        "kind": "visit", "visitor_name": "赵先生", "visitor_phone": "13700001111",
        "designated_staff_id": world.sales1.id, "create_customer": True})
    referrer = session.get(Customer, rec.customer_id)
    assert referrer.owner_id == world.sales1.id
    customers._change_owner(session, world.supervisor, referrer, world.sales2.id,
                            "R-CUST-4 void card", now=clock.now())
    session.commit()
    return referrer


def test_R_CUST_3_referral_goes_to_the_original_receiver(world, session):
    referrer = _referrer_received_by_sales1_now_owned_by_sales2(session, world)
    c = customers.create_customer(session, world.supervisor, {
        "name": "赵先生的朋友", "phone": "13700002222", "referrer_id": referrer.id})
    assert c.owner_id == world.sales1.id and c.source == "referral"
    change = session.scalars(select(OwnerChange).where(OwnerChange.customer_id == c.id)).first()
    assert "original receiver" in (change.reason or "")


def test_R_CUST_3_referral_goes_to_the_current_owner_when_the_receiver_left(world, session):
    referrer = _referrer_received_by_sales1_now_owned_by_sales2(session, world)
    world.sales1.is_active = False
    session.commit()
    c = customers.create_customer(session, world.supervisor, {
        "name": "赵先生的同事", "phone": "13700003333", "referrer_id": referrer.id})
    assert c.owner_id == world.sales2.id


def test_R_CUST_3_referral_through_portal(session, world, login):
    referrer = _referrer_received_by_sales1_now_owned_by_sales2(session, world)
    post_form(login(world.supervisor), "/admin/customer/new/", {
        "name": "门户老带新", "kind": "end", "phone": "13700004444", "source": "referral",
        "importance": "C", "intent": "warm", "referrer": str(referrer.id)})
    session.expire_all()
    c = session.scalar(select(Customer).where(Customer.name == "门户老带新"))
    assert c.owner_id == world.sales1.id and c.referrer_id == referrer.id


def test_R_CUST_3_referral_through_graphql(session, world, api):
    referrer = _referrer_received_by_sales1_now_owned_by_sales2(session, world)
    out = api(world.supervisor)("""mutation($input: CustomerInput!) {
        createCustomer(input: $input) { ok errors { field message } result { id } } }""",
                                {"input": {"name": "接口老带新", "kind": "END",
                                           "phone": "13700005555",
                                           "referrerId": gid("Customer", referrer.id)}})
    assert out["data"]["createCustomer"]["ok"], out
    session.expire_all()
    c = session.scalar(select(Customer).where(Customer.name == "接口老带新"))
    assert c.owner_id == world.sales1.id


def test_R_CUST_3_an_expired_card_gives_no_claim(world, session):
    """若B屬建檔無效期，則與B無關: an earlier reception more than 2 months old that led to no
    deal does not beat the current owner."""
    from datetime import UTC, datetime, timedelta

    import pytest

    from portal.services.errors import RuleViolation

    t0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
    with clock.frozen(t0):
        rec = reception.register_reception(session, world.reception, {
            "kind": "visit", "visitor_name": "孙先生", "visitor_phone": "13700006666",
            "designated_staff_id": world.sales2.id})
    with clock.frozen(t0 + timedelta(days=30)):  # sales1's own card is valid until day 90
        c = customers.create_customer(session, world.sales1, {
            "name": "孙先生", "phone": "13700007777"})
    rec.customer_id = c.id  # the desk links the earlier record to the archive
    session.commit()
    with clock.frozen(t0 + timedelta(days=75)), pytest.raises(RuleViolation) as err:
        customers.claim_customer(session, world.sales2, c.id)
    assert err.value.rule in ("R-CUST-3", "R-CUST-2")
    # within the 2 months the same record would have won (control)
    assert customers.first_visit_at(session, c, world.sales2.id) is not None
    session.expire_all()
    assert session.get(Customer, c.id).owner_id == world.sales1.id
