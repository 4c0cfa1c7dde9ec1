"""Customer archive rules R-CUST-1..8 through the services (portal/services/customers.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from models import AuditEntry, Customer, CustomerCorrection, FollowUp, Notification, OwnerChange
from models.enums import CustomerStatus
from portal import clock
from portal.services import customers
from portal.services.errors import (
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from tests.factories import make_customer, make_user

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def _fingerprint(session) -> dict:
    """Row counts and versions of what the customer services write (audit log excluded)."""
    session.expire_all()
    return {
        "customers": session.execute(select(Customer.id, Customer.version, Customer.owner_id,
                                            Customer.status, Customer.name)
                                     .order_by(Customer.id)).all(),
        "owner_changes": session.scalar(select(func.count(OwnerChange.id))),
        "follow_ups": session.scalar(select(func.count(FollowUp.id))),
        "corrections": session.scalar(select(func.count(CustomerCorrection.id))),
    }


def _audit_mark(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))


def _audit_since(session, mark: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.seq > mark)
                                .order_by(AuditEntry.seq)))


def _new(session, actor, **data):
    data.setdefault("name", "上海新客户贸易有限公司")
    return customers.create_customer(session, actor, data)


# ---------------------------------------------------------------------------------------------
# R-CUST-1 一户一档
# ---------------------------------------------------------------------------------------------


def test_R_CUST_1_duplicate_phone_refused_with_pointer(world, session):
    existing = world.customers["sales2"][0]
    before = _fingerprint(session)
    with pytest.raises(RuleViolation) as err:
        _new(session, world.sales1, name="完全不同的名字", phone=f"+86 {existing.phone}")
    assert err.value.rule == "R-CUST-1"
    assert err.value.field == "phone"
    message = err.value.translated()
    # sales2's archive is outside sales1's scope: named by its code only (issue 12)
    assert existing.code in message and existing.name not in message
    # nothing of the owner or contact data
    assert existing.phone not in message and "sales2" not in message
    assert _fingerprint(session) == before


def test_R_CUST_1_duplicate_name_after_normalisation_refused(world, session):
    c = _new(session, world.sales1, name="华为技术有限公司", phone="13900000001")
    with pytest.raises(RuleViolation) as err:
        _new(session, world.sales2, name=" 华为技术 ", phone="13900000002")
    assert err.value.rule == "R-CUST-1" and c.code in err.value.translated()


def test_R_CUST_1_duplicate_credit_code_refused_and_earlier_wins(world, session):
    first = _new(session, world.sales1, name="甲公司", credit_code="91310000MA1FL0000N")
    _ = _new(session, world.sales1, name="乙公司", phone="13911112222")
    with pytest.raises(RuleViolation) as err:
        _new(session, world.sales3, name="乙公司", credit_code="91310000-ma1fl0000n",
             phone="13911112222")
    # both the name/phone twin and the credit-code twin match; the earlier registration wins
    assert first.code in err.value.translated()
    assert err.value.field == "credit_code"


def test_R_CUST_1_same_name_with_different_credit_codes_is_not_a_duplicate(world, session):
    _new(session, world.sales1, name="同名公司", credit_code="91310000MA1FL0001R")
    other = _new(session, world.sales1, name="同名公司", credit_code="91440000MA1FL00020")
    assert other.id is not None


def test_R_CUST_1_find_duplicates_lists_earliest_first(world, session):
    a = world.customers["sales1"][0]
    found = customers.find_duplicates(session, "别的名字", a.phone, None)
    assert [c.id for c in found] == [a.id]


def test_R_CUST_1_correction_into_a_duplicate_refused(world, session):
    a, b = world.customers["sales1"]
    before = _fingerprint(session)
    with pytest.raises(RuleViolation) as err:
        customers.update_customer(session, world.sales1, a.id, {"phone": b.phone})
    assert err.value.rule == "R-CUST-1"
    assert _fingerprint(session) == before


def test_create_validates_fields_and_names_them(world, session):
    before = _fingerprint(session)
    for data, field in [({"name": "  "}, "name"), ({"name": "x", "phone": "12"}, "phone"),
                        ({"name": "x", "kind": "alien"}, "kind"),
                        ({"name": "x", "credit_code": "??"}, "credit_code"),
                        ({"name": "x", "status": "active"}, "status"),
                        ({"name": "x", "owner_id": "abc"}, "owner_id")]:
        with pytest.raises(ValidationFailed) as err:
            customers.create_customer(session, world.sales1, data)
        assert err.value.field == field
    assert _fingerprint(session) == before


def test_create_sets_code_owner_history_and_audit(world, session):
    mark = _audit_mark(session)
    with clock.frozen(T0):
        c = _new(session, world.sales1, phone="13812345678", importance="a")
    assert c.code.startswith("KH") and c.owner_id == world.sales1.id
    assert c.importance == "A" and c.branch_id == world.b1.id
    assert c.department_id == world.d1.id
    assert [(oc.from_user_id, oc.to_user_id) for oc in c.owner_changes] == \
        [(None, world.sales1.id)]
    entries = _audit_since(session, mark)
    assert [e.action for e in entries] == ["customer.add"]
    assert json.loads(entries[0].after)["name"] == "上海新客户贸易有限公司"


def test_wrong_role_create_is_denied_and_audited_once(world, session):
    before = _fingerprint(session)
    mark = _audit_mark(session)
    with pytest.raises(PermissionDenied):
        _new(session, world.finance)
    entries = _audit_since(session, mark)
    assert [(e.action, e.outcome) for e in entries] == [("customer.add", "denied")]
    assert _fingerprint(session) == before


def test_auditor_cannot_change_a_customer(world, session):
    c = world.customers["sales1"][0]
    before = _fingerprint(session)
    mark = _audit_mark(session)
    with pytest.raises(PermissionDenied):
        customers.update_customer(session, world.auditor, c.id, {"notes": "x"})
    assert [e.outcome for e in _audit_since(session, mark)] == ["denied"]
    assert _fingerprint(session) == before


def test_sales_cannot_register_for_another_salesperson(world, session):
    before = _fingerprint(session)
    with pytest.raises(PermissionDenied):
        _new(session, world.sales1, owner_id=world.sales2.id)
    assert _fingerprint(session) == before


def test_R_ROLE_1_reception_creates_no_archive_directly(world, session):
    """Reception registers a new visitor from the walk-in form (reception.add, tested in
    tests/security/test_reception_lookup.py); the customer create verb refuses it."""
    before = _fingerprint(session)
    with pytest.raises(PermissionDenied):
        _new(session, world.reception, name="前台登记客户")
    assert _fingerprint(session) == before


def test_supervisor_registers_an_unowned_prospect_or_one_for_a_salesperson(world, session):
    free = _new(session, world.supervisor, name="主管登记客户")
    assert free.owner_id is None and free.branch_id == world.b1.id
    given = _new(session, world.supervisor, name="主管分配客户", owner_id=world.sales2.id)
    assert given.owner_id == world.sales2.id


# ---------------------------------------------------------------------------------------------
# R-CUST-2 ownership validity
# ---------------------------------------------------------------------------------------------


def test_R_CUST_2_prospect_ownership_expires_after_validity(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    assert c.ownership_expires_at == T0 + timedelta(days=60)
    assert not customers.ownership_expired(c, T0 + timedelta(days=59))
    assert customers.ownership_expired(c, T0 + timedelta(days=60, seconds=1))
    ids = lambda now: set(session.scalars(  # noqa: E731
        select(Customer.id).where(customers.ownership_expired_sql(session, now))))
    assert c.id not in ids(T0 + timedelta(days=59))
    assert c.id in ids(T0 + timedelta(days=61))


def test_R_CUST_2_deal_makes_ownership_permanent(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    with clock.frozen(T0 + timedelta(days=10)):
        customers.record_deal(session, world.sales1, c.id)
    assert c.status == CustomerStatus.ACTIVE.value and c.ownership_expires_at is None
    assert c.deal_at == T0 + timedelta(days=10)
    later = T0 + timedelta(days=400)
    assert not customers.ownership_expired(c, later) and not customers.is_void(c, later)
    with clock.frozen(later), pytest.raises(RuleViolation):
        customers.claim_customer(session, world.sales2, c.id)


def test_R_CUST_2_expired_archive_can_be_claimed_in_the_branch(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    with clock.frozen(T0 + timedelta(days=30)), pytest.raises(RuleViolation) as err:
        customers.claim_customer(session, world.sales2, c.id)
    assert err.value.rule == "R-CUST-3"
    assert c.owner_id == world.sales1.id
    with clock.frozen(T0 + timedelta(days=61)):
        customers.claim_customer(session, world.sales2, c.id)
    session.expire_all()
    assert c.owner_id == world.sales2.id
    last = c.owner_changes[-1]
    assert (last.from_user_id, last.to_user_id, last.changed_by_id) == \
        (world.sales1.id, world.sales2.id, world.sales2.id)
    assert "R-CUST-2" in last.reason
    # the new owner starts a fresh validity period
    assert c.ownership_expires_at == T0 + timedelta(days=121)


def test_R_CUST_2_salesperson_of_another_branch_cannot_claim(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    mark = _audit_mark(session)
    with clock.frozen(T0 + timedelta(days=61)), pytest.raises(NotFound):
        customers.claim_customer(session, world.sales3, c.id)
    assert [e.outcome for e in _audit_since(session, mark)] == ["denied"]
    session.expire_all()
    assert c.owner_id == world.sales1.id


def test_R_CUST_2_expired_archive_can_be_reassigned_by_the_supervisor(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
        customers.record_follow_up(session, world.sales1, c.id, "call")
    # keep it on cadence so only the expiry is a ground
    for day in (1, 8, 15, 22, 29, 36, 43, 50, 57):
        with clock.frozen(T0 + timedelta(days=day)):
            customers.record_follow_up(session, world.sales1, c.id, "visit")
    with clock.frozen(T0 + timedelta(days=58)), pytest.raises(RuleViolation) as err:
        customers.reassign_owner(session, world.supervisor, c.id, world.sales2.id, "调整")
    assert err.value.rule == "R-CUST-2"
    with clock.frozen(T0 + timedelta(days=61)):
        assert not customers.is_void(c, clock.now())
        customers.reassign_owner(session, world.supervisor, c.id, world.sales2.id, "调整")
    assert c.owner_id == world.sales2.id
    assert "R-CUST-2 ownership expired" in c.owner_changes[-1].reason


# ---------------------------------------------------------------------------------------------
# R-CUST-3 first visit and referral
# ---------------------------------------------------------------------------------------------


def test_R_CUST_3_earlier_reception_wins_the_claim(world, session):
    from portal.services import reception

    with clock.frozen(T0):
        rec = reception.register_reception(session, world.reception, {
            "kind": "visit", "visitor_name": "王先生", "visitor_phone": "13700001111",
            "designated_staff_id": world.sales2.id})
    assert rec.assigned_to_id == world.sales2.id and rec.customer_id is None
    # later, sales1 registers the same person as their own prospect (not yet linked)
    with clock.frozen(T0 + timedelta(days=1)):
        c = _new(session, world.sales1, name="王先生", phone="13700009999")
        reception.update_reception(session, world.reception, rec.id, {"outcome": "follow_up"})
    rec.customer_id = c.id  # the desk links the earlier record to the archive
    session.commit()
    with clock.frozen(T0 + timedelta(days=2)):
        customers.claim_customer(session, world.sales2, c.id)
    assert c.owner_id == world.sales2.id
    assert "R-CUST-3 first visit" in c.owner_changes[-1].reason
    # the loser cannot take it back by the same rule
    with clock.frozen(T0 + timedelta(days=3)), pytest.raises(RuleViolation) as err:
        customers.claim_customer(session, world.sales1, c.id)
    assert err.value.rule == "R-CUST-3"


def test_R_CUST_3_later_visitor_cannot_claim(world, session):
    from portal.services import reception

    with clock.frozen(T0):
        c = _new(session, world.sales1, name="李女士", phone="13700002222")
    with clock.frozen(T0 + timedelta(days=1)):
        rec = reception.register_reception(session, world.reception, {
            "kind": "visit", "visitor_name": "李女士", "visitor_phone": "13700002222",
            "designated_staff_id": world.sales2.id})
    assert rec.customer_id == c.id and rec.is_returning
    before = _fingerprint(session)
    with clock.frozen(T0 + timedelta(days=2)), pytest.raises(RuleViolation) as err:
        customers.claim_customer(session, world.sales2, c.id)
    assert err.value.rule == "R-CUST-3"
    assert _fingerprint(session) == before


def test_R_CUST_3_referral_belongs_to_the_referrers_owner(world, session):
    referrer = world.customers["sales2"][0]
    c = _new(session, world.supervisor, name="老带新客户", referrer_id=referrer.id)
    assert c.owner_id == world.sales2.id and c.referrer_id == referrer.id
    assert c.source == "referral"
    assert "R-CUST-3" in c.owner_changes[0].reason


def test_R_CUST_3_referral_from_an_invisible_archive_is_not_found(world, session):
    referrer = world.customers["sales2"][0]
    before = _fingerprint(session)
    with pytest.raises(NotFound):
        _new(session, world.sales1, name="看不见的推荐人", referrer_id=referrer.id)
    assert _fingerprint(session) == before


# ---------------------------------------------------------------------------------------------
# R-CUST-4 follow-up cadence and void cards
# ---------------------------------------------------------------------------------------------


def _void_ids(session, now):
    return set(session.scalars(select(Customer.id).where(customers.is_void_sql(session, now))))


def test_R_CUST_4_no_first_follow_up_within_3_days_is_void(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    at = T0 + timedelta(days=3)
    assert not customers.is_void(c, at) and c.id not in _void_ids(session, at)
    later = at + timedelta(minutes=1)
    assert customers.is_void(c, later) and c.id in _void_ids(session, later)
    assert customers.effective_status(c, later) == "void"


def test_R_CUST_4_second_follow_up_within_a_day_then_weekly(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    with clock.frozen(T0 + timedelta(days=2)):
        customers.record_follow_up(session, world.sales1, c.id, "call")
    # the next is due within one day of the first
    after_first = T0 + timedelta(days=3, minutes=1)
    assert customers.is_void(c, after_first) and c.id in _void_ids(session, after_first)
    with clock.frozen(T0 + timedelta(days=2, hours=20)):
        customers.record_follow_up(session, world.sales1, c.id, "wechat")
    ok = T0 + timedelta(days=9, hours=19)
    late = T0 + timedelta(days=9, hours=21)
    assert not customers.is_void(c, ok) and c.id not in _void_ids(session, ok)
    assert customers.is_void(c, late) and c.id in _void_ids(session, late)


def test_R_CUST_4_a_late_follow_up_does_not_revive_a_void_card(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    with clock.frozen(T0 + timedelta(days=4)):
        customers.record_follow_up(session, world.sales1, c.id, "visit")
        assert customers.is_void(c, clock.now())
    assert c.id in _void_ids(session, T0 + timedelta(days=4, hours=1))


def test_R_CUST_4_three_sms_in_a_row_do_not_count(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    with clock.frozen(T0 + timedelta(days=1)):
        customers.record_follow_up(session, world.sales1, c.id, "sms")
    with clock.frozen(T0 + timedelta(days=1, hours=12)):
        customers.record_follow_up(session, world.sales1, c.id, "sms")
    probe = T0 + timedelta(days=2, hours=12)
    assert not customers.is_void(c, probe)  # two messages still count
    with clock.frozen(T0 + timedelta(days=2)):
        customers.record_follow_up(session, world.sales1, c.id, "sms")
    # the run of three no longer counts: the first deadline (day 3) is back in force
    assert not customers.is_void(c, T0 + timedelta(days=2, hours=23))
    past = T0 + timedelta(days=3, minutes=1)
    assert customers.is_void(c, past) and c.id in _void_ids(session, past)


def test_R_CUST_4_supervisor_hands_a_void_card_to_another_salesperson(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    with clock.frozen(T0 + timedelta(days=1)), pytest.raises(RuleViolation):
        customers.reassign_owner(session, world.supervisor, c.id, world.sales2.id, "换人")
    with clock.frozen(T0 + timedelta(days=4)):
        customers.reassign_owner(session, world.supervisor, c.id, world.sales2.id,
                                 "废卡移交")
        assert not customers.is_void(c, clock.now())  # the new owner's cadence starts now
    assert "R-CUST-4 void card" in c.owner_changes[-1].reason
    assert c.id not in _void_ids(session, T0 + timedelta(days=6))
    assert c.id in _void_ids(session, T0 + timedelta(days=7, minutes=1))


def test_R_CUST_4_follow_up_dates_are_checked(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    with clock.frozen(T0 + timedelta(days=1)):
        for when in (T0 + timedelta(days=2), T0 - timedelta(hours=1)):
            with pytest.raises(ValidationFailed) as err:
                customers.record_follow_up(session, world.sales1, c.id, "call",
                                           happened_at=when)
            assert err.value.field == "happened_at"
        with pytest.raises(ValidationFailed) as err:
            customers.record_follow_up(session, world.sales1, c.id, "fax")
        assert err.value.field == "kind"
    assert c.follow_ups == []


def test_R_CUST_4_python_and_sql_twins_agree(world, session):
    with clock.frozen(T0):
        cs = [_new(session, world.sales1, name=f"对比客户{i}") for i in range(4)]
    with clock.frozen(T0 + timedelta(days=1)):
        customers.record_follow_up(session, world.sales1, cs[1].id, "call")
        customers.record_follow_up(session, world.sales1, cs[2].id, "sms")
    with clock.frozen(T0 + timedelta(days=1, hours=2)):
        customers.record_follow_up(session, world.sales1, cs[2].id, "sms")
        customers.record_follow_up(session, world.sales1, cs[2].id, "sms")
    customers.record_deal(session, world.sales1, cs[3].id)
    all_customers = session.scalars(select(Customer)).all()
    for hours in (0, 30, 50, 80, 200, 24 * 40, 24 * 100):
        now = T0 + timedelta(hours=hours)
        py = {c.id for c in all_customers if customers.is_void(c, now)}
        assert py == _void_ids(session, now), hours
        py_exp = {c.id for c in all_customers if customers.ownership_expired(c, now)}
        assert py_exp == set(session.scalars(select(Customer.id).where(
            customers.ownership_expired_sql(session, now))))
        py_lapse = {c.id for c in all_customers if customers.service_lapsed(c, now)}
        assert py_lapse == set(session.scalars(select(Customer.id).where(
            customers.service_lapsed_sql(session, now))))


# ---------------------------------------------------------------------------------------------
# R-CUST-5 service lapse
# ---------------------------------------------------------------------------------------------


def test_R_CUST_5_no_service_for_90_days_lets_the_department_reassign(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
        customers.record_deal(session, world.sales1, c.id)  # active: no cadence, no expiry
    with clock.frozen(T0 + timedelta(days=30)):
        customers.record_follow_up(session, world.sales1, c.id, "call")
    at_89 = T0 + timedelta(days=119)
    at_91 = T0 + timedelta(days=121)
    assert not customers.service_lapsed(c, at_89) and customers.service_lapsed(c, at_91)
    # a supervisor (branch scope) has no ground here; the department manager has
    with clock.frozen(at_91), pytest.raises(RuleViolation):
        customers.reassign_owner(session, world.supervisor, c.id, world.sales2.id, "服务不到位")
    with clock.frozen(at_91):
        customers.reassign_owner(session, world.manager, c.id, world.sales3.id, "服务不到位")
    assert c.owner_id == world.sales3.id and c.branch_id == world.b2.id
    assert "R-CUST-5 service lapse" in c.owner_changes[-1].reason
    assert not customers.service_lapsed(c, at_91 + timedelta(days=1))


def test_R_CUST_5_text_messages_alone_are_not_service(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
        customers.record_deal(session, world.sales1, c.id)
    for hours in (0, 1, 2):
        with clock.frozen(T0 + timedelta(days=60, hours=hours)):
            customers.record_follow_up(session, world.sales1, c.id, "sms")
    assert c.last_service_at == T0
    assert customers.service_lapsed(c, T0 + timedelta(days=91))


# ---------------------------------------------------------------------------------------------
# R-CUST-6 redistribution, R-CUST-7 owner history
# ---------------------------------------------------------------------------------------------


def test_R_CUST_6_leaving_owner_customers_redistributed_at_random(world, session):
    extra = make_user(session, "sales5", ["sales"], branch=world.b1)
    mine = [make_customer(session, world.sales1) for _ in range(6)] + world.customers["sales1"]
    closed = make_customer(session, world.sales1, status="closed")
    session.commit()
    world.sales1.is_active = False
    session.commit()
    changes = customers.redistribute_customers_of(session, world.supervisor, world.sales1.id,
                                                  "离职")
    assert len(changes) == len(mine)
    session.expire_all()
    owners = [session.get(Customer, c.id).owner_id for c in mine]
    assert set(owners) <= {world.sales2.id, extra.id}
    # dealt round-robin: a fair share each
    assert abs(owners.count(world.sales2.id) - owners.count(extra.id)) <= 1
    assert session.get(Customer, closed.id).owner_id == world.sales1.id
    for oc in changes:
        assert oc.from_user_id == world.sales1.id and oc.changed_by_id == world.supervisor.id
        assert "R-CUST-6" in oc.reason and "离职" in oc.reason


def test_R_CUST_6_random_order_differs_between_runs(world, session):
    """Two redistributions of the same situation are not always identical (not seeded)."""
    extra = make_user(session, "sales5", ["sales"], branch=world.b1)
    outcomes = set()
    for round_ in range(8):
        owner = make_user(session, f"leaver{round_}", ["sales"], branch=world.b1)
        group = [make_customer(session, owner) for _ in range(6)]
        owner.on_leave = True
        session.commit()
        customers.redistribute_customers_of(session, world.supervisor, owner.id, "长假")
        outcomes.add(tuple(session.get(Customer, c.id).owner_id for c in group))
    assert len(outcomes) > 1
    remaining = {world.sales1.id, world.sales2.id, extra.id}
    assert all(set(o) <= remaining for o in outcomes)


def test_R_CUST_6_present_owner_is_not_redistributed_and_wrong_role_denied(world, session):
    before = _fingerprint(session)
    with pytest.raises(RuleViolation) as err:
        customers.redistribute_customers_of(session, world.supervisor, world.sales1.id, "x")
    assert err.value.rule == "R-CUST-6"
    mark = _audit_mark(session)
    with pytest.raises(PermissionDenied):
        customers.redistribute_customers_of(session, world.sales2, world.sales1.id, "x")
    assert [e.outcome for e in _audit_since(session, mark)] == ["denied"]
    assert _fingerprint(session) == before


def test_R_CUST_6_user_deactivation_path_may_redistribute(world, session):
    """The system administrator's deactivation (R-ROLE-4) calls the redistribution."""
    changes = customers.redistribute_customers_of(session, world.sysadmin, world.sales1.id,
                                                  "离职")
    assert {oc.to_user_id for oc in changes} == {world.sales2.id}


