"""Complaints (客户投诉) and their workflow events. Details (description, resolution,
compensation, accused person, rejection reason, satisfaction, events) are in the
``complaint_detail`` field group."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.permissions import check_visible, guard
from graphql_api.types import enums as E
from graphql_api.types.base import FromModel, Node, many, one, one_row, relation
from graphql_api.types.org import DepartmentNode, UserNode
from graphql_api.types.timeline import TimelineEventNode, timeline_of
from models import Complaint, ComplaintEvent, Customer, Department, User
from models import enums as me

if TYPE_CHECKING:
    from graphql_api.types.customers import CustomerNode


@strawberry.type(name="ComplaintEvent", description="One workflow step (R-COMP-6).")
class ComplaintEventNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("from_status", "to_status", "at", "note")
    ENUMS = {"from_status": me.ComplaintStatus, "to_status": me.ComplaintStatus}
    _m: strawberry.Private[ComplaintEvent]
    _b: strawberry.Private[Batch]
    database_id: int
    from_status: E.ComplaintStatus | None
    to_status: E.ComplaintStatus
    at: datetime
    note: str | None

    @strawberry.field
    @relation("one", "actor_id", User)
    def actor(self, info: Info) -> UserNode | None:
        return one(info, self, "actor_id", User, UserNode)


@strawberry.type(name="Complaint")
class ComplaintNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("number", "channel", "type", "cause", "severity", "major_reason", "status",
               "registered_at", "deadline_at", "extended", "extension_reason", "escalated_at",
               "closed_at", "version")
    ENUMS = {"channel": me.ComplaintChannel, "type": me.ComplaintType,
             "cause": me.ComplaintCause, "severity": me.Severity, "status": me.ComplaintStatus}
    # computed fields checked against a field group (they need the customer chain to decide)
    GUARDED_FIELDS: ClassVar[tuple[str, ...]] = ("timeline",)
    _m: strawberry.Private[Complaint]
    _b: strawberry.Private[Batch]
    database_id: int
    number: str
    channel: E.ComplaintChannel
    type: E.ComplaintType
    cause: E.ComplaintCause
    severity: E.Severity
    major_reason: str | None
    status: E.ComplaintStatus
    registered_at: datetime
    deadline_at: datetime
    extended: bool
    extension_reason: str | None
    escalated_at: datetime | None
    closed_at: datetime | None
    version: int

    # field group complaint_detail
    @strawberry.field
    @one_row("description")
    def description(self, info: Info) -> str | None:
        return guard(info, self, "description")

    @strawberry.field
    @one_row("resolution")
    def resolution(self, info: Info) -> str | None:
        return guard(info, self, "resolution")

    @strawberry.field
    @one_row("compensation_amount")
    def compensation_amount(self, info: Info) -> Decimal | None:
        return guard(info, self, "compensation_amount")

    @strawberry.field
    @one_row("rejection_reason")
    def rejection_reason(self, info: Info) -> str | None:
        return guard(info, self, "rejection_reason")

    @strawberry.field
    @one_row("satisfaction")
    def satisfaction(self, info: Info) -> int | None:
        return guard(info, self, "satisfaction")

    @strawberry.field
    def accused_user(self, info: Info) -> UserNode | None:
        check_visible(info, self, "accused_user")
        return one(info, self, "accused_user_id", User, UserNode)

    @strawberry.field
    def events(self, info: Info) -> list[ComplaintEventNode] | None:
        check_visible(info, self, "events")
        return many(info, self, ComplaintEvent, ComplaintEvent.complaint_id,
                    ComplaintEventNode)

    @strawberry.field(description="Who did what when, with comments (the portal's timeline).")
    def timeline(self, info: Info) -> list[TimelineEventNode] | None:
        check_visible(info, self, "events")
        return timeline_of(info, self, Complaint)

    # relationships
    @strawberry.field
    @relation("one", "customer_id", Customer)
    def customer(self, info: Info) -> Annotated[CustomerNode, strawberry.lazy(
            "graphql_api.types.customers")] | None:
        from graphql_api.types.customers import CustomerNode

        return one(info, self, "customer_id", Customer, CustomerNode)

    @strawberry.field
    @relation("one", "received_by_id", User)
    def received_by(self, info: Info) -> UserNode | None:
        return one(info, self, "received_by_id", User, UserNode)

    @strawberry.field
    @relation("one", "handler_id", User)
    def handler(self, info: Info) -> UserNode | None:
        return one(info, self, "handler_id", User, UserNode)

    @strawberry.field
    @relation("one", "responsible_department_id", Department)
    def responsible_department(self, info: Info) -> DepartmentNode | None:
        return one(info, self, "responsible_department_id", Department, DepartmentNode)
