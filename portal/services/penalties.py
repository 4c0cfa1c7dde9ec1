"""Complaint responsibility and penalty notices (R-COMP-11).

Closing a substantiated complaint (type 投诉 that went through the workflow to ``closed``)
records whose fault it was: the department (required), optionally the team and the person,
and whether the cause was quality or not. A complaint rejected as unfounded records none.

The company's penalty table is a set of settings (default from the policy):
``complaint.penalty_staff_amount`` (100 元) to the person at fault per substantiated complaint,
and ``complaint.penalty_late_amount`` (500 元) each to that person and to the department's
manager when the complaint was not resolved within ``complaint.penalty_late_working_days``
(3) working days of its registration — closed after the end of the 3rd working day after the
registration day (company time), as the R-COMP-2 deadline counts. ``complaint.penalties_enabled``
false switches penalties off. When the table applies, a penalty notice (处罚通知单) is drafted
and waits in the general manager's 待办 to be confirmed or waived with a reason; confirmed
notices are listed per month (of the confirmation) for HR.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from models import Complaint, Department, PenaltyLine, PenaltyNotice, User
from models.enums import ComplaintType
from portal import audit, clock, policy, settings
from portal.services import calendar, notifications
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import check_version, load, verb

CAUSES = ("quality", "non_quality")
GROUND_LABELS = {"substantiated": "有效投诉 / substantiated complaint",
                 "late_staff": "逾期未解决（责任人） / not resolved in time (staff)",
                 "late_manager": "逾期未解决（部门经理） / not resolved in time (manager)"}


@dataclass(frozen=True)
class Responsibility:
    department_id: int
    cause: str
    team: str | None = None
    user_id: int | None = None


def needs_responsibility(c: Complaint) -> bool:
    """Only a complaint (投诉) is somebody's fault; inquiries and suggestions are not."""
    return c.type == ComplaintType.COMPLAINT.value


def clean_responsibility(session: Session, data: dict[str, Any] | None) -> Responsibility:
    """Validate the responsibility given on closing (department and cause required)."""
    data = data or {}
    try:
        dept_id = int(data.get("department_id") or 0)
    except (TypeError, ValueError):
        dept_id = 0
    if not dept_id or session.get(Department, dept_id) is None:
        raise ValidationFailed(N_("Record the department responsible for the complaint."),
                               field="fault_department_id")
    cause = data.get("cause")
    if cause not in CAUSES:
        raise ValidationFailed(N_("Say whether the cause was quality or not."),
                               field="fault_cause")
    user_id = data.get("user_id")
    if user_id in (None, "", 0):
        user_id = None
    else:
        try:
            user_id = int(user_id)
        except (TypeError, ValueError):
            user_id = 0
        if not user_id or session.get(User, user_id) is None:
            raise ValidationFailed(N_("Choose the person responsible from the list."),
                                   field="fault_user_id")
    team = (data.get("team") or "").strip()[:100] or None
    return Responsibility(dept_id, cause, team, user_id)


def late_deadline(session: Session, c: Complaint) -> datetime:
    """End of the N-th working day after the registration day (the penalty's 3 days)."""
    n = int(settings.get(session, "complaint.penalty_late_working_days"))
    day = calendar.add_working_days(session, calendar.company_date(c.registered_at), n)
    return calendar.end_of_company_day(day)


def resolved_late(session: Session, c: Complaint, closed_at: datetime) -> bool:
    return closed_at > late_deadline(session, c)


def _amount(session: Session, key: str) -> Decimal:
    return Decimal(str(settings.get(session, key) or 0)).quantize(Decimal("0.01"))


