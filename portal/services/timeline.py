"""Timelines (issue 14, part 6): who did what when, with their comments, for the records that
go through an approval — complaints (R-COMP-6), credit lines (R-CRED-5) and copy requests
(R-FILE-3). Both doors show the same list: the portal's details and decision pages, and the
``timeline`` field in GraphQL (``graphql_api/types/timeline.py``). The caller has already
loaded the record through the policy."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Complaint, ComplaintEvent, CopyRequest, CreditApproval, CreditLine, User


@dataclass(frozen=True)
class TimelineEvent:
    """One step: ``kind`` is the record kind, ``step`` the state it reached (complaint
    status, credit approval step, copy request status)."""

    at: datetime
    kind: str
    step: str
    actor: User | None
    note: str | None


def complaint_events(session: Session, complaint: Complaint) -> list[TimelineEvent]:
    rows = session.scalars(select(ComplaintEvent).options(selectinload(ComplaintEvent.actor))
                           .where(ComplaintEvent.complaint_id == complaint.id)
                           .order_by(ComplaintEvent.at, ComplaintEvent.id))
    return [TimelineEvent(e.at, "complaint", e.to_status, e.actor, e.note) for e in rows]


def credit_line_events(session: Session, line: CreditLine) -> list[TimelineEvent]:
    rows = session.scalars(select(CreditApproval).options(selectinload(CreditApproval.actor))
                           .where(CreditApproval.credit_line_id == line.id)
                           .order_by(CreditApproval.at, CreditApproval.id))
    return [TimelineEvent(a.at, "credit_line", a.step, a.actor, a.note) for a in rows]


def copy_request_events(session: Session, request: CopyRequest) -> list[TimelineEvent]:
    """A copy request keeps its steps on the row: requested, decided, collected."""
    events = [TimelineEvent(request.requested_at, "copy_request", "pending",
                            request.requested_by, request.reason)]
    if request.decided_at is not None:
        step = "rejected" if request.status == "rejected" else "approved"
        events.append(TimelineEvent(request.decided_at, "copy_request", step,
                                    request.decided_by, None))
    if request.used_at is not None:
        events.append(TimelineEvent(request.used_at, "copy_request", "used",
                                    request.requested_by, None))
    return events


# The records that have a timeline.
KINDS = (Complaint, CreditLine, CopyRequest)


def events_of(session: Session, record: object) -> list[TimelineEvent]:
    if isinstance(record, Complaint):
        return complaint_events(session, record)
    if isinstance(record, CreditLine):
        return credit_line_events(session, record)
    if isinstance(record, CopyRequest):
        return copy_request_events(session, record)
    raise TypeError(f"no timeline for {type(record).__name__}")


def events_of_many(session: Session, kind: type, ids: Iterable[int]) -> dict[int, list[TimelineEvent]]:
    """The timelines of many records of one kind at once (record id → its events), in two
    statements whatever their number: the events (or the rows) and their actors. For a page of
    an API list; the caller has already loaded the records through the policy."""
    wanted = sorted(set(ids))
    out: dict[int, list[TimelineEvent]] = {i: [] for i in wanted}
    if not wanted:
        return out
    if kind is Complaint:
        for e in session.scalars(select(ComplaintEvent)
                                 .options(selectinload(ComplaintEvent.actor))
                                 .where(ComplaintEvent.complaint_id.in_(wanted))
                                 .order_by(ComplaintEvent.at, ComplaintEvent.id)):
            out[e.complaint_id].append(
                TimelineEvent(e.at, "complaint", e.to_status, e.actor, e.note))
    elif kind is CreditLine:
        for a in session.scalars(select(CreditApproval)
                                 .options(selectinload(CreditApproval.actor))
                                 .where(CreditApproval.credit_line_id.in_(wanted))
                                 .order_by(CreditApproval.at, CreditApproval.id)):
            out[a.credit_line_id].append(
                TimelineEvent(a.at, "credit_line", a.step, a.actor, a.note))
    elif kind is CopyRequest:
        for r in session.scalars(select(CopyRequest)
                                 .options(selectinload(CopyRequest.requested_by),
                                          selectinload(CopyRequest.decided_by))
                                 .where(CopyRequest.id.in_(wanted))):
            out[r.id] = copy_request_events(session, r)
    else:
        raise TypeError(f"no timeline for {kind.__name__}")
    return out
