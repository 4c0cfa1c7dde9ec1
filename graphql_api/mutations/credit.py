"""Credit mutations: evaluation, the line's propose → review → approve chain, transactions and
over-limit approvals (portal/services/credit.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, data_of, run
from graphql_api.types import enums as E
from graphql_api.types.credit import CreditEvaluationNode, CreditLineNode
from graphql_api.types.customers import CustomerNode
from models import Customer
from portal.services import credit as svc

UNSET = strawberry.UNSET


@strawberry.input(description="The answers of 客户信用评定表; the rating is computed.")
class CreditAnswersInput:
    years_of_cooperation: Decimal | None = UNSET
    bad_debt_2y: bool | None = UNSET
    promise_keeping: E.Quality3 | None = UNSET
    debt_disputes: bool | None = UNSET
    capital_strength: E.CapitalStrength | None = UNSET
    operating_condition: E.Quality3 | None = UNSET
    serious_decline: bool | None = UNSET
    illegal_operation: bool | None = UNSET
    ordered_to_stop: bool | None = UNSET
    accounts_frozen_risk: bool | None = UNSET
    avg_monthly_shipments: Decimal | None = UNSET
    avg_monthly_receipts: Decimal | None = UNSET
    receipts_meet_standard: bool | None = UNSET
    collateral_value: Decimal | None = UNSET


@strawberry.input
class CreditLineInput:
    kind: E.CreditLineKind
    limit_amount: Decimal
    term_days: int
    collateral_value: Decimal | None = UNSET
    raise_reason: str | None = UNSET
    valid_until: date | None = UNSET
    note: str | None = UNSET


def _cid(value: strawberry.ID) -> int:
    return expect_id(value, "Customer", "customerId")


def _lid(value: strawberry.ID) -> int:
    return expect_id(value, "CreditLine", "creditLineId")


@strawberry.type
class CreditMutations:
    @strawberry.mutation
    def evaluate_credit(self, info: Info, customer_id: strawberry.ID,
                        answers: CreditAnswersInput) -> Payload[CreditEvaluationNode]:
        return run(info, CreditEvaluationNode, lambda s, u: svc.evaluate(
            s, u, _cid(customer_id), data_of(answers)))

    @strawberry.mutation
    def propose_credit_line(self, info: Info, customer_id: strawberry.ID,
                            input: CreditLineInput) -> Payload[CreditLineNode]:
        return run(info, CreditLineNode, lambda s, u: svc.propose_line(
            s, u, _cid(customer_id), data_of(input)))

    @strawberry.mutation
    def review_credit_line(self, info: Info, credit_line_id: strawberry.ID, accept: bool,
                           note: str | None = None,
                           *, expected_version: int) -> Payload[CreditLineNode]:
        return run(info, CreditLineNode, lambda s, u: svc.review_line(
            s, u, _lid(credit_line_id), accept, note=note, expected_version=expected_version))

    @strawberry.mutation
    def approve_credit_line(self, info: Info, credit_line_id: strawberry.ID, accept: bool,
                            note: str | None = None,
                            *, expected_version: int) -> Payload[CreditLineNode]:
        return run(info, CreditLineNode, lambda s, u: svc.approve_line(
            s, u, _lid(credit_line_id), accept, note=note, expected_version=expected_version))

    @strawberry.mutation(description="An order (赊销) raises the outstanding balance and falls "
                         "due after the line's term; a payment settles open sales oldest "
                         "first (FIFO); a prepayment (预付, suppliers only) needs "
                         "deliveryDeadline (到货期限) and a delivery settles prepayments "
                         "oldest first. Orders and prepayments beyond the line in force, or "
                         "while anything is past due, need an over-limit approval (R-CRED-8, "
                         "R-CRED-9). The result is the customer.")
    def record_transaction(self, info: Info, customer_id: strawberry.ID,
                           kind: E.TransactionKind, amount: Decimal,
                           reference: str | None = None,
                           delivery_deadline: date | None = None) -> Payload[CustomerNode]:
        def call(s, u):
            svc.record_transaction(s, u, _cid(customer_id), kind.value, amount,
                                   reference=reference, delivery_deadline=delivery_deadline)
            return s.get(Customer, _cid(customer_id))
        return run(info, CustomerNode, call)

    @strawberry.mutation(description="Approve exceeding the credit line by up to amount.")
    def approve_over_limit(self, info: Info, customer_id: strawberry.ID, amount: Decimal,
                           reason: str, valid_days: int = 30) -> Payload[CustomerNode]:
        def call(s, u):
            svc.approve_over_limit(s, u, _cid(customer_id), amount, reason, valid_days)
            return s.get(Customer, _cid(customer_id))
        return run(info, CustomerNode, call)
