"""Joint events (联合活动, R-CUST-10) through GraphQL: the same services as the portal's pages
(``portal.services.joint_events``). A department reads its own lists and the *fact* of a
conflict (``conflictMessage``); the board with every list is the coordinator's."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import strawberry
from flask_babel import gettext
from sqlalchemy.orm import object_session
from strawberry.types import Info

from graphql_api.ids import expect_id, to_global
from graphql_api.types.reports import shown
from models import enums as me
from models.joint_event import JointAttendance, JointEvent, JointInvitation, JointRuling
from portal import policy
from portal.services import joint_events as je
from portal.services.errors import DomainError

JointEventSession = strawberry.enum(me.EventSession, name="JointEventSession",
                                    description="下午场 AFTERNOON / 晚场 EVENING.")
JointInvitationStatus = strawberry.enum(
    me.InvitationStatus, name="JointInvitationStatus",
    description="CONFIRMED; REFUSED (another department confirmed the customer first, same "
                "list day); LOST (another department's list counted for an earlier day); "
                "RULED (the ruling gave the customer to another department).")
JointRulingStatus = strawberry.enum(me.RulingStatus, name="JointRulingStatus")


@strawberry.type(description="A department taking part in a joint event.")
class JointDepartment:
    id: strawberry.ID
    name: str


@strawberry.type(description="A joint marketing event (联谊会/会议营销).")
class JointEventInfo:
    id: strawberry.ID
    name: str
    event_date: dt.date
    session: JointEventSession  # type: ignore[valid-type]
    venue: str
    departments: list[JointDepartment]
    coordinator_name: str | None
    list_day_now: dt.date | None = strawberry.field(
        description="The list day a submission made now counts for; null: the lists are "
                    "closed.")
    may_submit: bool
    may_coordinate: bool


@strawberry.type(description="One customer on a department's confirmed-invitation list.")
class JointInvitationLine:
    id: strawberry.ID
    customer_id: strawberry.ID
    customer_name: str
    department: JointDepartment
    confirmed_by_name: str
    list_day: dt.date
    submitted_at: dt.datetime
    status: JointInvitationStatus  # type: ignore[valid-type]
    conflict_message: str | None = strawberry.field(
        description="For a refused or lost line: which department confirmed the customer "
                    "and when (the person only if you may see the archive).")


@strawberry.type(description="A ruling on a conflict, or its escalation to the general "
                 "manager. A decided ruling is final.")
class JointRulingInfo:
    id: strawberry.ID
    status: JointRulingStatus  # type: ignore[valid-type]
    winner_department: JointDepartment | None
    reason: str | None
    decided_by_name: str | None
    decided_at: dt.datetime | None
    escalated_to_gm: bool
    escalation_reason: str | None
    version: int


@strawberry.type(description="One customer on more than one department's list.")
class JointConflict:
    customer_id: strawberry.ID
    customer_name: str
    open: bool = strawberry.field(description="Waits for a ruling.")
    escalated: bool
    lines: list[JointInvitationLine]
    ruling: JointRulingInfo | None


@strawberry.type
class JointDepartmentList:
    department: JointDepartment
    lines: list[JointInvitationLine]


@strawberry.type(description="The coordinator's board: every list side by side, the conflicts.")
class JointEventBoard:
    event: JointEventInfo
    lists: list[JointDepartmentList]
    conflicts: list[JointConflict]


@strawberry.type(description="Invitations (confirmed lines), attendance and sales of one "
                 "department at the event.")
class JointEventReportRow:
    department: JointDepartment
    invited: int
    attended: int
    sales: Decimal


@strawberry.type(description="Attendance and sales of a customer, credited to the department "
                 "and person that confirmed the customer.")
class JointAttendanceInfo:
    id: strawberry.ID
    customer_id: strawberry.ID
    attended: bool
    amount: Decimal
    department: JointDepartment
    credited_to_name: str


def department(d: Any) -> JointDepartment:
    return JointDepartment(id=strawberry.ID(to_global("Department", d.id)), name=d.name)


def event_info(user: Any, e: JointEvent) -> JointEventInfo:
    return JointEventInfo(
        id=strawberry.ID(to_global("JointEvent", e.id)), name=e.name, event_date=e.event_date,
        session=me.EventSession(e.session), venue=e.venue,
        departments=[department(d) for d in e.departments],
        coordinator_name=e.coordinator.full_name if e.coordinator else None,
        list_day_now=je.submit_moment_day(e),
        may_submit=policy.can(user, "joint_event.submit", e)
        and user.department_id in e.department_ids,
        may_coordinate=policy.can(user, "joint_event.coordinate", e))


def lines(user: Any, entries: list[JointInvitation],
          found: dict[int, tuple[str, dict[str, Any]]] | None = None
          ) -> list[JointInvitationLine]:
    """The lines with their conflict messages (one query for all of them, or ``found``)."""
    if not entries:
        return []
    if found is None:
        session = object_session(entries[0])
        found = je.conflict_messages(session, user, entries) if session is not None else {}
    return [line(e, found.get(e.id)) for e in entries]


def line(entry: JointInvitation, found: tuple[str, dict[str, Any]] | None
         ) -> JointInvitationLine:
    message = None
    if found:
        message = gettext(found[0], **found[1]) if found[1] else gettext(found[0])
    return JointInvitationLine(
        id=strawberry.ID(to_global("JointInvitation", entry.id)),
        customer_id=strawberry.ID(to_global("Customer", entry.customer_id)),
        customer_name=entry.customer.name, department=department(entry.department),
        confirmed_by_name=entry.confirmed_by.full_name, list_day=entry.list_day,
        submitted_at=entry.submitted_at, status=me.InvitationStatus(entry.status),
        conflict_message=message)


def ruling_info(r: JointRuling) -> JointRulingInfo:
    return JointRulingInfo(
        id=strawberry.ID(to_global("JointRuling", r.id)), status=me.RulingStatus(r.status),
        winner_department=department(r.winner_department) if r.winner_department else None,
        reason=r.reason, decided_by_name=r.decided_by.full_name if r.decided_by else None,
        decided_at=r.decided_at, escalated_to_gm=r.escalated_to_gm,
        escalation_reason=r.escalation_reason, version=r.version)


def attendance_info(a: JointAttendance) -> JointAttendanceInfo:
    return JointAttendanceInfo(
        id=strawberry.ID(to_global("JointAttendance", a.id)),
        customer_id=strawberry.ID(to_global("Customer", a.customer_id)), attended=a.attended,
        amount=a.amount, department=department(a.department),
        credited_to_name=a.credited_user.full_name)


def board_info(user: Any, board: je.Board) -> JointEventBoard:
    every = [e for rows in board.lists.values() for e in rows]
    session = object_session(board.event)
    found = je.conflict_messages(session, user, every) if session is not None and every else {}
    return JointEventBoard(
        event=event_info(user, board.event),
        lists=[JointDepartmentList(department=department(d),
                                   lines=lines(user, rows, found))
               for d, rows in board.lists.items()],
        conflicts=[JointConflict(
            customer_id=strawberry.ID(to_global("Customer", c.customer.id)),
            customer_name=c.customer.name, open=c.is_open, escalated=c.is_escalated,
            lines=lines(user, c.entries, found),
            ruling=ruling_info(c.ruling) if c.ruling else None) for c in board.conflicts])


def _event_id(event_id: strawberry.ID) -> int:
    return expect_id(event_id, "JointEvent", "eventId")


@strawberry.type
class JointEventQueries:
    @strawberry.field(description="R-CUST-10: the joint events you may see (your department "
                      "takes part, you coordinate, or all). Needs joint_event.view.")
    def joint_events(self, info: Info) -> list[JointEventInfo]:
        ctx = info.context
        return [event_info(ctx.user, e) for e in je.visible_events(ctx.session, ctx.user)]

    @strawberry.field(description="R-CUST-10: your department's confirmed-invitation lists "
                      "for the event (never another department's), each line with the fact of "
                      "a conflict.")
    def joint_event_lists(self, info: Info, event_id: strawberry.ID
                          ) -> list[JointInvitationLine]:
        ctx = info.context
        try:
            event = _load(ctx, _event_id(event_id))
        except DomainError as exc:
            raise shown(exc) from None
        return lines(ctx.user, je.my_entries(ctx.session, ctx.user, event))

    @strawberry.field(description="R-CUST-10: the coordinator's board (协调助理 of the event, "
                      "or joint_event.coordinate on all events): every list and the conflicts.")
    def joint_event_board(self, info: Info, event_id: strawberry.ID) -> JointEventBoard:
        ctx = info.context
        try:
            board = je.board(ctx.session, ctx.user, _event_id(event_id))
        except DomainError as exc:
            raise shown(exc) from None
        return board_info(ctx.user, board)

    @strawberry.field(description="R-CUST-10: invitations, attendance and sales per department "
                      "(your own department's row, or every row for the coordinator).")
    def joint_event_report(self, info: Info, event_id: strawberry.ID
                           ) -> list[JointEventReportRow]:
        ctx = info.context
        try:
            rows = je.report(ctx.session, ctx.user, _event_id(event_id))
        except DomainError as exc:
            raise shown(exc) from None
        return [JointEventReportRow(department=department(r.department), invited=r.invited,
                                    attended=r.attended, sales=r.sales) for r in rows]


def _load(ctx: Any, pk: int) -> JointEvent:
    from portal.services.unit import load

    return load(ctx.session, ctx.user, JointEvent, pk, "joint_event.view")
