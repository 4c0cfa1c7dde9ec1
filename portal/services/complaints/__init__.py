"""Complaints (客户投诉): numbering, deadlines, escalation, the workflow and its reminders.

Rules: R-COMP-1 .. R-COMP-10 of domain.md. State that time decides (overdue) is derived at read
time by ``is_overdue`` / ``overdue_clause``; ``tick`` only records reminders and notifications.
"""

# modules the old single module imported, still reachable as its attributes
from portal import audit as audit
from portal import clock as clock
from portal import policy as policy
from portal import settings as settings
from portal.services import calendar as calendar
from portal.services import notifications as notifications
from portal.services.complaints._common import COLLECTIVE_MIN_CUSTOMERS as COLLECTIVE_MIN_CUSTOMERS
from portal.services.complaints._common import MAJOR_FLAGS as MAJOR_FLAGS
from portal.services.complaints._common import OPEN_STATUSES as OPEN_STATUSES
from portal.services.complaints._common import TERMINAL_STATUSES as TERMINAL_STATUSES
from portal.services.complaints._common import TRANSITIONS as TRANSITIONS
from portal.services.complaints._common import S as S
from portal.services.complaints.scheduled import tick as tick
from portal.services.complaints.state import VERB_FOR_STATUS as VERB_FOR_STATUS
from portal.services.complaints.state import _choice as _choice
from portal.services.complaints.state import _event as _event
from portal.services.complaints.state import _ids as _ids
from portal.services.complaints.state import _insert_ignore as _insert_ignore
from portal.services.complaints.state import _money as _money
from portal.services.complaints.state import _not_accused as _not_accused
from portal.services.complaints.state import _notify_step as _notify_step
from portal.services.complaints.state import _period as _period
from portal.services.complaints.state import _require_handler as _require_handler
from portal.services.complaints.state import _snap as _snap
from portal.services.complaints.state import _step_check as _step_check
from portal.services.complaints.state import _text as _text
from portal.services.complaints.state import allowed_operations as allowed_operations
from portal.services.complaints.state import allowed_transitions as allowed_transitions
from portal.services.complaints.state import compute_deadline as compute_deadline
from portal.services.complaints.state import days_overdue as days_overdue
from portal.services.complaints.state import handler_candidates as handler_candidates
from portal.services.complaints.state import is_open as is_open
from portal.services.complaints.state import is_overdue as is_overdue
from portal.services.complaints.state import next_number as next_number
from portal.services.complaints.state import open_sql as open_sql
from portal.services.complaints.state import overdue_clause as overdue_clause
from portal.services.complaints.state import proposer as proposer
from portal.services.complaints.statistics import month_bounds as month_bounds
from portal.services.complaints.statistics import monthly_statistics as monthly_statistics
from portal.services.complaints.verbs import _advance as _advance
from portal.services.complaints.verbs import _ended as _ended
from portal.services.complaints.verbs import _escalate as _escalate
from portal.services.complaints.verbs import _handle_step as _handle_step
from portal.services.complaints.verbs import _record_reminder as _record_reminder
from portal.services.complaints.verbs import approval_actions as approval_actions
from portal.services.complaints.verbs import approve as approve
from portal.services.complaints.verbs import assign as assign
from portal.services.complaints.verbs import close as close
from portal.services.complaints.verbs import delete_complaint as delete_complaint
from portal.services.complaints.verbs import extend as extend
from portal.services.complaints.verbs import major_reasons as major_reasons
from portal.services.complaints.verbs import propose_resolution as propose_resolution
from portal.services.complaints.verbs import register_complaint as register_complaint
from portal.services.complaints.verbs import reject as reject
from portal.services.complaints.verbs import remind as remind
from portal.services.complaints.verbs import reply as reply
from portal.services.complaints.verbs import start_investigation as start_investigation
