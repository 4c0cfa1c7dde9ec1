"""The coordinator's board (协调助理, R-CUST-10): all departments' lists side by side, the
conflicts (one customer on two departments' lists), a ruling with a recorded reason — final and
audited — or an escalation to the general manager, who then decides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import Customer
from models.enums import InvitationStatus, RulingStatus
from models.joint_event import JointEvent, JointInvitation, JointRuling
from models.org import Department, User
from portal import audit, clock, policy
from portal.services import notifications
from portal.services.errors import (
    N_,
    Conflict,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from portal.services.joint_events._common import entries_of, grant_then_load, text
from portal.services.unit import MISSING_VERSION, NO_VERSION, check_version, verb

S = InvitationStatus


@dataclass
class ConflictRow:
    """One customer confirmed by more than one department."""

    customer: Customer
    entries: list[JointInvitation]
    ruling: JointRuling | None

    @property
    def is_decided(self) -> bool:
        """The coordinator (or the general manager) has ruled on it: final."""
        return self.ruling is not None and self.ruling.status == RulingStatus.DECIDED.value

    @property
    def is_open(self) -> bool:
        """Waiting for a ruling: a same-day refusal nobody has ruled on yet."""
        decided = self.ruling is not None and self.ruling.status == RulingStatus.DECIDED.value
        return not decided and any(e.status == S.REFUSED.value for e in self.entries)

    @property
    def is_escalated(self) -> bool:
        return self.ruling is not None and self.ruling.status == RulingStatus.ESCALATED.value


@dataclass
class Board:
    event: JointEvent
    lists: dict[Department, list[JointInvitation]] = field(default_factory=dict)
    conflicts: list[ConflictRow] = field(default_factory=list)

    @property
    def open_conflicts(self) -> list[ConflictRow]:
        return [c for c in self.conflicts if c.is_open]


def board(session: Session, actor: User, event_id: Any) -> Board:
    """All lists of the event side by side, with the conflicts (the coordinator only)."""
    event = grant_then_load(session, actor, event_id, "joint_event.coordinate")
    entries = entries_of(session, event.id)
    rulings = {r.customer_id: r for r in session.scalars(
        select(JointRuling).where(JointRuling.event_id == event.id))}
    result = Board(event=event, lists={d: [] for d in event.departments})
    by_customer: dict[int, list[JointInvitation]] = {}
    for entry in entries:
        result.lists.setdefault(entry.department, []).append(entry)
        by_customer.setdefault(entry.customer_id, []).append(entry)
    for cid, rows in by_customer.items():
        if len({e.department_id for e in rows}) > 1:
            result.conflicts.append(ConflictRow(rows[0].customer, rows, rulings.get(cid)))
    result.conflicts.sort(key=lambda c: (not c.is_open, c.customer.name))
    return result


def confirmed_lines(session: Session, actor: User, event_id: Any) -> list[Any]:
    """The confirmed lines of the event's lists (whose attendance is recorded), from
    ``board``: a door does not compare a status itself (issue 13)."""
    return [line for lines in board(session, actor, event_id).lists.values()
            for line in lines if line.status == S.CONFIRMED.value]


def _conflict(session: Session, event: JointEvent, customer_id: Any, action: str
              ) -> tuple[list[JointInvitation], JointRuling | None]:
    try:
        cid = int(customer_id)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("There is no conflict over this customer."),
                               field="customer") from None
    entries = entries_of(session, event.id, cid)
    if len({e.department_id for e in entries}) < 2:
        raise ValidationFailed(N_("There is no conflict over this customer."), field="customer")
    ruling = session.scalar(select(JointRuling).where(JointRuling.event_id == event.id,
                                                      JointRuling.customer_id == cid))
    if ruling is not None and ruling.status == RulingStatus.DECIDED.value:
        raise RuleViolation(N_("This conflict was ruled on; the ruling is final."),
                            rule="R-CUST-10", audit_action=action, audit_target=ruling)
    return entries, ruling


NO_RULING_SEEN = 0  # the version a client sends for a conflict that has no ruling yet


@verb
def rule_conflict(session: Session, actor: User, event_id: Any, customer_id: Any,
                  winner_department_id: Any, reason: str,
                  expected_version: int | None = None) -> JointRuling:
    """The coordinator (or, once escalated, the general manager) gives the customer to one
    department, with a reason; the other departments' lines become 'ruled'. Final."""
    event = grant_then_load(session, actor, event_id, "joint_event.coordinate")
    entries, ruling = _conflict(session, event, customer_id, "joint_event.coordinate")
    if ruling is not None:
        if not policy.can(actor, "joint_event.decide_escalated", event):
            raise PermissionDenied("joint_event.decide_escalated", ruling,
                                   N_("This conflict was escalated to the general manager, "
                                      "who decides it."))
        check_version(ruling, expected_version)
    elif expected_version is not None and int(expected_version) != NO_RULING_SEEN:
        # the person saw a ruling (or sent no version at all): not what is there now
        if int(expected_version) == NO_VERSION:
            raise ValidationFailed(MISSING_VERSION, field="version")
        raise Conflict(seen=int(expected_version), current=NO_RULING_SEEN)
    note = text(reason, "reason", required=True, limit=500)
    winner = next((e for e in entries if str(e.department_id) == str(winner_department_id)),
                  None)
    if winner is None:
        raise ValidationFailed(N_("Choose one of the departments in the conflict."),
                               field="winner_department")
    now = clock.now()
    for entry in entries:
        entry.status = S.CONFIRMED.value if entry is winner else S.RULED.value
    if ruling is None:
        ruling = JointRuling(event_id=event.id, customer_id=winner.customer_id)
        session.add(ruling)
    ruling.status = RulingStatus.DECIDED.value
    ruling.winner_department_id = winner.department_id
    ruling.reason, ruling.decided_by_id, ruling.decided_at = note, actor.id, now
    session.flush()
    audit.record(session, actor, "joint_event.rule", ruling,
                 after={"customer": winner.customer_id, "winner": winner.department_id,
                        "ruled_out": sorted(e.department_id for e in entries
                                            if e is not winner)}, detail=note)
    notifications.notify(
        session, user_ids=sorted({e.submitted_by_id for e in entries}),
        kind="joint_event.ruled",
        message=N_("A conflict over a customer at joint event %(event)s was ruled on."),
        params={"event": event.name}, target=event,
        dedupe_key=f"joint_event.ruled:{event.id}:{winner.customer_id}")
    if ruling.escalated_to_gm:  # decided: it leaves the general manager's 待办
        notifications.settle(session, kind="joint_event.escalated",
                             dedupe_key=f"joint_event.escalated:{ruling.id}", now=now)
    return ruling


