"""The departments' confirmed-invitation lists (邀约敲定名单, R-CUST-10).

A department head submits the department's list — customers picked from the department's
archives, or another department's customer named by exact full name or phone (joint use of
customer resources) — and each customer on it is checked against the other departments' lists
at once:

- nobody else confirmed the customer: confirmed for this department;
- another department confirmed the customer for the same list day: refused (a conflict the
  coordinator may rule on) — the message names the other department and when;
- another department's list counted for an earlier day (this one is late): lost.

A department sees its own list and the *fact* of a conflict (which department, when; the
confirming person only when the reader may see the archive), never the other department's
list: that is the coordinator's board."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import Customer
from models.enums import InvitationStatus
from models.joint_event import JointEvent, JointInvitation
from models.org import User
from portal import audit, clock, policy
from portal.services import notifications
from portal.services.errors import N_, RuleViolation, ValidationFailed
from portal.services.joint_events._common import coordinators, entries_of, grant_then_load
from portal.services.joint_events.cutoff import list_day_for
from portal.services.reception_lookup import _asked
from portal.services.unit import verb

S = InvitationStatus
MAX_LINES = 500


@dataclass
class Submission:
    """What a submission did: the list day it counted for and each line's outcome."""

    event: JointEvent
    list_day: date
    lines: list[JointInvitation] = field(default_factory=list)
    already_listed: list[int] = field(default_factory=list)  # customer ids, nothing changed


def _lines(session: Session, raw: Iterable[Any]) -> tuple[list[tuple[int, int | None]], set[int]]:
    """(customer id, confirming person id or None) from ids or {customer_id | lookup,
    confirmed_by_id}; and the ids that were found by exact lookup (not picked from scope)."""
    out: dict[int, int | None] = {}
    looked_up: set[int] = set()
    for item in raw:
        if isinstance(item, Mapping):
            cust, person = item.get("customer_id"), item.get("confirmed_by_id")
            if cust in (None, "") and item.get("lookup"):
                cust = _lookup(session, str(item["lookup"]))
                looked_up.add(cust)
        else:
            cust, person = item, None
        if not str(cust).strip().isdigit():
            raise ValidationFailed(N_("Pick the customers from the list."), field="customers")
        who = int(str(person)) if person not in (None, "") and str(person).isdigit() else None
        if person not in (None, "") and who is None:
            raise ValidationFailed(N_("Pick the confirming person from the list."),
                                   field="confirmed_by")
        out[int(str(cust))] = who
    if not out:
        raise ValidationFailed(N_("Pick at least one customer."), field="customers")
    if len(out) > MAX_LINES:
        raise ValidationFailed(N_("At most %(max)s customers per submission."),
                               field="customers", max=MAX_LINES)
    return list(out.items()), looked_up


def _lookup(session: Session, typed: str) -> int:
    """A customer another department's archive holds, named by the exact full name or phone
    (the answer reveals nothing the user could not type: which archive is not shown)."""
    kind, key = _asked(typed.strip()[:100])
    if not key:
        raise ValidationFailed(N_("Type the customer's exact full name or phone number."),
                               field="lookup")
    column = Customer.phone_normalized if kind == "phone" else Customer.name_normalized
    ids = list(session.scalars(select(Customer.id).where(column == key).limit(2)))
    if not ids:
        raise ValidationFailed(N_("No archive has exactly this full name or phone number."),
                               field="lookup")
    if len(ids) > 1:
        raise ValidationFailed(N_("Several archives have this name: type the phone number."),
                               field="lookup")
    return ids[0]


def submit_moment_day(event: JointEvent) -> date | None:
    """The list day a submission made now counts for (None: the lists are closed)."""
    return list_day_for(clock.now(), event.event_date, event.session)


