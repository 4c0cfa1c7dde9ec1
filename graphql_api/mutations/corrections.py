"""Correction requests (更正申请, R-CUST-8): the same service verbs as the portal."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, run
from graphql_api.types.corrections import CorrectionRequestNode
from models import enums as me
from portal.services.customers import corrections as svc


@strawberry.input(description="The original fields to correct; leave out what stays.")
class CorrectionInput:
    name: str | None = strawberry.UNSET
    phone: str | None = strawberry.UNSET
    credit_code: str | None = strawberry.UNSET
    kind: me.CustomerKind | None = strawberry.UNSET
    special_category: str | None = strawberry.UNSET
    source: me.CustomerSource | None = strawberry.UNSET

    def data(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for key in svc.ORIGINAL_FIELDS:
            value = getattr(self, key)
            if value is not strawberry.UNSET:
                out[key] = getattr(value, "value", value)
        return out


@strawberry.type
class CorrectionMutations:
    @strawberry.mutation(description="R-CUST-8: ask the department manager's consent to correct "
                         "the original fields of a dealt or closed archive.")
    def request_customer_correction(self, info: Info, customer_id: strawberry.ID,
                                    changes: CorrectionInput,
                                    reason: str) -> Payload[CorrectionRequestNode]:
        return run(info, CorrectionRequestNode, lambda s, u: svc.request_correction(
            s, u, expect_id(customer_id, "Customer", "customerId"), changes.data(), reason))

    @strawberry.mutation(description="R-CUST-8: consent to (apply) or refuse a correction "
                         "request; a comment is required to refuse.")
    def decide_customer_correction(self, info: Info, request_id: strawberry.ID, approve: bool,
                                   comment: str | None = None,
                                   *, expected_version: int
                                   ) -> Payload[CorrectionRequestNode]:
        return run(info, CorrectionRequestNode, lambda s, u: svc.decide_correction(
            s, u, expect_id(request_id, "CorrectionRequest", "requestId"), approve, comment,
            expected_version))
