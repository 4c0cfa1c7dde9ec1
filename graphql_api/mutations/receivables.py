"""Mutations of the monthly credit summary (R-CRED-10) and penalty notices (R-COMP-11):
the same service verbs as the portal's pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import UserError, user_error
from graphql_api.receivables import SummaryApproval
from portal.services import penalties
from portal.services import receivables as rc
from portal.services.errors import DomainError


@strawberry.type
class SummaryPayload:
    ok: bool
    errors: list[UserError]
    result: SummaryApproval | None


@strawberry.type
class PenaltyPayload:
    ok: bool
    errors: list[UserError]
    result: str | None = strawberry.field(
        description="The notice's status now: confirmed | waived.")


def _write(info: Info, call: Callable[[Any, Any], Any]) -> Any:
    ctx = info.context
    try:
        return call(ctx.session, ctx.user), None
    except DomainError as exc:
        return None, user_error(exc)


@strawberry.type
class ReceivablesMutations:
    @strawberry.mutation(description="Finance submits the month's summary to the general "
                                     "manager's 待办 (again before approval: refreshed).")
    def submit_credit_summary(self, info: Info, month: str) -> SummaryPayload:
        obj, err = _write(info, lambda s, u: rc.submit_summary(s, u, month))
        return SummaryPayload(ok=err is None, errors=[err] if err else [],
                              result=SummaryApproval.of(obj) if obj else None)

    @strawberry.mutation(description="The general manager approves the submitted summary with "
                                     "a comment (required).")
    def approve_credit_summary(self, info: Info, month: str, comment: str,
                               *, expected_version: int) -> SummaryPayload:
        obj, err = _write(info, lambda s, u: rc.approve_summary(
            s, u, month, comment, expected_version=expected_version))
        return SummaryPayload(ok=err is None, errors=[err] if err else [],
                              result=SummaryApproval.of(obj) if obj else None)

    @strawberry.mutation(description="The general manager confirms a drafted penalty notice.")
    def confirm_penalty(self, info: Info, notice_id: strawberry.ID,
                        *, expected_version: int) -> PenaltyPayload:
        obj, err = _write(info, lambda s, u: penalties.confirm_penalty(
            s, u, expect_id(notice_id, "PenaltyNotice", "noticeId"),
            expected_version=expected_version))
        return PenaltyPayload(ok=err is None, errors=[err] if err else [],
                              result=obj.status if obj else None)

    @strawberry.mutation(description="The general manager waives a drafted penalty notice with "
                                     "a reason.")
    def waive_penalty(self, info: Info, notice_id: strawberry.ID, reason: str,
                      *, expected_version: int) -> PenaltyPayload:
        obj, err = _write(info, lambda s, u: penalties.waive_penalty(
            s, u, expect_id(notice_id, "PenaltyNotice", "noticeId"), reason,
            expected_version=expected_version))
        return PenaltyPayload(ok=err is None, errors=[err] if err else [],
                              result=obj.status if obj else None)