@verb
def submit_list(session: Session, actor: User, event_id: Any, lines: Iterable[Any]
                ) -> Submission:
    """Submit (add to) the actor's department's confirmed-invitation list for the event."""
    event = grant_then_load(session, actor, event_id, "joint_event.submit")
    department_id = actor.department_id
    if department_id is None or department_id not in event.department_ids:
        raise RuleViolation(N_("Your department does not take part in this event."),
                            rule="R-CUST-10", audit_action="joint_event.submit",
                            audit_target=event)
    picked, looked_up = _lines(session, lines)
    day = submit_moment_day(event)
    if day is None:
        raise RuleViolation(N_("The lists of this event are closed (the cut-off of the event "
                               "day has passed)."), rule="R-CUST-10",
                            audit_action="joint_event.submit", audit_target=event)
    scope = policy.scope(select(Customer), actor, Customer, "customer.view")
    found = {c.id: c for c in session.scalars(scope.where(
        Customer.id.in_([cid for cid, _ in picked if cid not in looked_up])))}
    found.update({c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_(looked_up)))})
    if len(found) != len(picked):
        raise ValidationFailed(N_("Pick customers of your department only."),
                               field="customers")
    people = _confirmers(session, department_id,
                         {p for _, p in picked if p} | {c.owner_id for c in found.values()
                                                         if c.owner_id})
    for _cid, person in picked:
        if person is not None and person not in people:
            raise ValidationFailed(N_("The confirming person must be an active member of your "
                                      "department."), field="confirmed_by")
    now = clock.now()
    result = Submission(event=event, list_day=day)
    existing = entries_of(session, event.id)
    for cid, person in picked:
        mine = [e for e in existing if e.customer_id == cid and e.department_id == department_id]
        if mine:
            result.already_listed.append(cid)
            continue
        holder = next((e for e in existing if e.customer_id == cid
                       and e.status == S.CONFIRMED.value), None)
        owner = found[cid].owner_id
        entry = JointInvitation(
            event_id=event.id, department_id=department_id, customer_id=cid,
            confirmed_by_id=person or (owner if owner in people else actor.id),
            submitted_by_id=actor.id, submitted_at=now, list_day=day,
            status=S.CONFIRMED.value)
        if holder is not None:
            entry.status = (S.LOST if holder.list_day < day else S.REFUSED).value
            entry.conflict_department_id = holder.department_id
            entry.conflict_at = holder.submitted_at
        session.add(entry)
        result.lines.append(entry)
    session.flush()
    audit.record(session, actor, "joint_event.submit", event, after={
        "department": department_id, "list_day": day.isoformat(),
        **{status.value: [e.customer_id for e in result.lines if e.status == status.value]
           for status in (S.CONFIRMED, S.REFUSED, S.LOST)}})
    conflicts = [e for e in result.lines if e.status == S.REFUSED.value]
    for entry in conflicts:
        notifications.notify(
            session, user_ids=coordinators(session, event), kind="joint_event.conflict",
            message=N_("Two departments confirmed the same customer for joint event "
                       "%(event)s: rule on the conflict."),
            params={"event": event.name}, target=event,
            dedupe_key=f"joint_event.conflict:{event.id}:{entry.customer_id}")
    return result


def _confirmers(session: Session, department_id: int, ids: set[int]) -> set[int]:
    """Of ``ids``, the active users of the department (who may be credited)."""
    if not ids:
        return set()
    return set(session.scalars(select(User.id).where(
        User.id.in_(ids), User.department_id == department_id, User.is_active.is_(True))))


def my_entries(session: Session, actor: User, event: JointEvent) -> list[JointInvitation]:
    """The lines of the event the user may see (their department's, or those they submitted
    or confirmed), through the policy scope."""
    stmt = policy.scope(select(JointInvitation), actor, JointInvitation, "joint_event.view")
    return list(session.scalars(stmt.where(JointInvitation.event_id == event.id)
                                .order_by(JointInvitation.list_day, JointInvitation.id)))


def conflict_messages(session: Session, actor: Any, entries: list[JointInvitation]
                      ) -> dict[int, tuple[str, dict[str, Any]]]:
    """``conflict_message`` of many lines, with one query for the other departments' lines."""
    holders: dict[tuple[int, int, int], JointInvitation] = {}
    for event_id in sorted({e.event_id for e in entries
                            if e.status in (S.REFUSED.value, S.LOST.value)}):
        for other in entries_of(session, event_id):
            holders.setdefault((other.event_id, other.customer_id, other.department_id), other)
    out = {}
    for entry in entries:
        holder = holders.get((entry.event_id, entry.customer_id,
                              entry.conflict_department_id or 0))
        found = _message(actor, entry, holder)
        if found:
            out[entry.id] = found
    return out


def conflict_message(actor: Any, entry: JointInvitation) -> tuple[str, dict[str, Any]] | None:
    """What a department sees of a conflict: the other department and when it confirmed the
    customer; the confirming person only when the reader may see the archive (the policy)."""
    from sqlalchemy.orm import object_session

    session = object_session(entry)
    if session is None:
        return _message(actor, entry, None)
    return conflict_messages(session, actor, [entry]).get(entry.id)


def _message(actor: Any, entry: JointInvitation, holder: JointInvitation | None
             ) -> tuple[str, dict[str, Any]] | None:
    if entry.status == S.CONFIRMED.value or entry.conflict_department is None:
        if entry.status == S.RULED.value:
            return N_("The coordinator's ruling gave this customer to another department."), {}
        return None
    when = entry.conflict_at.astimezone(clock.COMPANY_TZ).strftime("%Y-%m-%d %H:%M") \
        if entry.conflict_at else ""
    params: dict[str, Any] = {"department": entry.conflict_department.name, "when": when}
    if holder is not None and policy.can(actor, "customer.view", entry.customer):
        params["person"] = holder.confirmed_by.full_name
        return (N_("Already confirmed by %(department)s (%(person)s) at %(when)s."), params)
    return (N_("Already confirmed by %(department)s at %(when)s."), params)
