"""Issue 16, customers as the archive policy (客户档案管理制度) writes them (R-CUST-1): duplicates
by credit code / ID number (check characters validated), phone, and — organisations only — the
normalised name; two people with one name are two customers; through both doors and reception.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import Customer
from portal.services import customers, identity, reception
from portal.services.errors import RuleViolation, ValidationFailed
from tests.doors.conftest import post_form


def _new(session, actor, **data):
    return customers.create_customer(session, actor, data)


def _count(session, name: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Customer.id)).where(Customer.name == name))


def test_R_CUST_1_two_people_with_one_name_are_two_customers(world, session):
    first = _new(session, world.sales1, name="王先生", phone="13900001111")
    second = _new(session, world.sales3, name="王先生", phone="13900002222")
    assert first.id != second.id and _count(session, "王先生") == 2
    with pytest.raises(RuleViolation) as err:  # the same phone is the same person
        _new(session, world.sales3, name="王 先生", phone="139-0000-1111")
    assert err.value.rule == "R-CUST-1" and err.value.field == "phone"


def test_R_CUST_1_organisation_name_is_still_a_duplicate(world, session):
    c = _new(session, world.sales1, name="苏州恒通贸易有限公司", phone="13900003333")
    with pytest.raises(RuleViolation) as err:
        _new(session, world.sales3, name="苏州恒通贸易有限公司", phone="13900004444")
    assert err.value.field == "name" and c.code in err.value.translated()


def test_R_CUST_1_credit_code_and_id_number_check_characters(world, session):
    assert identity.code_kind("91310000MA1FL0000N") == "uscc"
    assert identity.code_kind("11010519491231002X") == "ric"
    for bad in ("91310000MA1FL0000X", "110105194912310021", "12345678"):
        with pytest.raises(ValidationFailed) as err:
            _new(session, world.sales1, name="校验公司", credit_code=bad)
        assert err.value.field == "credit_code"
    person = _new(session, world.sales1, name="李女士", credit_code="11010519491231002X")
    with pytest.raises(RuleViolation) as err:  # same ID number, other name and phone
        _new(session, world.sales3, name="李丽", credit_code="110105 19491231 002x")
    assert err.value.field == "credit_code" and person.code in err.value.translated()


def test_R_CUST_1_reception_does_not_link_a_namesake_to_a_strangers_archive(world, session):
    stranger = _new(session, world.sales2, name="王先生", phone="13900005555")
    rec = reception.register_reception(session, world.reception, {
        "kind": "visit", "visitor_name": "王先生", "visitor_phone": "13900006666",
        "create_customer": True})
    assert not rec.is_returning and rec.customer_id != stranger.id
    same = reception.register_reception(session, world.reception, {
        "kind": "visit", "visitor_name": "王先生", "visitor_phone": "13900005555"})
    assert same.is_returning and same.customer_id == stranger.id


def test_R_CUST_1_second_wang_through_portal(session, world, login):
    _new(session, world.sales2, name="王先生", phone="13900007777")
    post_form(login(world.sales1), "/admin/customer/new/", {
        "name": "王先生", "kind": "end", "phone": "13900008888", "source": "walk_in",
        "importance": "C", "intent": "warm"})
    assert _count(session, "王先生") == 2


def test_R_CUST_1_second_wang_through_graphql(session, world, api):
    _new(session, world.sales2, name="王先生", phone="13900007777")
    out = api(world.sales1)("""mutation($input: CustomerInput!) { createCustomer(input: $input)
        { ok errors { field rule } } }""",
                            {"input": {"name": "王先生", "kind": "END", "phone": "13900009999"}})
    assert out["data"]["createCustomer"]["ok"], out
    assert _count(session, "王先生") == 2
    bad = api(world.sales1)("""mutation($input: CustomerInput!) { createCustomer(input: $input)
        { ok errors { field rule } } }""",
                            {"input": {"name": "坏码公司", "kind": "END",
                                       "creditCode": "91310000MA1FL0000X"}})
    assert not bad["data"]["createCustomer"]["ok"]
    assert bad["data"]["createCustomer"]["errors"][0]["field"] == "creditCode"
