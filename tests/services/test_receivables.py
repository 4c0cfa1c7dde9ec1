"""Receivables discipline (R-CRED-9) and the company total, prepayments and the monthly
summary (R-CRED-10), through the service layer with a frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from models import (
    AuditEntry,
    CreditLine,
    CreditSummaryApproval,
    Customer,
    CustomerTransaction,
    Notification,
    Receivable,
    ReceivableSettlement,
)
from portal import clock, settings
from portal.services import credit
from portal.services import receivables as rc
from portal.services.errors import PermissionDenied, RuleViolation, ValidationFailed
from tests.services.test_credit import A_ANSWERS, _approved_line

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)  # 2025-03-10 10:00 in company time
TODAY = date(2025, 3, 10)


def _at(days: int) -> datetime:
    return NOW + timedelta(days=days)


def _sale(session, world, customer, amount, days=0, **kw):
    with clock.frozen(_at(days)):
        return credit.record_transaction(session, world.finance, customer.id, "order", amount,
                                         **kw)


def _pay(session, world, customer, amount, days=0):
    with clock.frozen(_at(days)):
        return credit.record_transaction(session, world.finance, customer.id, "payment",
                                         amount)


def _customer_with_line(session, world, index=0, term=30, limit="80000"):
    customer = world.customers["sales1"][index]
    with clock.frozen(NOW):
        _approved_line(session, world, customer, term_days=term, limit_amount=limit)
    return customer


def _supplier(session, world):
    supplier = world.customers["sales2"][0]
    supplier.kind = "supplier"
    session.commit()
    with clock.frozen(NOW):
        _approved_line(session, world, supplier, term_days=30, limit_amount="50000")
    return supplier


def _items(session, customer):
    return session.scalars(select(Receivable).where(Receivable.customer_id == customer.id)
                           .order_by(Receivable.id)).all()


# --- due dates ------------------------------------------------------------------------------


def test_R_CRED_9_due_date_from_the_line_term(session, world):
    customer = _customer_with_line(session, world, term=25)
    tx = _sale(session, world, customer, "1200.50", days=2)
    item = session.scalar(select(Receivable).where(Receivable.transaction_id == tx.id))
    assert item.kind == "credit_sale"
    assert item.booked_on == TODAY + timedelta(days=2)
    assert item.due_on == TODAY + timedelta(days=27) and item.term_days == 25
    assert item.open_amount == Decimal("1200.50")
    session.refresh(customer)
    assert customer.outstanding_balance == Decimal("1200.50")


# --- FIFO -----------------------------------------------------------------------------------


def test_R_CRED_9_fifo_settlement_pays_the_oldest_due_first(session, world):
    customer = _customer_with_line(session, world)
    _sale(session, world, customer, "1000", days=0)
    _sale(session, world, customer, "2000", days=1)
    _sale(session, world, customer, "3000", days=2)
    pay = _pay(session, world, customer, "2500", days=3)
    first, second, third = _items(session, customer)
    assert (first.open_amount, second.open_amount, third.open_amount) == (
        Decimal("0.00"), Decimal("500.00"), Decimal("3000.00"))
    parts = session.execute(select(ReceivableSettlement.receivable_id,
                                   ReceivableSettlement.amount)
                            .where(ReceivableSettlement.transaction_id == pay.id)
                            .order_by(ReceivableSettlement.id)).all()
    assert parts == [(first.id, Decimal("1000.00")), (second.id, Decimal("1500.00"))]
    session.refresh(customer)
    assert customer.outstanding_balance == Decimal("3500.00")
    # a receipt larger than everything open closes it all, never below zero
    _pay(session, world, customer, "9999", days=4)
    session.refresh(customer)
    assert customer.outstanding_balance == 0
    assert all(i.open_amount == 0 for i in _items(session, customer))


# --- ageing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("late", "bucket"), [
    (0, "current"), (1, "d1_30"), (30, "d1_30"), (31, "d31_60"), (60, "d31_60"),
    (61, "d61_90"), (90, "d61_90"), (91, "d90_plus")])
def test_R_CRED_9_ageing_buckets_at_their_edges(late, bucket):
    due = date(2025, 1, 31)
    assert rc.age_bucket(rc.days_past_due(due, due + timedelta(days=late))) == bucket


def test_R_CRED_9_ageing_sql_and_python_agree_at_the_edges(session, world):
    customer = _customer_with_line(session, world, term=1)
    lates = (0, 1, 30, 31, 60, 61, 90, 91)
    for i, _ in enumerate(lates):
        _sale(session, world, customer, str(100 * (i + 1)), days=0)
    items = _items(session, customer)
    as_of = TODAY + timedelta(days=200)
    for item, late in zip(items, lates, strict=True):
        item.due_on = as_of - timedelta(days=late)
        item.booked_on = min(item.booked_on, item.due_on)
    session.commit()
    rows = rc.ageing_rows(session, world.finance, as_of)
    [row] = rows
    expected = dict.fromkeys(rc.BUCKETS, Decimal("0"))
    for item, late in zip(items, lates, strict=True):
        expected[rc.age_bucket(late)] += item.amount
    assert row.buckets == expected
    assert row.past_due == sum(expected.values()) - expected["current"]
    assert row.frozen


# --- the freeze -----------------------------------------------------------------------------


def test_R_CRED_9_past_due_freeze_and_its_override(session, world):
    customer = _customer_with_line(session, world, term=10)
    _sale(session, world, customer, "5000", days=0)
    # due on day 10: still allowed that day, frozen from day 11
    _sale(session, world, customer, "100", days=10)
    before = session.scalar(select(func.count(CustomerTransaction.id)))
    with pytest.raises(RuleViolation) as err:
        _sale(session, world, customer, "100", days=11)
    assert err.value.rule == "R-CRED-9"
    assert "¥5,000.00" in str(err.value) and "2025-03-20" in str(err.value)
    assert session.scalar(select(func.count(CustomerTransaction.id))) == before
    assert rc.is_frozen(session, customer.id, TODAY + timedelta(days=11))
    assert customer.id in session.scalars(select(Customer.id).where(
        rc.frozen_clause(TODAY + timedelta(days=11)))).all()
    # the override: a formal over-limit approval covering the amount
    with clock.frozen(_at(11)):
        credit.approve_over_limit(session, world.gm, customer.id, "100", "老客户，已承诺月底结清")
    tx = _sale(session, world, customer, "100", days=11)
    assert tx.over_limit_approval_id is not None
    # settling the past-due amount lifts the freeze
    _pay(session, world, customer, "5000", days=12)
    assert not rc.is_frozen(session, customer.id, TODAY + timedelta(days=12))
    _sale(session, world, customer, "300", days=12)


# --- prepayments ----------------------------------------------------------------------------


def test_R_CRED_10_supplier_prepayment_past_its_delivery_deadline(session, world):
    supplier = _supplier(session, world)
    deadline = TODAY + timedelta(days=20)
    with clock.frozen(NOW):
        tx = credit.record_transaction(session, world.finance, supplier.id, "prepayment",
                                       "20000", delivery_deadline=deadline.isoformat())
    item = session.scalar(select(Receivable).where(Receivable.transaction_id == tx.id))
    assert (item.kind, item.due_on) == ("prepayment", deadline)
    assert not rc.is_frozen(session, supplier.id, deadline)
    # partly delivered by the deadline; the rest is past due the day after
    with clock.frozen(_at(15)):
        credit.record_transaction(session, world.finance, supplier.id, "delivery", "15000")
    day_after = deadline + timedelta(days=1)
    assert rc.past_due_amount(session, supplier.id, day_after) == Decimal("5000.00")
    [row] = [r for r in rc.ageing_rows(session, world.finance, day_after)
             if r.customer_id == supplier.id]
    assert row.kind == "prepayment" and row.buckets["d1_30"] == Decimal("5000.00")
    with pytest.raises(RuleViolation) as err, clock.frozen(_at(21)):
        credit.record_transaction(session, world.finance, supplier.id, "prepayment",
                                  "1000", delivery_deadline=(day_after + timedelta(days=9)))
    assert err.value.rule == "R-CRED-9"


def test_R_CRED_10_prepayment_needs_a_supplier_and_a_deadline(session, world):
    customer = _customer_with_line(session, world)
    with clock.frozen(NOW), pytest.raises(RuleViolation) as err:
        credit.record_transaction(session, world.finance, customer.id, "prepayment", "100",
                                  delivery_deadline="2025-04-01")
    assert err.value.rule == "R-CRED-10"
    supplier = _supplier(session, world)
    with clock.frozen(NOW), pytest.raises(ValidationFailed) as err2:
        credit.record_transaction(session, world.finance, supplier.id, "prepayment", "100")
    assert err2.value.field == "delivery_deadline"
    with clock.frozen(NOW), pytest.raises(ValidationFailed):
        credit.record_transaction(session, world.finance, supplier.id, "prepayment", "100",
                                  delivery_deadline="2025-03-09")
    assert session.scalar(select(func.count(Receivable.id))) == 0


# --- the company ceiling --------------------------------------------------------------------


def _set_ceiling(session, value):
    from models import Setting

    session.execute(update(Setting).where(Setting.key == "credit.company_ceiling")
                    .values(value=str(value)))
    session.commit()
    settings.forget(session)


def _reviewed(session, world, customer, limit):
    with clock.frozen(NOW):
        credit.evaluate(session, world.finance, customer.id, A_ANSWERS)
        line = credit.propose_line(session, world.manager, customer.id,
                                   {"kind": "temporary", "limit_amount": limit, "term_days": 30})
        return credit.review_line(session, world.finance, line.id, True)


def test_R_CRED_10_ceiling_exactly_at_the_ceiling_is_accepted(session, world):
    _customer_with_line(session, world, 0, limit="60000")
    _set_ceiling(session, 100000)
    line = _reviewed(session, world, world.customers["sales1"][1], "40000")
    with clock.frozen(NOW):
        credit.approve_line(session, world.gm, line.id, True)
    assert session.get(CreditLine, line.id).status == "approved"
    assert rc.limits_in_force_total(session, TODAY) == Decimal("100000.00")


def test_R_CRED_10_ceiling_one_yuan_over_is_refused_with_the_figures(session, world):
    _customer_with_line(session, world, 0, limit="60000")
    _set_ceiling(session, 100000)
    line = _reviewed(session, world, world.customers["sales1"][1], "40001")
    with clock.frozen(NOW), pytest.raises(RuleViolation) as err:
        credit.approve_line(session, world.gm, line.id, True)
    assert err.value.rule == "R-CRED-10"
    message = str(err.value)
    assert "¥60,000.00" in message and "¥40,001.00" in message and "¥100,000.00" in message
    assert session.get(CreditLine, line.id).status == "reviewed"


def test_R_CRED_10_ceiling_counts_a_replaced_line_once(session, world):
    customer = _customer_with_line(session, world, 0, limit="60000")
    _set_ceiling(session, 70000)
    with clock.frozen(NOW + timedelta(hours=1)):
        line = credit.propose_line(session, world.manager, customer.id,
                                   {"kind": "long_term", "limit_amount": "50000",
                                    "term_days": 30})
        credit.review_line(session, world.finance, line.id, True)
        credit.approve_line(session, world.gm, line.id, True)
    assert rc.limits_in_force_total(session, TODAY) == Decimal("50000.00")


# --- the monthly summary --------------------------------------------------------------------


def test_R_CRED_10_summary_table_approval(session, world):
    customer = _customer_with_line(session, world)
    supplier = _supplier(session, world)
    _sale(session, world, customer, "7000", days=0)
    with clock.frozen(NOW):
        credit.record_transaction(session, world.finance, supplier.id, "prepayment", "3000",
                                  delivery_deadline="2025-03-20")
    later = datetime(2025, 4, 2, 2, 0, tzinfo=UTC)
    with clock.frozen(later):
        summary = rc.monthly_summary(session, world.finance, "2025-03")
        assert summary.as_of == date(2025, 3, 31)
        by_id = {r.customer_id: r for r in summary.rows}
        assert by_id[customer.id].balance == Decimal("7000.00")
        assert by_id[supplier.id].kind == "prepayment"
        assert by_id[supplier.id].buckets["d1_30"] == Decimal("3000.00")  # past 03-20
        # the GM cannot approve what finance has not submitted
        with pytest.raises(RuleViolation):
            rc.approve_summary(session, world.gm, "2025-03", "同意")
        submitted = rc.submit_summary(session, world.finance, "2025-03")
        assert submitted.status == "submitted" and submitted.customer_count == len(summary.rows)
        assert submitted.total_balance == Decimal("10000.00")
        assert session.scalar(select(func.count(Notification.id)).where(
            Notification.user_id == world.gm.id,
            Notification.kind == "credit.summary_awaiting_approval")) == 1
        with pytest.raises(ValidationFailed):
            rc.approve_summary(session, world.gm, "2025-03", "  ")
        with pytest.raises(PermissionDenied):
            rc.approve_summary(session, world.finance, "2025-03", "同意")
        assert session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "credit.approve_summary",
            AuditEntry.outcome == "denied")) == 1
        approved = rc.approve_summary(session, world.gm, "2025-03", "同意，催收华东区逾期款")
    assert approved.status == "approved" and approved.approved_by_id == world.gm.id
    assert approved.comment == "同意，催收华东区逾期款"
    with clock.frozen(later), pytest.raises(RuleViolation):
        rc.submit_summary(session, world.finance, "2025-03")
    row = session.scalar(select(CreditSummaryApproval))
    assert row.status == "approved"


def test_R_CRED_9_collection_list_of_the_month(session, world):
    customer = _customer_with_line(session, world, term=10)
    _sale(session, world, customer, "1000", days=0)    # due 03-20
    _sale(session, world, customer, "2000", days=9)    # due 03-29
    _sale(session, world, customer, "4000", days=10)   # due 03-30
    _pay(session, world, customer, "1000", days=12)    # settles the first (FIFO)
    with clock.frozen(_at(25)):
        rows = rc.collection_list(session, world.finance, "2025-03")
        assert rc.collection_list(session, world.finance, "2025-02") == []
    assert [(r["due_on"], r["open_amount"], r["days_past_due"]) for r in rows] == [
        (date(2025, 3, 29), Decimal("2000.00"), 6), (date(2025, 3, 30), Decimal("4000.00"), 5)]
    with clock.frozen(_at(25)):
        assert rc.collection_list(session, world.sales4, "2025-03") == []  # out of scope


def test_R_CRED_9_database_keeps_due_amounts_non_negative(session, world):
    customer = _customer_with_line(session, world)
    tx = _sale(session, world, customer, "100")
    with pytest.raises(IntegrityError):
        session.execute(update(Receivable).where(Receivable.transaction_id == tx.id)
                        .values(open_amount=Decimal("-0.01")))
        session.flush()
    session.rollback()
    with pytest.raises(IntegrityError):
        session.execute(update(Customer).where(Customer.id == customer.id)
                        .values(outstanding_balance=Decimal("-1")))
        session.flush()
    session.rollback()
