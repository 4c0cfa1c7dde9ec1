"""Credit verbs (portal/services/credit.py) through the portal and through GraphQL: evaluate,
the propose → finance review → general manager approval chain, transactions and over-limit
approvals. Transactions and over-limit approvals are buttons of the customer details page
(finance records transactions, the general manager approves over-limit)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from models import (
    CreditApproval,
    CreditEvaluation,
    CreditLine,
    CustomerTransaction,
    OverLimitApproval,
)
from portal.services import credit as svc
from tests.doors.conftest import audit_mark, audit_since, gid, gql_ok, post_form
from tests.doors.test_customer_doors import details_offers, flashed

A_ANSWERS = {
    "years_of_cooperation": 3, "bad_debt_2y": False, "promise_keeping": "good",
    "debt_disputes": False, "capital_strength": "strong", "operating_condition": "good",
    "serious_decline": False, "illegal_operation": False, "ordered_to_stop": False,
    "accounts_frozen_risk": False, "avg_monthly_shipments": "120000",
    "avg_monthly_receipts": "100000", "receipts_meet_standard": True,
    "collateral_value": "50000",
}
CHAIN_STEPS = ["propose", "review", "approve"]


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def _latest_evaluation(session, customer_id: int) -> CreditEvaluation:
    session.expire_all()
    return session.scalars(select(CreditEvaluation).where(
        CreditEvaluation.customer_id == customer_id).order_by(CreditEvaluation.id.desc())).first()


def _line(session, customer_id: int) -> CreditLine:
    session.expire_all()
    return session.scalars(select(CreditLine).where(CreditLine.customer_id == customer_id)
                           .order_by(CreditLine.id.desc())).first()


def _steps(session, line: CreditLine) -> list[tuple[str, int]]:
    session.expire_all()
    return [(a.step, a.actor_id) for a in session.scalars(
        select(CreditApproval).where(CreditApproval.credit_line_id == line.id)
        .order_by(CreditApproval.id))]


# --- evaluate (R-CRED-3: the rating is computed, with the reason shown) ----------------------


def test_R_CRED_3_evaluate_through_portal(session, world, login):
    c = world.customers["sales1"][0]
    form = {"customer": str(c.id)}
    for key, value in A_ANSWERS.items():
        if value is True:
            form[key] = "y"
        elif value is not False:  # an unticked box is simply not posted
            form[key] = str(value)
    mark = audit_mark(session)
    post_form(login(world.finance), "/admin/creditevaluation/new/", form)
    ev = _latest_evaluation(session, c.id)
    assert ev is not None and ev.rating == "A" and ev.rating_reason
    assert ev.evaluated_by_id == world.finance.id
    assert ("credit.evaluate", "ok") in audit_since(session, mark)


def test_R_CRED_3_evaluate_through_graphql(session, world, api):
    c = world.customers["sales1"][0]
    answers = {_camel(k): (v.upper() if isinstance(v, str) and not v[0].isdigit() else v)
               for k, v in A_ANSWERS.items()}
    answers["yearsOfCooperation"] = "3"
    mark = audit_mark(session)
    result = gql_ok(api(world.finance), """
        mutation($id: ID!, $a: CreditAnswersInput!) { evaluateCredit(customerId: $id, answers: $a) {
          ok errors { code message field rule } result { id } } }""",
                    {"id": gid("Customer", c.id), "a": answers}, "evaluateCredit")
    assert result["id"]
    ev = _latest_evaluation(session, c.id)
    assert ev.rating == "A" and ev.rating_reason and ev.evaluated_by_id == world.finance.id
    assert ("credit.evaluate", "ok") in audit_since(session, mark)


# --- the approval chain (R-CRED-5: manager proposes, finance reviews, GM approves) -----------


def _workflow(session, client, line: CreditLine, op: str, note: str) -> None:
    session.expire_all()
    details = client.get(f"/admin/creditline/details/?id={line.id}").get_data(as_text=True)
    url = f"/admin/creditline/workflow/?id={line.id}&amp;op={op}"
    assert url in details, f"no {op} button on the details page"
    post_form(client, url.replace("&amp;", "&"), {"version": str(line.version), "note": note})


def test_R_CRED_5_chain_through_portal(session, world, login):
    c = world.customers["sales1"][0]
    svc.evaluate(session, world.finance, c.id, A_ANSWERS)
    mark = audit_mark(session)
    post_form(login(world.manager), "/admin/creditline/new/", {
        "customer": str(c.id), "kind": "temporary", "limit_amount": "80000",
        "term_days": "30", "collateral_value": "0"})
    line = _line(session, c.id)
    assert line is not None and line.status == "proposed"
    _workflow(session, login(world.finance), line, "review_accept", "资料齐全")
    assert line.status == "reviewed"
    _workflow(session, login(world.gm), line, "approve_accept", "同意")
    assert line.status == "approved" and line.approved_by_id == world.gm.id
    assert _steps(session, line) == [("propose", world.manager.id),
                                      ("review", world.finance.id), ("approve", world.gm.id)]
    assert svc.line_in_force(session, c.id).id == line.id
    assert [a for a, o in audit_since(session, mark)
            if o == "ok" and a.startswith("credit.") and a != "credit.view"] == \
        ["credit.propose", "credit.review", "credit.approve"]  # (credit.view: pages read)


def test_R_CRED_5_chain_through_graphql(session, world, api):
    c = world.customers["sales1"][0]
    svc.evaluate(session, world.finance, c.id, A_ANSWERS)
    mark = audit_mark(session)
    result = gql_ok(api(world.manager), """
        mutation($id: ID!, $input: CreditLineInput!) {
          proposeCreditLine(customerId: $id, input: $input) {
            ok errors { code message field rule } result { id } } }""",
                    {"id": gid("Customer", c.id), "input": {
                        "kind": "TEMPORARY", "limitAmount": "80000", "termDays": 30}},
                    "proposeCreditLine")
    line_id = result["id"]
    line = _line(session, c.id)
    assert line.status == "proposed"
    for user, name in ((world.finance, "reviewCreditLine"), (world.gm, "approveCreditLine")):
        session.expire_all()
        gql_ok(api(user), f"""mutation($id: ID!, $v: Int!) {{
            {name}(creditLineId: $id, accept: true, note: "同意", expectedVersion: $v) {{
              ok errors {{ code message field rule }} result {{ id }} }} }}""",
               {"id": line_id, "v": line.version}, name)
    line = _line(session, c.id)
    assert line.status == "approved" and line.approved_by_id == world.gm.id
    assert _steps(session, line) == [("propose", world.manager.id),
                                      ("review", world.finance.id), ("approve", world.gm.id)]
    assert svc.line_in_force(session, c.id).id == line.id
    assert [a for a, o in audit_since(session, mark)
            if o == "ok" and a.startswith("credit.") and a != "credit.view"] == \
        ["credit.propose", "credit.review", "credit.approve"]  # (credit.view: pages read)


# --- transactions and over-limit approvals (R-CRED-8) -----------------------------------------


def _line_in_force(session, world, customer) -> CreditLine:
    svc.evaluate(session, world.finance, customer.id, A_ANSWERS)
    line = svc.propose_line(session, world.manager, customer.id,
                            {"kind": "temporary", "limit_amount": "50000", "term_days": 30})
    svc.review_line(session, world.finance, line.id, True)
    return svc.approve_line(session, world.gm, line.id, True)


_RECORD = """mutation($id: ID!, $amount: Decimal!) {
  recordTransaction(customerId: $id, kind: ORDER, amount: $amount, reference: "SO-1") {
    ok errors { code message field rule } result { id } } }"""


def test_R_CRED_8_record_transaction_through_graphql(session, world, api):
    c = world.customers["sales1"][0]
    _line_in_force(session, world, c)
    mark = audit_mark(session)
    gql_ok(api(world.finance), _RECORD, {"id": gid("Customer", c.id), "amount": "40000"},
           "recordTransaction")
    session.expire_all()
    assert c.outstanding_balance == Decimal("40000")
    tx = session.scalar(select(CustomerTransaction).where(CustomerTransaction.customer_id == c.id))
    assert (tx.kind, tx.amount, tx.reference) == ("order", Decimal("40000"), "SO-1")
    assert ("credit.record_transaction", "ok") in audit_since(session, mark)


def test_R_CRED_8_approve_over_limit_through_graphql(session, world, api):
    c = world.customers["sales1"][0]
    _line_in_force(session, world, c)
    mark = audit_mark(session)
    gql_ok(api(world.gm), """mutation($id: ID!) {
        approveOverLimit(customerId: $id, amount: "20000", reason: "年底大单", validDays: 10) {
          ok errors { code message field rule } result { id } } }""",
           {"id": gid("Customer", c.id)}, "approveOverLimit")
    session.expire_all()
    ola = session.scalar(select(OverLimitApproval).where(OverLimitApproval.customer_id == c.id))
    assert ola.amount == Decimal("20000") and ola.approved_by_id == world.gm.id
    assert ("credit.approve_over_limit", "ok") in audit_since(session, mark)
    # the approval now lets an order beyond the line through, and is linked to it
    gql_ok(api(world.finance), _RECORD, {"id": gid("Customer", c.id), "amount": "65000"},
           "recordTransaction")
    session.expire_all()
    tx = session.scalar(select(CustomerTransaction).where(CustomerTransaction.customer_id == c.id))
    assert tx.over_limit_approval_id == ola.id and c.outstanding_balance == Decimal("65000")


def test_R_CRED_8_record_transaction_through_portal(session, world, login):
    c = world.customers["sales1"][0]
    _line_in_force(session, world, c)
    assert not details_offers(login(world.sales1), c.id, "transaction")  # sales: no grant
    client = login(world.finance)
    assert details_offers(client, c.id, "transaction")
    assert client.get(f"/admin/customer/transaction/?id={c.id}").status_code == 200  # the form
    mark = audit_mark(session)
    post_form(client, f"/admin/customer/transaction/?id={c.id}",
              {"kind": "order", "amount": "40000", "reference": "SO-1"})
    assert "已登记交易" in flashed(client)
    session.expire_all()
    assert c.outstanding_balance == Decimal("40000")
    tx = session.scalar(select(CustomerTransaction).where(CustomerTransaction.customer_id == c.id))
    assert (tx.kind, tx.amount, tx.reference, tx.recorded_by_id) == \
        ("order", Decimal("40000"), "SO-1", world.finance.id)
    assert ("credit.record_transaction", "ok") in audit_since(session, mark)


def test_R_CRED_8_order_over_the_line_through_portal_is_refused_and_changes_nothing(
        session, world, login):
    c = world.customers["sales1"][0]
    _line_in_force(session, world, c)  # limit 50000
    client = login(world.finance)
    resp = client.post(f"/admin/customer/transaction/?id={c.id}",
                       data={"kind": "order", "amount": "60000"})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "alert-" in body and "60000" in body
    session.expire_all()
    assert not c.outstanding_balance
    assert session.scalar(select(CustomerTransaction).where(
        CustomerTransaction.customer_id == c.id)) is None


def test_R_CRED_8_approve_over_limit_through_portal(session, world, login):
    c = world.customers["sales1"][0]
    _line_in_force(session, world, c)
    assert not details_offers(login(world.finance), c.id, "over-limit")  # finance: no grant
    client = login(world.gm)
    assert details_offers(client, c.id, "over-limit")
    assert client.get(f"/admin/customer/over-limit/?id={c.id}").status_code == 200  # the form
    mark = audit_mark(session)
    post_form(client, f"/admin/customer/over-limit/?id={c.id}",
              {"amount": "20000", "reason": "年底大单", "valid_days": "10"})
    assert "已批准超额度" in flashed(client)
    session.expire_all()
    ola = session.scalar(select(OverLimitApproval).where(OverLimitApproval.customer_id == c.id))
    assert ola.amount == Decimal("20000") and ola.approved_by_id == world.gm.id
    assert ola.reason == "年底大单"
    assert ("credit.approve_over_limit", "ok") in audit_since(session, mark)
    # the approval now lets an order beyond the line through the portal, linked to it
    post_form(login(world.finance), f"/admin/customer/transaction/?id={c.id}",
              {"kind": "order", "amount": "65000"})
    session.expire_all()
    tx = session.scalar(select(CustomerTransaction).where(CustomerTransaction.customer_id == c.id))
    assert tx.over_limit_approval_id == ola.id and c.outstanding_balance == Decimal("65000")


def test_R_CRED_8_approve_over_limit_page_refused_for_finance(session, world, login):
    c = world.customers["sales1"][0]
    client = login(world.finance)
    mark = audit_mark(session)
    resp = client.post(f"/admin/customer/over-limit/?id={c.id}",
                                     data={"amount": "20000", "reason": "x", "valid_days": "10"})
    assert resp.status_code == 403
    assert [o for _a, o in audit_since(session, mark)] == ["denied"]
    session.expire_all()
    assert session.scalar(select(OverLimitApproval).where(
        OverLimitApproval.customer_id == c.id)) is None


def test_R_CRED_10_prepayment_to_a_supplier_through_portal(session, world, login):
    """预付 in the portal: the transaction form takes the delivery deadline (到货期限); without
    it the prepayment is refused and nothing changes."""
    from datetime import timedelta

    from portal import clock

    c = world.customers["sales1"][0]
    c.kind = "supplier"
    _line_in_force(session, world, c)
    client = login(world.finance)
    page = client.get(f"/admin/customer/transaction/?id={c.id}").get_data(as_text=True)
    assert "到货期限" in page and "预付款" in page
    resp = client.post(f"/admin/customer/transaction/?id={c.id}",
                       data={"kind": "prepayment", "amount": "10000"})
    assert resp.status_code == 200 and "到货期限" in resp.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(CustomerTransaction).where(
        CustomerTransaction.customer_id == c.id)) is None
    deadline = (clock.now() + timedelta(days=20)).date().isoformat()
    post_form(client, f"/admin/customer/transaction/?id={c.id}",
              {"kind": "prepayment", "amount": "10000", "delivery_deadline": deadline})
    assert "已登记交易" in flashed(client)
    session.expire_all()
    tx = session.scalar(select(CustomerTransaction).where(CustomerTransaction.customer_id == c.id))
    assert (tx.kind, tx.amount) == ("prepayment", Decimal("10000"))
    assert c.outstanding_balance == Decimal("10000")