def draft_notice(session: Session, c: Complaint, closed_at: datetime) -> PenaltyNotice | None:
    """Called by ``complaints.close`` inside its transaction: draft the notice when the penalty
    table applies, and put it in the general manager's 待办."""
    if not settings.get(session, "complaint.penalties_enabled"):
        return None
    if c.fault_department_id is None:
        return None
    lines: list[tuple[int, str, Decimal]] = []
    staff, late = (_amount(session, "complaint.penalty_staff_amount"),
                   _amount(session, "complaint.penalty_late_amount"))
    if c.fault_user_id and staff > 0:
        lines.append((c.fault_user_id, "substantiated", staff))
    if late > 0 and resolved_late(session, c, closed_at):
        if c.fault_user_id:
            lines.append((c.fault_user_id, "late_staff", late))
        for m in policy.department_managers(session, c.fault_department_id):
            lines.append((m.id, "late_manager", late))
    if not lines:
        return None
    notice = PenaltyNotice(complaint_id=c.id, department_id=c.fault_department_id,
                           status="draft", total_amount=sum((a for *_, a in lines),
                                                            Decimal("0")),
                           drafted_at=closed_at)
    session.add(notice)
    session.flush()
    for uid, ground, amount in lines:
        session.add(PenaltyLine(notice_id=notice.id, user_id=uid, ground=ground, amount=amount))
    session.flush()
    deciders = [u.id for u in policy.users_with(session, "complaint.confirm_penalty", c)]
    notifications.notify(session, user_ids=deciders, kind="complaint.penalty_draft",
                         message=N_("Penalty notice for complaint %(number)s is waiting for "
                                    "you to confirm or waive it"),
                         params={"number": c.number}, target=notice,
                         dedupe_key=f"complaint.penalty_draft:{notice.id}")
    audit.record(session, None, "complaint.confirm_penalty", notice,
                 after=audit.snapshot(notice), detail="penalty notice drafted",
                 actor_name="system")
    return notice


def _decide(session: Session, actor: User, notice_id: int, expected_version: int | None
            ) -> PenaltyNotice:
    if not policy.can(actor, "complaint.confirm_penalty", Complaint):
        # nobody without the grant learns whether the notice exists (auditors, R-ROLE-3)
        raise PermissionDenied("complaint.confirm_penalty", PenaltyNotice)
    notice = load(session, actor, PenaltyNotice, notice_id, "penalty.view")
    if not policy.can(actor, "complaint.confirm_penalty", notice.complaint):
        raise PermissionDenied("complaint.confirm_penalty", notice)
    check_version(notice, expected_version)
    if not is_draft(notice):
        raise RuleViolation(N_("This penalty notice is already decided."), rule="R-COMP-11")
    return notice


@verb
def confirm_penalty(session: Session, actor: User, notice_id: int,
                    expected_version: int | None = None) -> PenaltyNotice:
    """The general manager confirms a drafted penalty notice; it goes to HR's monthly list."""
    notice = _decide(session, actor, notice_id, expected_version)
    before = audit.snapshot(notice)
    notice.status, notice.decided_by_id, notice.decided_at = "confirmed", actor.id, clock.now()
    session.flush()
    audit.record(session, actor, "complaint.confirm_penalty", notice, before=before,
                 after=audit.snapshot(notice))
    return notice


@verb
def waive_penalty(session: Session, actor: User, notice_id: int, reason: str,
                  expected_version: int | None = None) -> PenaltyNotice:
    """The general manager waives a drafted penalty notice, with a reason."""
    notice = _decide(session, actor, notice_id, expected_version)
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(N_("Say why the penalty is waived."), field="reason")
    before = audit.snapshot(notice)
    notice.status, notice.decided_by_id, notice.decided_at = "waived", actor.id, clock.now()
    notice.waiver_reason = text[:2000]
    session.flush()
    audit.record(session, actor, "complaint.confirm_penalty", notice, before=before,
                 after=audit.snapshot(notice))
    return notice


def _month_bounds(month: str) -> tuple[datetime, datetime]:
    from portal.services.complaint_slices import parse_month
    from portal.services.complaints import month_bounds

    return month_bounds(*parse_month(month))


@verb
def hr_list(session: Session, actor: User, month: str) -> list[dict[str, Any]]:
    """Confirmed penalty notices of the month (confirmed in it, company time), one row per
    person and ground, for HR. Scoped by ``penalty.view``; the read is audited."""
    if not policy.can(actor, "penalty.view"):
        raise PermissionDenied("penalty.view", "penalty_list")
    start, end = _month_bounds(month)
    stmt = policy.scope(
        select(PenaltyLine, PenaltyNotice, Complaint, User, Department)
        .join(PenaltyNotice, PenaltyNotice.id == PenaltyLine.notice_id)
        .join(Complaint, Complaint.id == PenaltyNotice.complaint_id)
        .join(User, User.id == PenaltyLine.user_id)
        .join(Department, Department.id == PenaltyNotice.department_id)
        .where(PenaltyNotice.status == "confirmed", PenaltyNotice.decided_at >= start,
               PenaltyNotice.decided_at < end)
        .order_by(PenaltyNotice.decided_at, PenaltyNotice.id, PenaltyLine.id),
        actor, PenaltyNotice, "penalty.view")
    rows = [{"notice_id": n.id, "complaint_id": c.id, "complaint_number": c.number,
             "user_id": u.id, "person": u.full_name, "department": d.name,
             "ground": line.ground, "amount": line.amount, "confirmed_at": n.decided_at}
            for line, n, c, u, d in session.execute(stmt).all()]
    audit.record(session, actor, "penalty.view", "penalty_list",
                 detail=f"{month}: {len(rows)} lines")
    return rows


