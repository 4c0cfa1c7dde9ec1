"""Credit (R-CRED-1 .. R-CRED-8) through the service layer, with a frozen clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import (
    AuditEntry,
    CreditApproval,
    CreditLine,
    CreditUsageReview,
    CustomerTransaction,
    Notification,
)
from portal import clock
from portal.services import credit as svc
from portal.services.errors import PermissionDenied, RuleViolation, ValidationFailed

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)

A_ANSWERS = {
    "years_of_cooperation": 3, "bad_debt_2y": False, "promise_keeping": "good",
    "debt_disputes": False, "capital_strength": "strong", "operating_condition": "good",
    "serious_decline": False, "illegal_operation": False, "ordered_to_stop": False,
    "accounts_frozen_risk": False, "avg_monthly_shipments": "120000",
    "avg_monthly_receipts": "100000", "receipts_meet_standard": True,
    "collateral_value": "50000",
}
B_ANSWERS = {**A_ANSWERS, "capital_strength": "medium"}


def _customer(world):
    return world.customers["sales1"][0]


def _denied(session, action: str) -> int:
    return session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == action, AuditEntry.outcome == "denied"))


def _approved_line(session, world, customer=None, answers=None, **data):
    customer = customer or _customer(world)
    svc.evaluate(session, world.finance, customer.id, answers or A_ANSWERS)
    payload = {"kind": "temporary", "limit_amount": "80000", "term_days": 30}
    payload.update(data)
    line = svc.propose_line(session, world.manager, customer.id, payload)
    svc.review_line(session, world.finance, line.id, True)
    note = "业务扩大" if payload.get("raise_reason") else None
    return svc.approve_line(session, world.gm, line.id, True, note=note)


# --- R-CRED-1..3 rating ---------------------------------------------------------------------


def test_R_CRED_1_all_criteria_give_A():
    rating, reasons = svc.rate(A_ANSWERS)
    assert rating == "A" and reasons == ["a.all_met"]


def test_R_CRED_1_new_customer_cannot_be_A():
    result = svc.rate({**A_ANSWERS, "years_of_cooperation": "0.5"})
    assert result.rating == "B" and "b.new_customer" in result.reasons


def test_R_CRED_1_missing_key_data_cannot_be_A():
    answers = dict(A_ANSWERS)
    del answers["avg_monthly_receipts"]
    answers["receipts_meet_standard"] = None
    result = svc.rate(answers)
    assert result.rating == "B" and "b.missing_data" in result.reasons
    assert set(result.missing) == {"avg_monthly_receipts", "receipts_meet_standard"}
    assert "avg_monthly_receipts" in svc.explain(result, "en")


@pytest.mark.parametrize(("key", "value", "reason"), [
    ("bad_debt_2y", True, "c.bad_debt"), ("promise_keeping", "poor", "c.breaks_promises"),
    ("debt_disputes", True, "c.debt_disputes"), ("capital_strength", "weak", "c.weak_capital"),
    ("operating_condition", "poor", "c.poor_operations"),
    ("serious_decline", True, "c.serious_decline"), ("illegal_operation", True, "c.illegal"),
    ("ordered_to_stop", True, "c.ordered_to_stop"),
    ("accounts_frozen_risk", True, "c.accounts_frozen")])
def test_R_CRED_2_any_c_criterion_gives_C(key, value, reason):
    result = svc.rate({**A_ANSWERS, key: value})
    assert result.rating == "C" and result.reasons == (reason,)


def test_R_CRED_3_everything_else_is_B():
    result = svc.rate(B_ANSWERS)
    assert result.rating == "B" and result.reasons == ("b.capital_not_strong",)
    assert "资金实力一般" in svc.explain(result) and "capital not strong" in svc.explain(result)


def test_R_CRED_3_evaluate_stores_rating_and_reason(session, world):
    with clock.frozen(NOW):
        ev = svc.evaluate(session, world.finance, _customer(world).id,
                          {**A_ANSWERS, "bad_debt_2y": "yes"})
    assert ev.rating == "C" and "坏账" in ev.rating_reason and ev.evaluated_at == NOW
    assert ev.evaluated_by_id == world.finance.id


def test_R_CRED_3_evaluate_validates_and_checks_the_policy(session, world):
    with clock.frozen(NOW):
        with pytest.raises(ValidationFailed) as err:
            svc.evaluate(session, world.finance, _customer(world).id,
                         {**A_ANSWERS, "capital_strength": "huge"})
        assert err.value.field == "capital_strength"
        with pytest.raises(ValidationFailed) as err:
            svc.evaluate(session, world.finance, _customer(world).id, {"shoe_size": 42})
        assert err.value.field == "shoe_size"
        with pytest.raises(PermissionDenied):
            svc.evaluate(session, world.sales1, _customer(world).id, A_ANSWERS)
    assert _denied(session, "credit.evaluate") == 1
    assert svc.latest_evaluation(session, _customer(world).id) is None


# --- R-CRED-4 caps --------------------------------------------------------------------------


def _propose(session, world, **data):
    payload = {"kind": "temporary", "limit_amount": "10000", "term_days": 15}
    payload.update(data)
    return svc.propose_line(session, world.manager, _customer(world).id, payload)


def test_R_CRED_4_c_gets_no_credit(session, world):
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, _customer(world).id,
                     {**A_ANSWERS, "debt_disputes": True})
        with pytest.raises(RuleViolation) as err:
            _propose(session, world, collateral_value="50000")
    assert err.value.rule == "R-CRED-4"
    assert session.scalar(select(func.count(CreditLine.id))) == 0


def test_R_CRED_4_b_needs_collateral_and_caps(session, world):
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, _customer(world).id, B_ANSWERS)
        with pytest.raises(RuleViolation) as err:
            _propose(session, world)
        assert err.value.field == "collateral_value"
        with pytest.raises(RuleViolation) as err:  # above min(monthly amount, collateral)
            _propose(session, world, limit_amount="50001", collateral_value="50000")
        assert err.value.field == "limit_amount"
        with pytest.raises(RuleViolation) as err:  # temporary B: at most 15 days
            _propose(session, world, limit_amount="40000", collateral_value="50000",
                     term_days=16)
        assert err.value.field == "term_days"
        with pytest.raises(RuleViolation) as err:  # long-term B: at most 30 days
            _propose(session, world, kind="long_term", limit_amount="40000",
                     collateral_value="50000", term_days=31)
        assert err.value.field == "term_days"
        line = _propose(session, world, kind="long_term", limit_amount="50000",
                        collateral_value="50000", term_days=30)
    assert line.status == "proposed" and line.limit_amount == Decimal("50000.00")


def test_R_CRED_4_a_without_earlier_credit_temporary_only_up_to_receipts(session, world):
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, _customer(world).id, A_ANSWERS)
        with pytest.raises(RuleViolation) as err:
            _propose(session, world, kind="long_term", limit_amount="1000", term_days=30)
        assert err.value.field == "kind"
        with pytest.raises(RuleViolation) as err:
            _propose(session, world, limit_amount="100001", term_days=30)
        assert err.value.field == "limit_amount"
        with pytest.raises(RuleViolation) as err:
            _propose(session, world, limit_amount="1000", term_days=31)
        assert err.value.field == "term_days"
        assert _propose(session, world, limit_amount="100000", term_days=30).kind == "temporary"


def test_R_CRED_4_a_with_earlier_credit_long_term_up_to_shipments(session, world):
    with clock.frozen(NOW):
        _approved_line(session, world, limit_amount="100000")
        line = _propose(session, world, kind="long_term", limit_amount="90000", term_days=30)
        assert line.kind == "long_term"
        svc.review_line(session, world.finance, line.id, False, note="暂不调整")
        with pytest.raises(RuleViolation):
            _propose(session, world, kind="long_term", limit_amount="120001", term_days=30,
                     raise_reason="旺季")


def test_R_CRED_4_needs_an_evaluation(session, world):
    with clock.frozen(NOW), pytest.raises(RuleViolation) as err:
        _propose(session, world)
    assert err.value.rule == "R-CRED-4"


# --- R-CRED-5 approval chain ----------------------------------------------------------------


def test_R_CRED_5_proposal_review_approval_puts_line_in_force(session, world):
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, _customer(world).id, A_ANSWERS)
        line = _propose(session, world, limit_amount="50000", term_days=30)
        assert svc.line_in_force(session, _customer(world).id) is None
        with pytest.raises(RuleViolation):  # GM before finance review
            svc.approve_line(session, world.gm, line.id, True)
        svc.review_line(session, world.finance, line.id, True)
        assert svc.line_in_force(session, _customer(world).id) is None
        svc.approve_line(session, world.gm, line.id, True)
        assert svc.line_in_force(session, _customer(world).id).id == line.id
    steps = session.scalars(select(CreditApproval.step).where(
        CreditApproval.credit_line_id == line.id).order_by(CreditApproval.id)).all()
    assert steps == ["propose", "review", "approve"]
    assert line.valid_from == date(2025, 3, 10)


def test_R_CRED_5_nobody_approves_their_own_proposal(session, world):
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, _customer(world).id, A_ANSWERS)
        line = svc.propose_line(session, world.gm, _customer(world).id,
                                {"kind": "temporary", "limit_amount": "1000",
                                 "term_days": 10})
        svc.review_line(session, world.finance, line.id, True)
        with pytest.raises(RuleViolation) as err:
            svc.approve_line(session, world.gm, line.id, True)
    assert err.value.rule == "R-CRED-5"
    session.refresh(line)
    assert line.status == "reviewed" and line.approved_by_id is None


def test_R_CRED_5_wrong_roles_are_denied(session, world):
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, _customer(world).id, A_ANSWERS)
        with pytest.raises(PermissionDenied):
            svc.propose_line(session, world.finance, _customer(world).id,
                             {"kind": "temporary", "limit_amount": "1000", "term_days": 10})
        line = _propose(session, world)
        with pytest.raises(PermissionDenied):
            svc.review_line(session, world.manager, line.id, True)
        svc.review_line(session, world.finance, line.id, True)
        with pytest.raises(PermissionDenied):
            svc.approve_line(session, world.finance, line.id, True)
        with pytest.raises(PermissionDenied):
            svc.approve_line(session, world.auditor, line.id, True)
    assert _denied(session, "credit.propose") == 1
    assert _denied(session, "credit.review") == 1
    assert _denied(session, "credit.approve") == 2
    session.refresh(line)
    assert line.status == "reviewed"


def test_R_CRED_5_new_approval_supersedes_the_old_line(session, world):
    with clock.frozen(NOW):
        first = _approved_line(session, world, limit_amount="80000")
        line = _propose(session, world, kind="long_term", limit_amount="60000", term_days=30)
        svc.review_line(session, world.finance, line.id, True)
        svc.approve_line(session, world.gm, line.id, True)
    session.refresh(first)
    assert first.status == "superseded"
    assert svc.line_in_force(session, _customer(world).id).id == line.id


def test_R_CRED_5_one_proposal_at_a_time_and_rejection_needs_a_note(session, world):
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, _customer(world).id, A_ANSWERS)
        line = _propose(session, world)
        with pytest.raises(RuleViolation):
            _propose(session, world)
        with pytest.raises(ValidationFailed):
            svc.review_line(session, world.finance, line.id, False)
        svc.review_line(session, world.finance, line.id, False, note="资料不全")
    assert line.status == "rejected"


# --- R-CRED-6 raises ------------------------------------------------------------------------


def test_R_CRED_6_raise_needs_reason_and_explicit_gm_approval(session, world):
    with clock.frozen(NOW):
        _approved_line(session, world, limit_amount="50000")
        with pytest.raises(RuleViolation) as err:
            _propose(session, world, kind="long_term", limit_amount="60000", term_days=30)
        assert err.value.rule == "R-CRED-6" and err.value.field == "raise_reason"
        line = _propose(session, world, kind="long_term", limit_amount="60000", term_days=30,
                        raise_reason="旺季备货")
        assert line.is_raise
        svc.review_line(session, world.finance, line.id, True)
        with pytest.raises(RuleViolation) as err:
            svc.approve_line(session, world.gm, line.id, True)
        assert err.value.rule == "R-CRED-6"
        assert svc.line_in_force(session, _customer(world).id).limit_amount == Decimal("50000")
        svc.approve_line(session, world.gm, line.id, True, note="同意旺季临时上调")
    assert svc.line_in_force(session, _customer(world).id).limit_amount == Decimal("60000")


def test_R_CRED_6_lower_limit_is_no_raise(session, world):
    with clock.frozen(NOW):
        _approved_line(session, world, limit_amount="50000")
        line = _propose(session, world, kind="long_term", limit_amount="30000", term_days=30)
    assert not line.is_raise and line.raise_reason is None


# --- R-CRED-7 reviews -----------------------------------------------------------------------


def test_R_CRED_7_review_due_after_a_quarter(session, world):
    with clock.frozen(NOW):
        ev = svc.evaluate(session, world.finance, _customer(world).id, A_ANSWERS)
    assert not svc.review_due(ev, NOW + timedelta(days=92))
    assert svc.review_due(ev, NOW + timedelta(days=93))
    from models import Customer

    later = NOW + timedelta(days=93)
    due = session.scalars(select(Customer.id).where(svc.review_due_clause(session, later))).all()
    assert due == [_customer(world).id]
    assert svc.tick(session, later)["reviews_due"] == 1
    assert svc.tick(session, later + timedelta(hours=1))["reviews_due"] == 0
    assert session.scalar(select(func.count(Notification.id)).where(
        Notification.kind == "credit.review_due", Notification.user_id == world.finance.id)) == 1
    with clock.frozen(later):  # a fresh evaluation clears it
        svc.evaluate(session, world.finance, _customer(world).id, A_ANSWERS)
    assert session.scalars(select(Customer.id).where(
        svc.review_due_clause(session, later))).all() == []


def test_R_CRED_7_monthly_usage_review_by_tick_once(session, world):
    with clock.frozen(NOW):
        _approved_line(session, world, limit_amount="50000")
        svc.record_transaction(session, world.finance, _customer(world).id, "order", "20000")
    april = datetime(2025, 4, 1, 1, 0, tzinfo=UTC)
    assert svc.tick(session, april)["usage_reviews"] == 1
    assert svc.tick(session, april + timedelta(minutes=5))["usage_reviews"] == 0
    review = session.scalar(select(CreditUsageReview))
    assert review.month == "2025-03" and review.outstanding_balance == Decimal("20000")
    assert review.usage_ratio == Decimal("0.40")


def test_R_CRED_7_usage_review_verb_and_report(session, world):
    with clock.frozen(NOW):
        _approved_line(session, world, limit_amount="50000")
        rows = svc.usage_report(session, world.finance, "2025-03")
        assert [r["recorded"] for r in rows] == [False]
        svc.record_usage_review(session, world.finance, _customer(world).id, "2025-03", "正常")
        with pytest.raises(RuleViolation):
            svc.record_usage_review(session, world.finance, _customer(world).id, "2025-03")
        rows = svc.usage_report(session, world.finance, "2025-03")
        assert [r["recorded"] for r in rows] == [True]
        assert svc.usage_report(session, world.sales4, "2025-03") == []


# --- R-CRED-8 over limit --------------------------------------------------------------------


def test_R_CRED_8_order_over_limit_is_refused_and_changes_nothing(session, world):
    c = _customer(world)
    with clock.frozen(NOW):
        _approved_line(session, world, limit_amount="50000")
        svc.record_transaction(session, world.finance, c.id, "order", "40000", "SO-1")
        with pytest.raises(RuleViolation) as err:
            svc.record_transaction(session, world.finance, c.id, "order", "10000.01", "SO-2")
    assert err.value.rule == "R-CRED-8"
    session.refresh(c)
    assert c.outstanding_balance == Decimal("40000")
    assert session.scalar(select(func.count(CustomerTransaction.id))) == 1


def test_R_CRED_8_no_line_means_no_credit(session, world):
    c = _customer(world)
    with clock.frozen(NOW), pytest.raises(RuleViolation):
        svc.record_transaction(session, world.finance, c.id, "order", "1")


def test_R_CRED_8_over_limit_approval_covers_the_excess_while_valid(session, world):
    c = _customer(world)
    with clock.frozen(NOW):
        _approved_line(session, world, limit_amount="50000")
        with pytest.raises(PermissionDenied):
            svc.approve_over_limit(session, world.finance, c.id, "20000", "大单", 10)
        ola = svc.approve_over_limit(session, world.gm, c.id, "20000", "年底大单", 10)
        tx = svc.record_transaction(session, world.finance, c.id, "order", "70000")
        assert tx.over_limit_approval_id == ola.id
        with pytest.raises(RuleViolation):
            svc.record_transaction(session, world.finance, c.id, "order", "1")
    with clock.frozen(NOW + timedelta(days=11)):
        svc.record_transaction(session, world.finance, c.id, "payment", "30000")
        with pytest.raises(RuleViolation):  # approval expired, 40000 + 20000 > 50000
            svc.record_transaction(session, world.finance, c.id, "order", "20000")


def test_R_CRED_8_payments_lower_the_balance_never_below_zero(session, world):
    c = _customer(world)
    with clock.frozen(NOW):
        _approved_line(session, world, limit_amount="50000")
        svc.record_transaction(session, world.finance, c.id, "order", "1000")
        svc.record_transaction(session, world.finance, c.id, "payment", "5000")
        with pytest.raises(ValidationFailed):
            svc.record_transaction(session, world.finance, c.id, "payment", "-5")
        with pytest.raises(PermissionDenied):
            svc.record_transaction(session, world.sales1, c.id, "payment", "5")
    session.refresh(c)
    assert c.outstanding_balance == Decimal("0")


def test_R_CRED_8_over_limit_list_for_collection(session, world):
    c = _customer(world)
    with clock.frozen(NOW):
        _approved_line(session, world, limit_amount="50000")
        svc.approve_over_limit(session, world.gm, c.id, "20000", "年底大单", 10)
        svc.record_transaction(session, world.finance, c.id, "order", "65000")
        rows = svc.over_limit_customers(session, world.finance)
        assert [(r["customer_id"], r["excess"]) for r in rows] == [(c.id, Decimal("15000"))]
        assert [r["customer_id"] for r in svc.over_limit_customers(session, world.sales1)] \
            == [c.id]
        assert svc.over_limit_customers(session, world.sales4) == []
        with pytest.raises(PermissionDenied):
            svc.over_limit_customers(session, world.sysadmin)
    assert svc.tick(session, NOW)["over_limit_notices"] == 1
    assert svc.tick(session, NOW + timedelta(minutes=5))["over_limit_notices"] == 0
