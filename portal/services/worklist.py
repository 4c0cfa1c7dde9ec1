"""Work lists: what waits on a person today, for the work-first home page (both doors may read
them) and the time-driven 待办 notifications of the scheduled ``tick``.

Every list is scoped through the policy and built from the areas' own predicates
(``customers.is_void_sql``, ``complaints.overdue_clause``, ``credit.over_limit_rows``, …); this
module only combines them per person. A row carries a ``state`` code (``overdue``,
``due_today``, ``due_soon``, ``expiring``, ``expired``, ``void``, ``waiting``, ``out``, ``busy``,
``next``) that the doors turn into a coloured badge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, not_, select
from sqlalchemy.orm import Session, selectinload

from models import (
    Complaint,
    ConfidentialFile,
    CopyRequest,
    CreditLine,
    Customer,
    ReceptionRecord,
    User,
)
from models.enums import (
    ComplaintStatus,
    CopyRequestStatus,
    CreditLineStatus,
    Level,
    ReceptionKind,
)
from portal import clock, policy
from portal.services import calendar, notifications, row_states
from portal.services import complaints as complaint_svc
from portal.services import customers as customer_svc
from portal.services.errors import N_

LIMIT = 50  # rows per list on a home page
# ownership expiring "soon" (R-CUST-2) and the 待办 sent for it: the one read-side predicate
# ``row_states.ownership_expiring_sql`` (docs/read-side.md), not a copy of it here.
EXPIRING_DAYS = row_states.EXPIRING_SOON_DAYS
DUE_SOON_WINDOW = timedelta(hours=24)  # a complaint deadline within this is amber
SECRECY_SOON_DAYS = 30


# The states a work row can be in (the doors colour and word them; they never decide them).
OVERDUE, DUE_TODAY, DUE_SOON = "overdue", "due_today", "due_soon"
PLANNED = "planned"  # the agreed next follow-up date has come
NEXT, OUT, BUSY, WAITING = "next", "out", "busy", "waiting"


@dataclass
class WorkRow:
    """One thing to do: the record, when it is due, and its state."""

    record: Any
    state: str
    due: datetime | None = None
    days_overdue: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _end_of_today(now: datetime) -> datetime:
    return calendar.end_of_company_day(calendar.company_date(now))


def _days_late(due: datetime, now: datetime) -> int:
    return max(0, (calendar.company_date(now) - calendar.company_date(due)).days)


# ---------------------------------------------------------------------------------------------
# Customers (R-CUST-2, R-CUST-4)
# ---------------------------------------------------------------------------------------------


def _customer_rows(session: Session, user: User, where: Any, action: str = "customer.view"
                   ) -> list[Customer]:
    stmt = (policy.scope(select(Customer), user, Customer, action).where(where)
            .options(selectinload(Customer.follow_ups), selectinload(Customer.owner_changes))
            .order_by(Customer.id).limit(LIMIT))
    return list(session.scalars(stmt))


def follow_ups_due_sql(session: Session, now: datetime) -> Any:
    """Prospects whose follow-up falls due by the end of today (company time) and that are not
    void yet (R-CUST-4)."""
    return and_(customer_svc.is_void_sql(session, _end_of_today(now)),
                not_(customer_svc.is_void_sql(session, now)))


def my_follow_ups(session: Session, user: User, now: datetime | None = None) -> list[WorkRow]:
    """A salesperson's follow-ups: overdue first (void cards, with days overdue), then due
    today. Only their own archives."""
    now = now or clock.now()
    mine = Customer.owner_id == user.id
    rows = []
    for c in _customer_rows(session, user, and_(mine, customer_svc.is_void_sql(session, now))):
        due = customer_svc.follow_up_due(c)
        rows.append(WorkRow(c, OVERDUE, due, _days_late(due, now)))
    rows.sort(key=lambda r: -(r.days_overdue or 0))
    today = [WorkRow(c, DUE_TODAY, customer_svc.follow_up_due(c), 0)
             for c in _customer_rows(session, user, and_(mine, follow_ups_due_sql(session, now)))]
    listed = {r.record.id for r in rows + today}
    # 下次回访日期 agreed with the customer has come (the rules' deadline is still ahead)
    planned = [WorkRow(c, PLANNED, customer_svc.follow_up_due(c), 0,
                       extra={"planned_on": customer_svc.planned_follow_up_on(c)})
               for c in _customer_rows(session, user,
                                       and_(mine, customer_svc.planned_follow_up_sql(now)))
               if c.id not in listed]
    return rows + sorted(today, key=lambda r: r.due) + sorted(
        planned, key=lambda r: r.extra["planned_on"])


def ownership_expiring(session: Session, user: User, now: datetime | None = None,
                       only_mine: bool = True) -> list[WorkRow]:
    now = now or clock.now()
    where = row_states.ownership_expiring_sql(session, now)
    if only_mine:
        where = and_(where, Customer.owner_id == user.id)
    rows = [WorkRow(c, "expiring", c.ownership_expires_at,
                    extra={"days_left": (calendar.company_date(c.ownership_expires_at)
                                         - calendar.company_date(now)).days})
            for c in _customer_rows(session, user, where)]
    return sorted(rows, key=lambda r: r.due)


def void_cards(session: Session, user: User, now: datetime | None = None) -> list[WorkRow]:
    """Void cards and expired ownerships the user may hand to someone else (supervisor,
    manager: ``customer.reassign`` scope)."""
    now = now or clock.now()
    if not policy.can(user, "customer.reassign"):
        return []
    rows = []
    for c in _customer_rows(session, user, customer_svc.is_void_sql(session, now),
                            "customer.reassign"):
        due = customer_svc.follow_up_due(c)
        rows.append(WorkRow(c, "void", due, _days_late(due, now)))
    for c in _customer_rows(session, user, customer_svc.ownership_expired_sql(session, now),
                            "customer.reassign"):
        rows.append(WorkRow(c, "expired", c.ownership_expires_at,
                            _days_late(c.ownership_expires_at, now)))
    return rows


# ---------------------------------------------------------------------------------------------
# Reception (R-RECV-1)
# ---------------------------------------------------------------------------------------------


def unassigned_walk_ins(session: Session, user: User, now: datetime | None = None
                        ) -> list[WorkRow]:
    """Today's walk-ins of the user's branches that nobody serves yet."""
    now = now or clock.now()
    start = calendar.start_of_company_day(calendar.company_date(now))
    stmt = (policy.scope(select(ReceptionRecord), user, ReceptionRecord)
            .where(ReceptionRecord.kind == ReceptionKind.VISIT.value,
                   ReceptionRecord.assigned_to_id.is_(None),
                   ReceptionRecord.arrived_at >= start)
            .order_by(ReceptionRecord.arrived_at).limit(LIMIT))
    return [WorkRow(r, WAITING, r.arrived_at) for r in session.scalars(stmt)]


@dataclass
class RotationView:
    """Who takes the next walk-in of a branch, and the queue after them."""

    branch_id: int
    next_user: User | None
    queue: list[WorkRow]


def rotation(session: Session, user: User, branch_id: int | None = None,
             now: datetime | None = None) -> RotationView | None:
    """Today's rotation of the user's branch (R-RECV-1), for people who run or take turns in
    it: the next salesperson, then everyone in the service's serving order
    (``reception.rotation_queue``) with who is out (外出) or busy with a visitor."""
    from portal.services import reception

    branch_id = branch_id or user.branch_id
    if branch_id is None or not (policy.can(user, "reception.manage_rotation")
                                 or policy.can(user, "reception.add")):
        return None
    now = now or clock.now()
    slots = reception.rotation_queue(session, branch_id, calendar.company_date(now))
    busy = reception.busy_user_ids(session, branch_id, now)
    queue: list[WorkRow] = []
    next_user = None
    for slot in slots:  # serving order: free (owed turns first), then busy, then out
        if not slot.available:
            state = OUT
        elif next_user is None:
            state, next_user = NEXT, slot.user
        else:
            state = BUSY if slot.user_id in busy else WAITING
        queue.append(WorkRow(slot.user, state, extra={"busy": slot.user_id in busy,
                                                      "owed": slot.owed_turns}))
    return RotationView(branch_id, next_user, queue)


# ---------------------------------------------------------------------------------------------
# Complaints (R-COMP-2, R-COMP-7) and approvals
# ---------------------------------------------------------------------------------------------


def complaint_state(c: Complaint, now: datetime) -> str:
    if complaint_svc.is_overdue(c, now):
        return OVERDUE
    if c.deadline_at is not None and c.deadline_at - now <= DUE_SOON_WINDOW:
        return DUE_SOON
    return "open"


def complaints_by_deadline(session: Session, user: User, now: datetime | None = None
                           ) -> list[WorkRow]:
    """Open complaints the user may work on (``complaint.handle``), earliest deadline first."""
    now = now or clock.now()
    if not policy.can(user, "complaint.handle"):
        return []
    stmt = (policy.scope(select(Complaint), user, Complaint, "complaint.handle")
            .where(Complaint.status.in_(complaint_svc.OPEN_STATUSES))
            .order_by(Complaint.deadline_at.is_(None), Complaint.deadline_at, Complaint.id)
            .limit(LIMIT))
    return [WorkRow(c, complaint_state(c, now), c.deadline_at,
                    int(complaint_svc.days_overdue(c, now)) if complaint_svc.is_overdue(c, now)
                    else None)
            for c in session.scalars(stmt)]


def approvals_waiting(session: Session, user: User, now: datetime | None = None
                      ) -> list[WorkRow]:
    """What waits on the user's decision: complaint resolutions they may approve, credit lines
    waiting for their review (finance: proposed lines they have not reviewed) or approval
    (reviewed lines), copy requests they may decide. Nobody decides their own proposal."""
    now = now or clock.now()
    rows: list[WorkRow] = []
    if policy.can(user, "complaint.approve"):
        stmt = (policy.scope(select(Complaint), user, Complaint, "complaint.approve")
                .where(Complaint.status == ComplaintStatus.PROPOSED.value)
                .order_by(Complaint.deadline_at, Complaint.id).limit(LIMIT))
        for c in session.scalars(stmt):
            if c.accused_user_id == user.id:
                continue
            if all(policy.can(user, a, c) for a in complaint_svc.approval_actions(session, c)):
                rows.append(WorkRow(c, WAITING, c.deadline_at, extra={"step": "approve"}))
    for action, status, step in (("credit.review", CreditLineStatus.PROPOSED.value, "review"),
                                 ("credit.approve", CreditLineStatus.REVIEWED.value, "approve")):
        if not policy.can(user, action):
            continue
        stmt = (policy.scope(select(CreditLine), user, CreditLine, "credit.view")
                .where(CreditLine.status == status, CreditLine.proposed_by_id != user.id)
                .options(selectinload(CreditLine.customer))
                .order_by(CreditLine.proposed_at, CreditLine.id).limit(LIMIT))
        for line in session.scalars(stmt):
            if policy.can(user, action, line.customer):
                rows.append(WorkRow(line, WAITING, line.proposed_at, extra={"step": step}))
    if policy.can(user, "file.approve_copy") or policy.can(user, "file.approve_copy_top"):
        stmt = (policy.scope(select(CopyRequest), user, CopyRequest)
                .where(CopyRequest.status == CopyRequestStatus.PENDING.value,
                       CopyRequest.requested_by_id != user.id)
                .order_by(CopyRequest.requested_at).limit(LIMIT))
        today = calendar.company_date(now)
        for req in session.scalars(stmt):
            action = policy.copy_approver_action(policy.effective_level(req.file, today))
            if action and policy.can(user, action, req.file):
                rows.append(WorkRow(req, WAITING, req.requested_at, extra={"step": "copy"}))
    return rows


def over_limit(session: Session, user: User) -> list[WorkRow]:
    """Customers above their credit limit (R-CRED-8), for whoever collects."""
    from portal.services import credit

    if not policy.can(user, "credit.record_transaction"):
        return []
    return [WorkRow(r["customer"], OVERDUE, extra={"limit": r["limit"], "excess": r["excess"]})
            for r in credit.over_limit_rows(session, user)[:LIMIT]]


def past_due(session: Session, user: User) -> list[WorkRow]:
    """Customers with receivables past their due date (R-CRED-9/10: frozen for new credit
    sales until paid), largest past-due amount first."""
    from portal.services import receivables

    if not policy.can(user, "credit.record_transaction"):
        return []
    rows = [r for r in receivables.ageing_rows(session, user) if r.past_due > 0][:LIMIT]
    customers = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_([r.customer_id for r in rows] or [0])))}
    return [WorkRow(customers[r.customer_id], OVERDUE,
                    extra={"past_due": r.past_due, "owner": r.owner_name})
            for r in rows if r.customer_id in customers]


def outbox_problems(session: Session, user: User) -> dict[str, int]:
    """Notifications that could not be delivered (failed, given up), for whoever runs the
    outbox queue (``setting.change``)."""
    from portal.services import outbox

    if not policy.can(user, "setting.change"):
        return {}
    counts = outbox.backlog(session)
    return {k: v for k, v in counts.items() if k in ("failed", "dead") and v}


def credit_reviews_due(session: Session, user: User, now: datetime | None = None
                       ) -> list[WorkRow]:
    """Customers whose credit evaluation is older than a quarter (R-CRED-7)."""
    from portal.services import credit

    if not policy.can(user, "credit.evaluate"):
        return []
    now = now or clock.now()
    stmt = (policy.scope(select(Customer), user, Customer, "credit.view")
            .where(credit.review_due_clause(session, now)).order_by(Customer.id).limit(LIMIT))
    return [WorkRow(c, DUE_TODAY) for c in session.scalars(stmt)]


# ---------------------------------------------------------------------------------------------
# Administrators
# ---------------------------------------------------------------------------------------------


def secrecy_ending(session: Session, user: User, now: datetime | None = None
                   ) -> list[WorkRow]:
    """Secret and top-secret files whose secrecy period ends within 30 days (R-FILE-4), for the
    security administrator (``file.classify``): extend or let them be declassified."""
    if not policy.can(user, "file.classify"):
        return []
    now = now or clock.now()
    today = calendar.company_date(now)
    stmt = (policy.scope(select(ConfidentialFile), user, ConfidentialFile, "file.classify")
            .where(ConfidentialFile.level >= Level.SECRET.value,
                   ConfidentialFile.declassified_at.is_(None),
                   ConfidentialFile.secrecy_until.is_not(None),
                   ConfidentialFile.secrecy_until <= today + timedelta(days=SECRECY_SOON_DAYS))
            .order_by(ConfidentialFile.secrecy_until).limit(LIMIT))
    return [WorkRow(f, "expiring", extra={"until": f.secrecy_until,
                                          "days_left": (f.secrecy_until - today).days})
            for f in session.scalars(stmt)]


def pending_confirmations(session: Session, user: User) -> list[WorkRow]:
    """Two-person requests (R-ROLE-2) still waiting for a second administrator; the user's own
    requests are marked (they may only withdraw them)."""
    from portal.services import two_person

    if not policy.can(user, "two_person.view"):
        return []
    stmt = two_person.pending_stmt(session, user).limit(LIMIT)
    return [WorkRow(p, WAITING, p.expires_at, extra={"mine": p.requested_by_id == user.id})
            for p in session.scalars(stmt)]


def locked_accounts(session: Session, user: User, now: datetime | None = None) -> list[WorkRow]:
    """Accounts locked after failed logins (the system administrator may unlock them)."""
    if not policy.can(user, "user.change"):
        return []
    now = now or clock.now()
    stmt = (policy.scope(select(User), user, User).where(User.locked_until > now)
            .order_by(User.locked_until).limit(LIMIT))
    return [WorkRow(u, WAITING, u.locked_until) for u in session.scalars(stmt)]


def recent_denials(session: Session, user: User, now: datetime | None = None,
                   days: int = 7) -> list[Any]:
    """Refused requests of the last ``days`` days, for the people who read the audit log."""
    from models import AuditEntry
    from models.enums import AuditOutcome

    if not policy.can(user, "audit.view"):
        return []
    now = now or clock.now()
    stmt = (policy.scope(select(AuditEntry), user, AuditEntry)
            .where(AuditEntry.outcome == AuditOutcome.DENIED.value,
                   AuditEntry.at >= now - timedelta(days=days))
            .order_by(AuditEntry.at.desc()).limit(LIMIT))
    return list(session.scalars(stmt))


# ---------------------------------------------------------------------------------------------
# The scheduled part: 待办 for follow-ups due today and ownerships expiring within 7 days
# ---------------------------------------------------------------------------------------------


def tick(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Tell each owner, once per company day, which of their prospects fall due for a follow-up
    today, and once per expiry date which ownerships end within 7 days. Idempotent (dedupe
    keys); commits."""
    now = now or clock.now()
    day = calendar.company_date(now).isoformat()
    counts = {"follow_up_due": 0, "ownership_expiring": 0}
    due = session.scalars(select(Customer).where(follow_ups_due_sql(session, now))
                          .order_by(Customer.id)).all()
    for c in due:
        counts["follow_up_due"] += notifications.notify(
            session, user_ids=[c.owner_id], kind="customer.follow_up_due",
            message=N_("Follow-up due today: %(code)s %(customer)s."),
            params={"code": c.code, "customer": c.name}, target=c,
            dedupe_key=f"customer.follow_up_due:{c.id}:{day}", now=now)
    expiring = session.scalars(select(Customer)
                               .where(row_states.ownership_expiring_sql(session, now))
                               .order_by(Customer.id)).all()
    for c in expiring:
        counts["ownership_expiring"] += notifications.notify(
            session, user_ids=[c.owner_id], kind="customer.ownership_expiring",
            message=N_("The ownership of %(code)s %(customer)s ends on %(date)s: close a deal "
                       "before then."),
            params={"code": c.code, "customer": c.name,
                    "date": calendar.company_date(c.ownership_expires_at).isoformat()},
            target=c,
            dedupe_key=f"customer.ownership_expiring:{c.id}:"
                       f"{c.ownership_expires_at:%Y%m%d%H%M%S}", now=now)
    session.commit()
    return counts


__all__ = ["WorkRow", "RotationView", "approvals_waiting", "complaints_by_deadline",
           "credit_reviews_due", "follow_ups_due_sql", "locked_accounts", "my_follow_ups",
           "outbox_problems", "over_limit", "pending_confirmations", "ownership_expiring", "past_due", "recent_denials", "rotation",
           "secrecy_ending", "tick", "unassigned_walk_ins", "void_cards"]
