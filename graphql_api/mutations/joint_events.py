"""Joint events (联合活动, R-CUST-10): the same service verbs as the portal's pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.joint_events import (
    JointAttendanceInfo,
    JointEventInfo,
    JointEventSession,
    JointInvitationLine,
    JointRulingInfo,
    attendance_info,
    event_info,
    ruling_info,
)
from graphql_api.joint_events import (
    lines as line_infos,
)
from graphql_api.mutations.common import Payload, refused
from graphql_api.permissions import ShownError
from portal.services import joint_events as je
from portal.services.errors import DomainError

T = TypeVar("T")


@strawberry.input(description="One customer of the list: customerId (picked from your "
                  "department's archives) or lookup (another department's customer by exact "
                  "full name or phone); confirmedById: who confirmed them (default: the "
                  "archive's owner when in your department, else you).")
class JointListLineInput:
    customer_id: strawberry.ID | None = None
    lookup: str | None = None
    confirmed_by_id: strawberry.ID | None = None


@strawberry.type(description="What a submission did: the list day it counted for and each "
                 "new line's outcome (refused/lost lines say which department and when).")
class JointListSubmission:
    list_day: dt.date
    lines: list[JointInvitationLine]
    already_listed: list[strawberry.ID]


def _answer(info: Info, call: Callable[[Any, Any], Any],
            convert: Callable[[Any, Any], T]) -> Payload[T]:
    ctx = info.context
    try:
        obj = call(ctx.session, ctx.user)
    except (DomainError, ShownError) as exc:
        return refused(ctx, exc)
    return Payload(ok=True, errors=[], result=convert(ctx.user, obj))


def _ev(event_id: strawberry.ID) -> int:
    return expect_id(event_id, "JointEvent", "eventId")


def _cust(customer_id: strawberry.ID | None, name: str = "customerId") -> int:
    return expect_id(customer_id, "Customer", name)


@strawberry.type
class JointEventMutations:
    @strawberry.mutation(description="R-CUST-10: create a joint event (at least two "
                         "departments); their heads are told to submit lists. Needs "
                         "joint_event.add.")
    def create_joint_event(self, info: Info, name: str, event_date: dt.date,
                           session: JointEventSession,  # type: ignore[valid-type]
                           venue: str, department_ids: list[strawberry.ID],
                           coordinator_id: strawberry.ID | None = None
                           ) -> Payload[JointEventInfo]:
        return _answer(info, lambda s, u: je.create_event(
            s, u, name=name, event_date=event_date, session_kind=str(getattr(session, "value", session)), venue=venue,
            department_ids=[expect_id(d, "Department", "departmentIds") for d in department_ids],
            coordinator_id=expect_id(coordinator_id, "User", "coordinatorId")
            if coordinator_id else None), event_info)

    @strawberry.mutation(description="R-CUST-10: submit (add to) your department's "
                         "confirmed-invitation list; the cut-off decides the list day; a "
                         "customer another department confirmed first is refused or lost.")
    def submit_joint_event_list(self, info: Info, event_id: strawberry.ID,
                                lines: list[JointListLineInput]
                                ) -> Payload[JointListSubmission]:
        def call(s: Any, u: Any) -> Any:
            raw = [{"customer_id": _cust(x.customer_id) if x.customer_id else None,
                    "lookup": x.lookup,
                    "confirmed_by_id": expect_id(x.confirmed_by_id, "User", "confirmedById")
                    if x.confirmed_by_id else None} for x in lines]
            return je.submit_list(s, u, _ev(event_id), raw)

        return _answer(info, call, lambda u, r: JointListSubmission(
            list_day=r.list_day, lines=line_infos(u, r.lines),
            already_listed=[strawberry.ID(f"Customer:{c}") for c in r.already_listed]))

    @strawberry.mutation(description="R-CUST-10: the coordinator (or, once escalated, the "
                         "general manager) gives a contested customer to one department, with a "
                         "reason. Final and audited. expectedVersion: the ruling's version "
                         "when it was escalated, 0 for a conflict without a ruling yet.")
    def rule_joint_event_conflict(self, info: Info, event_id: strawberry.ID,
                                  customer_id: strawberry.ID,
                                  winner_department_id: strawberry.ID, reason: str,
                                  expected_version: int) -> Payload[JointRulingInfo]:
        return _answer(info, lambda s, u: je.rule_conflict(
            s, u, _ev(event_id), _cust(customer_id),
            expect_id(winner_department_id, "Department", "winnerDepartmentId"), reason,
            expected_version), lambda _u, r: ruling_info(r))

    @strawberry.mutation(description="R-CUST-10: escalate a conflict the coordinator cannot "
                         "decide to the general manager (their 待办).")
    def escalate_joint_event_conflict(self, info: Info, event_id: strawberry.ID,
                                      customer_id: strawberry.ID, reason: str
                                      ) -> Payload[JointRulingInfo]:
        return _answer(info, lambda s, u: je.escalate_conflict(
            s, u, _ev(event_id), _cust(customer_id), reason), lambda _u, r: ruling_info(r))

    @strawberry.mutation(description="R-CUST-10: record whether a confirmed customer attended "
                         "and what they bought; credited to the confirming department and "
                         "person. The coordinator's.")
    def record_joint_event_attendance(self, info: Info, event_id: strawberry.ID,
                                      customer_id: strawberry.ID, attended: bool,
                                      amount: Decimal | None = None
                                      ) -> Payload[JointAttendanceInfo]:
        return _answer(info, lambda s, u: je.record_attendance(
            s, u, _ev(event_id), _cust(customer_id), attended, amount),
            lambda _u, a: attendance_info(a))