def test_R_CUST_7_owner_changes_recorded_and_never_erased(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    with clock.frozen(T0 + timedelta(days=4)):
        customers.reassign_owner(session, world.supervisor, c.id, world.sales2.id, "废卡")
    history = [(oc.from_user_id, oc.to_user_id, oc.changed_by_id, oc.changed_at)
               for oc in c.owner_changes]
    assert history == [(None, world.sales1.id, world.sales1.id, T0),
                       (world.sales1.id, world.sales2.id, world.supervisor.id,
                        T0 + timedelta(days=4))]
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.reassign")
                            ).one()
    assert json.loads(entry.before)["owner_id"] == world.sales1.id
    assert json.loads(entry.after)["owner_id"] == world.sales2.id
    for sql in ("UPDATE owner_changes SET reason = 'x'", "DELETE FROM owner_changes"):
        with pytest.raises(Exception):  # noqa: B017 - the driver's error type differs
            session.execute(text(sql))
            session.flush()
        session.rollback()
    assert session.scalar(select(func.count(OwnerChange.id))
                          .where(OwnerChange.customer_id == c.id)) == 2


def test_R_CUST_7_reassign_needs_reason_and_in_scope_owner(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    before = _fingerprint(session)
    with clock.frozen(T0 + timedelta(days=4)):
        with pytest.raises(ValidationFailed) as err:
            customers.reassign_owner(session, world.supervisor, c.id, world.sales2.id, " ")
        assert err.value.field == "reason"
        with pytest.raises(PermissionDenied):  # a supervisor cannot send it to branch 2
            customers.reassign_owner(session, world.supervisor, c.id, world.sales3.id, "x")
        with pytest.raises(ValidationFailed) as err:
            customers.reassign_owner(session, world.supervisor, c.id, world.reception.id, "x")
        assert err.value.field == "new_owner_id"
        with pytest.raises(PermissionDenied):
            customers.reassign_owner(session, world.sales2, c.id, world.sales2.id, "x")
    assert _fingerprint(session) == before


# ---------------------------------------------------------------------------------------------
# R-CUST-8 no deletion, corrections keep the previous value
# ---------------------------------------------------------------------------------------------


def test_R_CUST_8_corrections_keep_previous_value(world, session):
    c = world.customers["sales1"][0]
    old_name, old_phone, version = c.name, c.phone, c.version
    customers.update_customer(session, world.sales1, c.id,
                              {"name": "更正后的名称", "phone": "13600001234", "notes": "n"},
                              expected_version=version)
    rows = session.scalars(select(CustomerCorrection).where(
        CustomerCorrection.customer_id == c.id).order_by(CustomerCorrection.field)).all()
    assert {(r.field, r.old_value, r.new_value) for r in rows} == {
        ("name", old_name, "更正后的名称"), ("phone", old_phone, "13600001234"),
        ("notes", None, "n")}
    assert all(r.changed_by_id == world.sales1.id for r in rows)
    assert c.name_normalized == "更正后的名称" and c.phone_normalized == "13600001234"


def test_R_CUST_8_update_refuses_protected_fields_and_stale_versions(world, session):
    c = world.customers["sales1"][0]
    before = _fingerprint(session)
    with pytest.raises(ValidationFailed) as err:
        customers.update_customer(session, world.sales1, c.id, {"owner_id": world.sales2.id})
    assert err.value.field == "owner_id"
    from portal.services.errors import Conflict

    with pytest.raises(Conflict):
        customers.update_customer(session, world.sales1, c.id, {"notes": "x"},
                                  expected_version=c.version + 7)
    assert _fingerprint(session) == before


def test_R_CUST_8_closing_keeps_the_archive_and_freezes_it(world, session):
    c = world.customers["sales1"][0]
    with pytest.raises(PermissionDenied):
        customers.close_customer(session, world.supervisor, c.id, "不再合作")
    customers.close_customer(session, world.manager, c.id, "不再合作")
    session.expire_all()
    kept = session.get(Customer, c.id)
    assert kept is not None and kept.status == "closed" and kept.closed_at is not None
    assert not hasattr(customers, "delete_customer")
    before = _fingerprint(session)
    for call in (lambda: customers.update_customer(session, world.sales1, c.id, {"notes": "y"}),
                 lambda: customers.record_follow_up(session, world.sales1, c.id, "call"),
                 lambda: customers.record_deal(session, world.sales1, c.id)):
        with pytest.raises(RuleViolation) as err:
            call()
        assert err.value.rule == "R-CUST-8"
    assert _fingerprint(session) == before
    # still one archive per customer: a closed archive blocks a duplicate
    with pytest.raises(RuleViolation):
        _new(session, world.sales1, name="另一个名字", phone=kept.phone)


def test_contacts_are_added_by_those_who_may_change_contact_data(world, session):
    c = world.customers["sales1"][0]
    contact = customers.add_contact(session, world.sales1, c.id,
                                    {"name": "张经理", "phone": "13500000000",
                                     "is_primary": True})
    assert contact.is_primary and contact.customer_id == c.id
    with pytest.raises(PermissionDenied):
        customers.add_contact(session, world.service, c.id, {"name": "x"})
    with pytest.raises(NotFound):
        customers.add_contact(session, world.sales2, c.id, {"name": "x"})


# ---------------------------------------------------------------------------------------------
# tick: notifications for time-driven events
# ---------------------------------------------------------------------------------------------


def test_tick_records_void_expired_and_lapse_once(world, session):
    with clock.frozen(T0):
        c = _new(session, world.sales1)
    counts = customers.tick(session, T0 + timedelta(days=1))
    assert counts["customer.void"] == 0
    counts = customers.tick(session, T0 + timedelta(days=4))
    assert counts["customer.void"] >= 2  # the owner and the branch supervisor
    notes = session.scalars(select(Notification).where(
        Notification.kind == "customer.void", Notification.target_id == str(c.id))).all()
    assert {n.user_id for n in notes} == {world.sales1.id, world.supervisor.id}
    again = customers.tick(session, T0 + timedelta(days=4, hours=1))
    assert again["customer.void"] == 0
    late = customers.tick(session, T0 + timedelta(days=100))
    assert late["customer.ownership_expired"] >= 2 and late["customer.service_lapsed"] >= 2
    assert customers.tick(session, T0 + timedelta(days=100))["customer.service_lapsed"] == 0


def test_R_CUST_6_deactivating_an_owner_redistributes_through_the_users_service(world, session):
    from portal.services import users

    mine = list(world.customers["sales1"])
    users.deactivate_user(session, world.sysadmin, world.sales1.id, "离职")
    session.expire_all()
    for c in mine:
        fresh = session.get(Customer, c.id)
        assert fresh.owner_id == world.sales2.id
        assert fresh.owner_changes[-1].from_user_id == world.sales1.id
        assert "R-CUST-6" in fresh.owner_changes[-1].reason


# ---------------------------------------------------------------------------------------------
# Through the portal (admin_views/customers.py calls these services)
# ---------------------------------------------------------------------------------------------


def test_portal_follow_up_and_reassign_go_through_the_rules(world, session, login):
    c = world.customers["sales1"][0]
    sales = login(world.sales1)
    resp = sales.post(f"/admin/customer/follow-up/?ids={c.id}",
                      data={"kind": "call", "notes": "电话回访", "ids": str(c.id)})
    assert resp.status_code in (200, 302)
    session.expire_all()
    assert [f.kind for f in session.get(Customer, c.id).follow_ups] == ["call"]
    supervisor = login(world.supervisor)
    # a valid, served archive is protected (R-CUST-2): nothing moves
    supervisor.post(f"/admin/customer/reassign/?ids={c.id}",
                    data={"new_owner": world.sales2.id, "reason": "调整", "ids": str(c.id),
                          "versions": f"{c.id}:{c.version}"})
    session.expire_all()
    assert session.get(Customer, c.id).owner_id == world.sales1.id
    assert session.scalar(select(func.count(OwnerChange.id))
                          .where(OwnerChange.customer_id == c.id)) == 0
    with clock.frozen(T0):
        fresh = _new(session, world.sales1, name="门户废卡客户")
    with clock.frozen(T0 + timedelta(days=4)):
        supervisor.post(f"/admin/customer/reassign/?ids={fresh.id}",
                        data={"new_owner": world.sales2.id, "reason": "废卡",
                              "ids": str(fresh.id), "versions": f"{fresh.id}:{fresh.version}"})
    session.expire_all()
    moved = session.get(Customer, fresh.id)
    assert moved.owner_id == world.sales2.id
    assert "R-CUST-4 void card" in moved.owner_changes[-1].reason
