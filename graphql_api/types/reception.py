"""Reception records (接待 / 来人来电登记)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.types import enums as E
from graphql_api.types.base import FromModel, Node, one
from graphql_api.types.org import BranchNode, UserNode
from models import Branch, Customer, ReceptionRecord, User
from models import enums as me

if TYPE_CHECKING:
    from graphql_api.types.customers import CustomerNode


@strawberry.type(name="ReceptionRecord")
class ReceptionRecordNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("kind", "visitor_class", "venue", "visitor_name", "visitor_company",
               "visitor_phone", "purpose", "arrived_at", "departed_at", "is_returning",
               "used_rotation_turn", "outcome", "version")
    ENUMS = {"kind": me.ReceptionKind, "visitor_class": me.VisitorClass, "venue": me.Venue,
             "outcome": me.ReceptionOutcome}
    _m: strawberry.Private[ReceptionRecord]
    _b: strawberry.Private[Batch]
    database_id: int
    kind: E.ReceptionKind
    visitor_class: E.VisitorClass
    venue: E.Venue
    visitor_name: str
    visitor_company: str | None
    visitor_phone: str | None
    purpose: str | None
    arrived_at: datetime
    departed_at: datetime | None
    is_returning: bool
    used_rotation_turn: bool
    outcome: E.ReceptionOutcome
    version: int

    @strawberry.field
    def branch(self, info: Info) -> BranchNode | None:
        return one(info, self, "branch_id", Branch, BranchNode)

    @strawberry.field
    def received_by(self, info: Info) -> UserNode | None:
        return one(info, self, "received_by_id", User, UserNode)

    @strawberry.field
    def assigned_to(self, info: Info) -> UserNode | None:
        return one(info, self, "assigned_to_id", User, UserNode)

    @strawberry.field
    def designated_staff(self, info: Info) -> UserNode | None:
        return one(info, self, "designated_staff_id", User, UserNode)

    @strawberry.field
    def customer(self, info: Info) -> Annotated[CustomerNode, strawberry.lazy(
            "graphql_api.types.customers")] | None:
        from graphql_api.types.customers import CustomerNode

        return one(info, self, "customer_id", Customer, CustomerNode)
