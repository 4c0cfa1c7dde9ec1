"""Issue 16, credit: the rules as the company's credit policy (客户信用管理制度) writes them —
only a good promise-keeping record gives A (R-CRED-1); caps use min(shipments, receipts) and,
for B, the collateral (R-CRED-4); a C rating suspends the line in force at once; caps are
checked again at approval; a temporary line ends (default 3 months)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import AuditEntry, CreditLine
from portal import clock
from portal.services import credit as svc
from portal.services.errors import RuleViolation, ValidationFailed
from tests.services.test_credit import A_ANSWERS, B_ANSWERS

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def _customer(world):
    return world.customers["sales1"][0]


def _propose(session, world, **data):
    payload = {"kind": "temporary", "limit_amount": "10000", "term_days": 15}
    payload.update(data)
    return svc.propose_line(session, world.manager, _customer(world).id, payload)


def _through_chain(session, world, **data):
    svc.evaluate(session, world.finance, _customer(world).id, A_ANSWERS)
    line = _propose(session, world, **data)
    svc.review_line(session, world.finance, line.id, True)
    return svc.approve_line(session, world.gm, line.id, True)


@pytest.mark.parametrize("promise", ["fair", None])
def test_R_CRED_1_only_a_good_promise_record_gives_A(promise):
    answers = {**A_ANSWERS, "promise_keeping": promise}
    result = svc.rate(answers)
    assert result.rating == "B"
    if promise is None:
        assert "promise_keeping" in result.missing
    else:
        assert "b.promises_not_good" in result.reasons
        assert "守信" in svc.explain(result, "zh")
    assert svc.rate(A_ANSWERS).rating == "A"


def test_R_CRED_4_cap_is_the_smaller_of_shipments_and_receipts(session, world):
    # A with earlier credit: min(shipments 120 000, receipts 100 000) = 100 000, not 120 000.
    with clock.frozen(NOW):
        _through_chain(session, world, limit_amount="50000", term_days=30)
        with pytest.raises(RuleViolation) as err:
            _propose(session, world, kind="long_term", limit_amount="100001", term_days=30,
                     raise_reason="旺季")
        assert err.value.field == "limit_amount" and err.value.rule == "R-CRED-4"
        assert _propose(session, world, kind="long_term", limit_amount="100000", term_days=30,
                        raise_reason="旺季").limit_amount == Decimal("100000.00")


def test_R_CRED_4_b_cap_where_the_monthly_amount_binds_not_the_collateral(session, world):
    # Collateral 200 000 is above min(shipments 60 000, receipts 80 000) = 60 000: that binds.
    answers = {**B_ANSWERS, "avg_monthly_shipments": "60000", "avg_monthly_receipts": "80000",
               "collateral_value": "200000"}
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, _customer(world).id, answers)
        with pytest.raises(RuleViolation) as err:
            _propose(session, world, kind="long_term", limit_amount="60001",
                     collateral_value="200000", term_days=30)
        assert err.value.field == "limit_amount" and "60000" in str(err.value.params)
        line = _propose(session, world, kind="long_term", limit_amount="60000",
                        collateral_value="200000", term_days=30)
    assert line.limit_amount == Decimal("60000.00")


def test_R_CRED_4_c_rating_suspends_the_line_in_force_at_once(session, world):
    c = _customer(world)
    with clock.frozen(NOW):
        line = _through_chain(session, world, limit_amount="50000", term_days=30)
        assert svc.line_in_force(session, c.id).id == line.id
    with clock.frozen(NOW + timedelta(days=5)):
        svc.evaluate(session, world.finance, c.id, {**A_ANSWERS, "bad_debt_2y": True})
        assert svc.line_in_force(session, c.id) is None
        assert svc.line_state(session, line) == "suspended"
        # An order on credit is now refused (R-CRED-8 against a limit of 0).
        with pytest.raises(RuleViolation):
            svc.record_transaction(session, world.finance, c.id, "order", "100")
        suspended = session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "credit.suspend"))
        assert suspended == 1
    # A better rating later does not revive the suspended line: a new line goes through the
    # chain again.
    with clock.frozen(NOW + timedelta(days=6)):
        svc.evaluate(session, world.finance, c.id, A_ANSWERS)
        assert svc.line_in_force(session, c.id) is None


def test_R_CRED_4_caps_are_checked_again_at_approval(session, world):
    c = _customer(world)
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, c.id, A_ANSWERS)
        line = _propose(session, world, limit_amount="90000", term_days=30)
        svc.review_line(session, world.finance, line.id, True)
        # Receipts fell before the approval: 90 000 is now above the cap of 70 000.
        svc.evaluate(session, world.finance, c.id, {**A_ANSWERS, "avg_monthly_receipts": "70000"})
        with pytest.raises(RuleViolation) as err:
            svc.approve_line(session, world.gm, line.id, True)
        assert err.value.rule == "R-CRED-4"
    session.expire_all()
    assert session.get(CreditLine, line.id).status == "reviewed"
    assert svc.line_in_force(session, c.id) is None


def test_R_CRED_4_temporary_line_ends_after_three_months(session, world):
    c = _customer(world)
    with clock.frozen(NOW):
        line = _through_chain(session, world, limit_amount="50000", term_days=30)
    assert line.valid_from == date(2025, 3, 10) and line.valid_until == date(2025, 6, 10)
    with clock.frozen(datetime(2025, 6, 9, 2, 0, tzinfo=UTC)):
        assert svc.line_in_force(session, c.id).id == line.id
    with clock.frozen(datetime(2025, 6, 10, 2, 0, tzinfo=UTC)):
        assert svc.line_in_force(session, c.id) is None
        assert svc.line_state(session, line) == "lapsed"
        assert svc.over_limit_rows(session) == [] or all(
            r["limit"] == 0 for r in svc.over_limit_rows(session))


def test_R_CRED_4_temporary_end_date_cannot_exceed_the_setting(session, world):
    with clock.frozen(NOW):
        svc.evaluate(session, world.finance, _customer(world).id, A_ANSWERS)
        with pytest.raises(RuleViolation) as err:
            _propose(session, world, limit_amount="1000", term_days=30,
                     valid_until="2025-06-11")
        assert err.value.field == "valid_until"
        with pytest.raises(ValidationFailed):
            _propose(session, world, limit_amount="1000", term_days=30,
                     valid_until="2025-03-10")
        line = _propose(session, world, limit_amount="1000", term_days=30,
                        valid_until="2025-05-01")
        svc.review_line(session, world.finance, line.id, True)
        svc.approve_line(session, world.gm, line.id, True)
    assert line.valid_until == date(2025, 5, 1)
