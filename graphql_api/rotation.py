"""The day's rotation (轮流接待, R-RECV-1) through GraphQL: the queue the front desk sees and
marking a salesperson out / back, with an approved go-out (外出申请) registered by the
supervisor (portal/services/reception.py)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id, to_global
from graphql_api.types.reports import shown
from portal.services import reception
from portal.services.errors import DomainError


@strawberry.type(description="A place in today's rotation, in serving order.")
class RotationPlace:
    user_id: strawberry.ID
    name: str
    available: bool = strawberry.field(description="In today (not out).")
    busy: bool = strawberry.field(description="Receiving a visitor now: skipped automatically.")
    approved_go_out: bool = strawberry.field(
        description="Out on an approved go-out (外出申请): missed turns are owed back.")
    turns_taken: int
    owed_turns: int

    @classmethod
    def of(cls, p: reception.RotationPlace) -> RotationPlace:
        return cls(user_id=strawberry.ID(to_global("User", p.user_id)), name=p.name,
                   available=p.available, busy=p.busy, approved_go_out=p.approved_go_out,
                   turns_taken=p.turns_taken, owed_turns=p.owed_turns)


def places_of(session: Any, user: Any, branch: int) -> list[RotationPlace]:
    return [RotationPlace.of(p) for p in reception.rotation_today(session, user, branch)]


@strawberry.type
class RotationQueries:
    @strawberry.field(description="R-RECV-1: today's rotation of a branch, who is next first. "
                                  "Needs reception.manage_rotation on the branch.")
    def rotation_today(self, info: Info, branch_id: strawberry.ID) -> list[RotationPlace]:
        ctx = info.context
        try:
            return places_of(ctx.session, ctx.user, expect_id(branch_id, "Branch", "branchId"))
        except DomainError as exc:
            ctx.session.rollback()
            raise shown(exc) from None
