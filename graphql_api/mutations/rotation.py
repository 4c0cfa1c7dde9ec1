"""The day's rotation (R-RECV-1): marking a salesperson out / back (graphql_api/rotation.py has
the query and the type; the mutation lives here so that importing the query never imports the
mutation package, which imports this module — a cycle)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, user_error
from graphql_api.rotation import RotationPlace, places_of
from portal.services import reception
from portal.services.errors import DomainError


@strawberry.type
class RotationMutations:
    @strawberry.mutation(description="R-RECV-1: mark a salesperson out of (or back in) today's "
                                     "rotation; approvedGoOut registers an approved go-out "
                                     "(the supervisor), which earns the missed turns back.")
    def set_rotation_availability(self, info: Info, branch_id: strawberry.ID,
                                  user_id: strawberry.ID, available: bool,
                                  approved_go_out: bool = False
                                  ) -> Payload[list[RotationPlace]]:
        ctx = info.context
        bid = expect_id(branch_id, "Branch", "branchId")
        try:
            reception.set_availability(ctx.session, ctx.user, bid,
                                       expect_id(user_id, "User", "userId"), available,
                                       approved_go_out=approved_go_out)
            places = places_of(ctx.session, ctx.user, bid)
        except DomainError as exc:
            ctx.session.rollback()
            return Payload(ok=False, errors=[user_error(exc)], result=None)
        return Payload(ok=True, errors=[], result=places)
