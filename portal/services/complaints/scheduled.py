"""Complaints: the scheduled command's part (R-COMP-3 escalation, R-COMP-7 reminders and
transfer)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Complaint
from models.enums import Severity
from portal import audit, clock
from portal.services import calendar, notifications
from portal.services.complaints._common import OPEN_STATUSES
from portal.services.complaints.state import overdue_clause
from portal.services.complaints.verbs import _escalate, _record_reminder
from portal.services.errors import N_

# ---------------------------------------------------------------------------------------------
# The scheduled command's part (R-COMP-3 escalation, R-COMP-7 reminders and transfer)
# ---------------------------------------------------------------------------------------------


def tick(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Record reminders for overdue complaints (once per company day per complaint), the
    hand-over suggestion (R-COMP-7, once per complaint and person), the statistics reminder on
    the 1st (R-COMP-8), and escalate major complaints
    not yet escalated. Idempotent; safe when two run at once (dedupe keys + row locks)."""
    now = now or clock.now()
    counts = {"escalations": 0, "reminders": 0, "transfer_suggestions": 0}
    pending = session.scalars(select(Complaint).where(
        Complaint.severity == Severity.MAJOR.value, Complaint.escalated_at.is_(None),
        Complaint.status.in_(OPEN_STATUSES))).all()
    for c in pending:
        claimed = session.execute(update(Complaint).where(
            Complaint.id == c.id, Complaint.escalated_at.is_(None))
            .values(escalated_at=now, version=Complaint.version + 1)
            .execution_options(synchronize_session=False)).rowcount
        if claimed:
            session.refresh(c)
            _escalate(session, c, now)
            counts["escalations"] += 1
    session.commit()

    day = calendar.company_date(now).isoformat()
    overdue = session.scalars(select(Complaint).where(overdue_clause(now))
                              .order_by(Complaint.id)).all()
    for c in overdue:
        params = {"number": c.number, "deadline": c.deadline_at}
        gate = notifications.notify(
            session, user_ids=[c.received_by_id], kind="complaint.overdue",
            message=N_("Complaint %(number)s is overdue (deadline %(deadline)s); a reminder "
                       "was recorded."),
            params=params, target=c, dedupe_key=f"complaint.overdue:{c.id}:{day}", now=now)
        if gate:
            r = _record_reminder(session, c, None, f"overdue since {c.deadline_at:%Y-%m-%d}",
                                 now)
            if c.handler_id:
                notifications.notify(
                    session, user_ids=[c.handler_id], kind="complaint.overdue",
                    message=N_("Complaint %(number)s is overdue (deadline %(deadline)s): "
                               "please finish it."),
                    params=params, target=c, dedupe_key=f"complaint.overdue:{c.id}:{day}:h",
                    now=now)
            audit.record(session, None, "complaint.remind", c, after=audit.snapshot(r),
                         detail="scheduled reminder", actor_name="scheduler")
            counts["reminders"] += 1
        session.commit()
    # R-COMP-7 hand-over suggestions (N working days after registration) and the R-COMP-8
    # statistics reminder on the 1st (issue 16)
    from portal.services import complaint_escalation

    more = complaint_escalation.handover_and_statistics(session, now)
    counts["transfer_suggestions"] = more["handover_suggestions"]
    counts["statistics_reminders"] = more["statistics_reminders"]
    return counts
