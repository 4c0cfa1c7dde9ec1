"""Joint marketing events (联谊会/会议营销, R-CUST-10): the departments' confirmed-invitation
lists with their cut-offs, duplicate refusal, the coordinator's board with rulings and
escalation to the general manager, attendance and sales credited to the confirming department
and person, and the per-department report."""

from portal.services.joint_events.attendance import (
    ReportRow,
    attendance_of,
    record_attendance,
    report,
)
from portal.services.joint_events.board import (
    Board,
    ConflictRow,
    board,
    confirmed_lines,
    escalate_conflict,
    rule_conflict,
)
from portal.services.joint_events.cutoff import cutoff, list_day_for, list_days
from portal.services.joint_events.events import create_event, visible_events
from portal.services.joint_events.lists import (
    Submission,
    conflict_message,
    conflict_messages,
    my_entries,
    submit_list,
    submit_moment_day,
)

__all__ = [
    "Board", "ConflictRow", "ReportRow", "Submission", "attendance_of", "board",
    "confirmed_lines", "conflict_message", "conflict_messages", "create_event", "cutoff",
    "escalate_conflict", "list_day_for",
    "list_days", "my_entries", "record_attendance", "report", "rule_conflict", "submit_list",
    "submit_moment_day", "visible_events",
]