def statistics(session: Session, actor: User, start: datetime, end: datetime
               ) -> dict[str, Any]:
    """R-COMP-8 additions: responsibility by department of the complaints closed in
    [start, end), and the penalty totals of their notices (scoped like the statistics)."""
    from portal.services.complaints import S

    closed = and_(Complaint.status == S.CLOSED.value, Complaint.closed_at >= start,
                  Complaint.closed_at < end)
    by_dept: dict[str, int] = {}
    stmt = policy.scope(select(Department.name, func.count(Complaint.id))
                        .select_from(Complaint)
                        .join(Department, Department.id == Complaint.fault_department_id),
                        actor, Complaint)
    for name, n in session.execute(stmt.where(closed).group_by(Department.name)
                                   .order_by(Department.name)).all():
        by_dept[name] = int(n)
    by_cause: dict[str, int] = {}
    stmt = policy.scope(select(Complaint.fault_cause, func.count(Complaint.id)), actor,
                        Complaint).where(closed, Complaint.fault_cause.is_not(None))
    for cause, n in session.execute(stmt.group_by(Complaint.fault_cause)).all():
        by_cause[str(cause)] = int(n)
    totals = {"draft": Decimal("0.00"), "confirmed": Decimal("0.00"),
              "waived": Decimal("0.00")}
    counts = dict.fromkeys(totals, 0)
    stmt = policy.scope(select(PenaltyNotice.status, func.count(PenaltyNotice.id),
                               func.coalesce(func.sum(PenaltyNotice.total_amount), 0))
                        .join(Complaint, Complaint.id == PenaltyNotice.complaint_id),
                        actor, Complaint).where(closed).group_by(PenaltyNotice.status)
    for status, n, amount in session.execute(stmt).all():
        counts[status] = int(n)
        totals[status] = Decimal(str(amount)).quantize(Decimal("0.01"))
    return {"fault_by_department": by_dept, "fault_by_cause": by_cause,
            "penalty_counts": counts, "penalty_totals": totals}


def hr_report(month: str, rows: list[dict[str, Any]]) -> Any:
    """The month's confirmed penalties for HR as a ``reports.Report`` (the portal's page and
    CSV): one row per person and ground, the total and the number of lines."""
    from portal.services import reports
    from portal.services.receivables import money

    report = reports.Report("penalties", f"处罚通知单（已确认） / confirmed penalties {month}")
    report.tables.append(reports.Table(
        "人事处罚清单 / for HR",
        ["投诉编号 / complaint", "责任人 / person", "部门 / department",
         "处罚原因 / ground", "金额 / amount", "确认时间 / confirmed"],
        [[r["complaint_number"], r["person"], r["department"], GROUND_LABELS[r["ground"]],
          r["amount"], f"{r['confirmed_at'].astimezone(clock.COMPANY_TZ):%Y-%m-%d %H:%M}"]
         for r in rows]))
    total = sum((r["amount"] for r in rows), start=Decimal(0))
    report.figures = [("合计 / total", money(total)), ("人次 / lines", len(rows))]
    return report


def today_month(today: date | None = None) -> str:
    from portal.services import report_access

    return report_access.default_month("penalties", today)


DRAFT = "draft"


def is_draft(notice: PenaltyNotice) -> bool:
    """待总经理确认: drafted at closing, not yet confirmed or waived (R-COMP-11)."""
    return notice.status == DRAFT


def draft_sql() -> Any:
    """SQL twin of ``is_draft`` (the 待确认的处罚通知单 list)."""
    return PenaltyNotice.status == DRAFT
