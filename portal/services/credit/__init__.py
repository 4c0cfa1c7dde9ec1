"""Credit (客户信用): ABC rating from the evaluation (R-CRED-1..3), credit lines with their caps
(R-CRED-4), the proposal → finance review → general-manager approval chain (R-CRED-5, R-CRED-6),
review due and monthly usage reviews (R-CRED-7), the outstanding balance against the line in
force with over-limit approvals, and the over-limit list (R-CRED-8).
"""

# modules the old single module imported, still reachable as its attributes
from portal import audit as audit
from portal import clock as clock
from portal import policy as policy
from portal import settings as settings
from portal.services import calendar as calendar
from portal.services import notifications as notifications
from portal.services.credit._common import LS as LS
from portal.services.credit._common import ZERO as ZERO
from portal.services.credit.evaluation import evaluate as evaluate
from portal.services.credit.lines import _line_snap as _line_snap
from portal.services.credit.lines import _load_line as _load_line
from portal.services.credit.lines import _step as _step
from portal.services.credit.lines import add_months as add_months
from portal.services.credit.lines import approve_line as approve_line
from portal.services.credit.lines import awaiting_decision_sql as awaiting_decision_sql
from portal.services.credit.lines import check_caps as check_caps
from portal.services.credit.lines import had_credit as had_credit
from portal.services.credit.lines import in_force_clause as in_force_clause
from portal.services.credit.lines import line_in_force as line_in_force
from portal.services.credit.lines import line_state as line_state
from portal.services.credit.lines import monthly_amount as monthly_amount
from portal.services.credit.lines import next_step as next_step
from portal.services.credit.lines import propose_line as propose_line
from portal.services.credit.lines import review_line as review_line
from portal.services.credit.lines import suspended_by_c_clause as suspended_by_c_clause
from portal.services.credit.lines import temporary_end as temporary_end
from portal.services.credit.over_limit import _limit_subquery as _limit_subquery
from portal.services.credit.over_limit import approve_over_limit as approve_over_limit
from portal.services.credit.over_limit import is_over_limit as is_over_limit
from portal.services.credit.over_limit import limit_in_force_sql as limit_in_force_sql
from portal.services.credit.over_limit import over_limit_customers as over_limit_customers
from portal.services.credit.over_limit import over_limit_rows as over_limit_rows
from portal.services.credit.over_limit import over_limit_sql as over_limit_sql
from portal.services.credit.over_limit import record_transaction as record_transaction
from portal.services.credit.over_limit import valid_over_limit_approval as valid_over_limit_approval
from portal.services.credit.rating import ANSWER_FIELDS as ANSWER_FIELDS
from portal.services.credit.rating import BOOL_FIELDS as BOOL_FIELDS
from portal.services.credit.rating import CHOICE_FIELDS as CHOICE_FIELDS
from portal.services.credit.rating import KEY_FIELDS as KEY_FIELDS
from portal.services.credit.rating import MONEY_FIELDS as MONEY_FIELDS
from portal.services.credit.rating import REASONS as REASONS
from portal.services.credit.rating import RatingResult as RatingResult
from portal.services.credit.rating import _amount as _amount
from portal.services.credit.rating import _clean_answers as _clean_answers
from portal.services.credit.rating import _present as _present
from portal.services.credit.rating import explain as explain
from portal.services.credit.rating import latest_evaluation as latest_evaluation
from portal.services.credit.rating import rate as rate
from portal.services.credit.reviews import _interval as _interval
from portal.services.credit.reviews import _month_of as _month_of
from portal.services.credit.reviews import _previous_month as _previous_month
from portal.services.credit.reviews import _record_usage as _record_usage
from portal.services.credit.reviews import _usage as _usage
from portal.services.credit.reviews import record_usage_review as record_usage_review
from portal.services.credit.reviews import review_due as review_due
from portal.services.credit.reviews import review_due_clause as review_due_clause
from portal.services.credit.reviews import tick as tick
from portal.services.credit.reviews import usage_report as usage_report
