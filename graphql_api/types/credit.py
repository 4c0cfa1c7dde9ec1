"""Credit evaluations (信用评定) and credit lines (授信) with their approval chain."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.types import enums as E
from graphql_api.types.base import FromModel, Node, many, one, relation
from graphql_api.types.org import UserNode
from graphql_api.types.timeline import TimelineEventNode, timeline_of
from models import CreditApproval, CreditEvaluation, CreditLine, Customer, User
from models import enums as me
from portal.services import credit_status

if TYPE_CHECKING:
    from graphql_api.types.customers import CustomerNode

_CUSTOMERS = "graphql_api.types.customers"


@strawberry.type(name="CreditEvaluation", description="客户信用评定表 and its computed rating.")
class CreditEvaluationNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("years_of_cooperation", "bad_debt_2y", "promise_keeping", "debt_disputes",
               "capital_strength", "operating_condition", "serious_decline",
               "illegal_operation", "ordered_to_stop", "accounts_frozen_risk",
               "avg_monthly_shipments", "avg_monthly_receipts", "receipts_meet_standard",
               "collateral_value", "rating", "rating_reason", "evaluated_at", "version")
    ENUMS = {"promise_keeping": me.Quality3, "capital_strength": me.CapitalStrength,
             "operating_condition": me.Quality3, "rating": me.Rating}
    _m: strawberry.Private[CreditEvaluation]
    _b: strawberry.Private[Batch]
    database_id: int
    years_of_cooperation: Decimal
    bad_debt_2y: bool
    promise_keeping: E.Quality3
    debt_disputes: bool
    capital_strength: E.CapitalStrength
    operating_condition: E.Quality3
    serious_decline: bool
    illegal_operation: bool
    ordered_to_stop: bool
    accounts_frozen_risk: bool
    avg_monthly_shipments: Decimal | None
    avg_monthly_receipts: Decimal | None
    receipts_meet_standard: bool
    collateral_value: Decimal
    rating: E.Rating
    rating_reason: str
    evaluated_at: datetime
    version: int

    @strawberry.field
    @relation("one", "evaluated_by_id", User)
    def evaluated_by(self, info: Info) -> UserNode | None:
        return one(info, self, "evaluated_by_id", User, UserNode)

    @strawberry.field
    @relation("one", "customer_id", Customer)
    def customer(self, info: Info) -> Annotated[CustomerNode, strawberry.lazy(
            _CUSTOMERS)] | None:
        from graphql_api.types.customers import CustomerNode

        return one(info, self, "customer_id", Customer, CustomerNode)


@strawberry.type(name="CreditApproval", description="One step of a credit line's approval chain.")
class CreditApprovalNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("step", "at", "note")
    _m: strawberry.Private[CreditApproval]
    _b: strawberry.Private[Batch]
    database_id: int
    step: str
    at: datetime
    note: str | None

    @strawberry.field
    @relation("one", "actor_id", User)
    def actor(self, info: Info) -> UserNode | None:
        return one(info, self, "actor_id", User, UserNode)


@strawberry.enum(name="CreditLineShownStatus", description="A credit line's status as "
                 "shown: the stored ones plus LAPSED (end date reached) and SUSPENDED (rated C "
                 "after approval).")
class CreditLineShownStatus(enum.Enum):
    PROPOSED = "proposed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"
    LAPSED = "lapsed"
    SUSPENDED = "suspended"


@strawberry.type(name="CreditLine", description="授信: only an APPROVED line is in force.")
class CreditLineNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("kind", "limit_amount", "term_days", "collateral_value", "status", "is_raise",
               "raise_reason", "proposed_at", "reviewed_at", "approved_at", "valid_from",
               "valid_until", "version")
    ENUMS = {"kind": me.CreditLineKind, "status": me.CreditLineStatus}
    _m: strawberry.Private[CreditLine]
    _b: strawberry.Private[Batch]
    database_id: int
    kind: E.CreditLineKind
    limit_amount: Decimal
    term_days: int
    collateral_value: Decimal
    status: E.CreditLineStatus
    is_raise: bool
    raise_reason: str | None
    proposed_at: datetime
    reviewed_at: datetime | None
    approved_at: datetime | None
    valid_from: date | None
    valid_until: date | None
    version: int

    @strawberry.field(description="The status as shown to people: an approved line whose end "
                      "date has come is LAPSED, one whose customer was rated C after its "
                      "approval is SUSPENDED (R-CRED-4); otherwise the stored status.")
    def effective_status(self, info: Info) -> CreditLineShownStatus:
        states = self._b.cache.get("line_states")
        if states is None:  # one query for the whole batch of sibling lines
            states = credit_status.line_states(info.context.session,
                                               [o.id for o in self._b.objs])
            self._b.cache["line_states"] = states
        return CreditLineShownStatus(states.get(self._m.id) or self._m.status)

    @strawberry.field
    @relation("one", "customer_id", Customer)
    def customer(self, info: Info) -> Annotated[CustomerNode, strawberry.lazy(
            _CUSTOMERS)] | None:
        from graphql_api.types.customers import CustomerNode

        return one(info, self, "customer_id", Customer, CustomerNode)

    @strawberry.field
    @relation("one", "evaluation_id", CreditEvaluation)
    def evaluation(self, info: Info) -> CreditEvaluationNode | None:
        return one(info, self, "evaluation_id", CreditEvaluation, CreditEvaluationNode)

    @strawberry.field
    @relation("one", "proposed_by_id", User)
    def proposed_by(self, info: Info) -> UserNode | None:
        return one(info, self, "proposed_by_id", User, UserNode)

    @strawberry.field
    @relation("one", "reviewed_by_id", User)
    def reviewed_by(self, info: Info) -> UserNode | None:
        return one(info, self, "reviewed_by_id", User, UserNode)

    @strawberry.field
    @relation("one", "approved_by_id", User)
    def approved_by(self, info: Info) -> UserNode | None:
        return one(info, self, "approved_by_id", User, UserNode)

    @strawberry.field
    @relation("many", CreditApproval.credit_line_id, CreditApproval)
    def approvals(self, info: Info) -> list[CreditApprovalNode]:
        return many(info, self, CreditApproval, CreditApproval.credit_line_id,
                    CreditApprovalNode)

    @strawberry.field(description="Who did what when, with comments (the portal's timeline).")
    def timeline(self, info: Info) -> list[TimelineEventNode]:
        return timeline_of(info, self, CreditLine)
