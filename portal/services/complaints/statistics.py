"""Complaints: the monthly statistics (R-COMP-8)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Complaint, Department, User
from portal import clock, policy
from portal.services import calendar
from portal.services.complaints.state import overdue_clause
from portal.services.errors import PermissionDenied
from portal.services.unit import verb

# ---------------------------------------------------------------------------------------------
# Statistics (R-COMP-8)
# ---------------------------------------------------------------------------------------------


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """UTC bounds of a company-time calendar month."""
    from datetime import date

    start = calendar.start_of_company_day(date(year, month, 1))
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return start, calendar.start_of_company_day(nxt)


@verb
def monthly_statistics(session: Session, actor: User, year: int, month: int) -> dict[str, Any]:
    """R-COMP-8 (汇总上月份结案的案件), within the actor's scope: the cases registered in the month
    (company time) by type, cause, department, severity and status (``total``, ``by_*``), and
    the cases *closed* in the month whenever they were registered (``closed``,
    ``closed_by_*``), with their on-time rate, average handling time and satisfaction."""
    from portal.services import penalties

    if not policy.can(actor, "report.view"):
        raise PermissionDenied("report.view", "complaint_statistics")
    from portal.services.complaint_slices import check_month, month_clause

    year, month = check_month(year, month)
    start, end = month_bounds(year, month)

    # the same month conditions the report's click-through lists use (complaint_slices)
    in_month = month_clause("registered", start, end)
    closed_in_month = month_clause("closed", start, end)

    def grouped(column: Any, where: Any = in_month) -> dict[str, int]:
        stmt = policy.scope(select(column, func.count(Complaint.id)), actor, Complaint)
        rows = session.execute(stmt.where(where).group_by(column).order_by(column)).all()
        return {str(k): int(n) for k, n in rows}

    def by_department(where: Any) -> dict[str, int]:
        out: dict[str, int] = {}
        stmt = policy.scope(select(Department.name, func.count(Complaint.id))
                            .select_from(Complaint)
                            .join(Department,
                                  Department.id == Complaint.responsible_department_id),
                            actor, Complaint)
        for name, n in session.execute(stmt.where(where).group_by(Department.name)
                                       .order_by(Department.name)).all():
            out[name] = int(n)
        return out

    closed_rows = session.execute(policy.scope(
        select(Complaint.registered_at, Complaint.closed_at, Complaint.deadline_at,
               Complaint.satisfaction), actor, Complaint)
        .where(closed_in_month)).all()
    hours = [(cl - reg).total_seconds() / 3600 for reg, cl, _, _ in closed_rows]
    on_time = sum(1 for _, cl, dl, _ in closed_rows if cl <= dl)
    scores = [s for *_, s in closed_rows if s is not None]
    now = clock.now()
    total = sum(grouped(Complaint.type).values())
    open_overdue = session.scalar(policy.scope(select(func.count(Complaint.id)), actor,
                                               Complaint).where(in_month, overdue_clause(now)))
    return {
        "year": int(year), "month": int(month), "period": f"{int(year):04d}-{int(month):02d}",
        "total": total,
        "by_type": grouped(Complaint.type),
        "by_cause": grouped(Complaint.cause),
        "by_severity": grouped(Complaint.severity),
        "by_status": grouped(Complaint.status),
        "by_department": by_department(in_month),
        "closed": len(closed_rows),
        "closed_by_type": grouped(Complaint.type, closed_in_month),
        "closed_by_cause": grouped(Complaint.cause, closed_in_month),
        "closed_by_severity": grouped(Complaint.severity, closed_in_month),
        "closed_by_department": by_department(closed_in_month),
        "closed_on_time": on_time,
        "on_time_rate": round(on_time / len(closed_rows), 4) if closed_rows else None,
        "avg_handling_hours": round(sum(hours) / len(hours), 1) if hours else None,
        "avg_satisfaction": round(sum(scores) / len(scores), 2) if scores else None,
        "satisfaction_count": len(scores),
        "open_overdue": int(open_overdue or 0),
        **penalties.statistics(session, actor, start, end),
    }