@verb
def escalate_conflict(session: Session, actor: User, event_id: Any, customer_id: Any,
                      reason: str) -> JointRuling:
    """The coordinator cannot decide: the general manager finds it in their 待办."""
    event = grant_then_load(session, actor, event_id, "joint_event.coordinate")
    entries, ruling = _conflict(session, event, customer_id, "joint_event.escalate")
    if ruling is not None:
        raise Conflict(N_("This conflict is already waiting for the general manager."))
    note = text(reason, "reason", required=True, limit=500)
    deciders = [u.id for u in policy.users_with(session, "joint_event.decide_escalated", event)
                if u.id != actor.id]
    if not deciders:
        raise ValidationFailed(N_("Nobody can decide escalated conflicts: rule on it yourself."),
                               field="reason")
    ruling = JointRuling(event_id=event.id, customer_id=entries[0].customer_id,
                         status=RulingStatus.ESCALATED.value, escalated_to_gm=True,
                         escalated_by_id=actor.id, escalated_at=clock.now(),
                         escalation_reason=note)
    session.add(ruling)
    session.flush()
    audit.record(session, actor, "joint_event.escalate", ruling,
                 after={"customer": ruling.customer_id,
                        "departments": sorted({e.department_id for e in entries})},
                 detail=note)
    notifications.notify(
        session, user_ids=deciders, kind="joint_event.escalated",
        message=N_("A conflict over a customer at joint event %(event)s was escalated to you: "
                   "decide it."),
        params={"event": event.name}, target=event,
        dedupe_key=f"joint_event.escalated:{ruling.id}")
    return ruling
