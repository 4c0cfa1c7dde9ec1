"""更正申请 (R-CUST-8): a correction of an archive's original fields waiting for the department
manager's consent."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.types.base import FromModel, Node, one
from graphql_api.types.org import UserNode
from models import CorrectionRequest, Customer, User
from portal import policy

if TYPE_CHECKING:
    from graphql_api.types.customers import CustomerNode


@strawberry.type(name="CorrectionChange", description="One field of a correction request.")
class CorrectionChange:
    field: str
    new_value: str | None


@strawberry.type(name="CorrectionRequest", description="A correction of the original fields "
                 "of a dealt or closed archive; applied only once the department manager "
                 "consents (R-CUST-8).")
class CorrectionRequestNode(FromModel, Node):
    SCALARS = ("status", "reason", "requested_at", "decided_at", "decision_comment", "version")
    _m: strawberry.Private[CorrectionRequest]
    _b: strawberry.Private[Batch]
    database_id: int
    status: str = strawberry.field(description="pending, approved or refused.")
    reason: str
    requested_at: datetime
    decided_at: datetime | None
    decision_comment: str | None
    version: int

    @strawberry.field(description="The new values asked for (contact fields only for those "
                      "who may read the archive's contact details).")
    def changes(self, info: Info) -> list[CorrectionChange]:
        user, customer = info.context.user, self._m.customer
        hidden = set() if policy.group_visible(user, "customer_contact", customer) \
            else set(policy.FIELD_GROUPS[Customer]["customer_contact"])
        values = json.loads(self._m.changes or "{}")
        return [CorrectionChange(field=k, new_value=None if v is None else str(v))
                for k, v in values.items() if k not in hidden]

    @strawberry.field
    def customer(self, info: Info) -> Annotated[
            CustomerNode, strawberry.lazy("graphql_api.types.customers")] | None:
        from graphql_api.types.customers import CustomerNode

        return one(info, self, "customer_id", Customer, CustomerNode)

    @strawberry.field
    def requested_by(self, info: Info) -> UserNode | None:
        return one(info, self, "requested_by_id", User, UserNode)

    @strawberry.field
    def decided_by(self, info: Info) -> UserNode | None:
        return one(info, self, "decided_by_id", User, UserNode)
