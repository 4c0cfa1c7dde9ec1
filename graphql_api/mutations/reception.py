"""Reception mutations: register a visit or call, complete a record
(portal/services/reception.py)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, data_of, run
from graphql_api.types import enums as E
from graphql_api.types.reception import ReceptionRecordNode
from portal.services import reception as svc

UNSET = strawberry.UNSET
_IDS = {"branch_id": "Branch", "designated_staff_id": "User", "customer_id": "Customer"}


@strawberry.input(description="A visit or call. Walk-ins who name nobody get the next "
                  "salesperson of the rotation (R-RECV-1).")
class ReceptionInput:
    kind: E.ReceptionKind
    visitor_name: str
    visitor_class: E.VisitorClass | None = UNSET
    venue: E.Venue | None = UNSET
    visitor_company: str | None = UNSET
    visitor_phone: str | None = UNSET
    purpose: str | None = UNSET
    outcome: E.ReceptionOutcome | None = UNSET
    arrived_at: datetime | None = UNSET
    departed_at: datetime | None = UNSET
    branch_id: strawberry.ID | None = UNSET
    designated_staff_id: strawberry.ID | None = UNSET
    customer_id: strawberry.ID | None = UNSET
    create_customer: bool | None = UNSET


@strawberry.input
class ReceptionPatch:
    visitor_class: E.VisitorClass | None = UNSET
    venue: E.Venue | None = UNSET
    visitor_name: str | None = UNSET
    visitor_company: str | None = UNSET
    visitor_phone: str | None = UNSET
    purpose: str | None = UNSET
    outcome: E.ReceptionOutcome | None = UNSET
    departed_at: datetime | None = UNSET


@strawberry.type
class ReceptionMutations:
    @strawberry.mutation
    def register_reception(self, info: Info,
                           input: ReceptionInput) -> Payload[ReceptionRecordNode]:
        return run(info, ReceptionRecordNode,
                   lambda s, u: svc.register_reception(s, u, data_of(input, ids=_IDS)))

    @strawberry.mutation
    def update_reception(self, info: Info, reception_record_id: strawberry.ID,
                         input: ReceptionPatch,
                         *, expected_version: int) -> Payload[ReceptionRecordNode]:
        return run(info, ReceptionRecordNode, lambda s, u: svc.update_reception(
            s, u, expect_id(reception_record_id, "ReceptionRecord", "receptionRecordId"),
            data_of(input), expected_version=expected_version))
