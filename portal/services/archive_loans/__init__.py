"""Borrowing an archive (档案查阅/借阅, R-CUST-9: "借用资料一天必须马上归还").

A person who needs an archive outside their scope asks to read it, with a reason and a
duration (default one working day, at most the setting ``customer.loan_max_working_days``):

- ``request_access``: the archive is named by its exact code, full name or phone number — the
  request reveals nothing the person could not type: when nothing or several archives match,
  the answer says so without naming any. The archive's department manager(s) (holders of
  ``archive_loan.approve`` on it; the general manager when the department has none) find the
  request in their 待办.
- ``decide_access``: approve (the loan runs from now for the working days asked) or refuse
  (with a reason); nobody decides their own request. The borrower and the archive's owner are
  told.
- ``return_loan`` (the borrower, early) and ``revoke_loan`` (who may approve, with a reason)
  end a loan before its time; otherwise it ends by itself at ``ends_at`` (derived, no job).

While a loan is in force the policy lets the borrower READ the archive and what hangs off it
(``portal.policy_loans``); every read is audited with the loan's id (``record_reads``) and the
borrowing register (``register_stmt``, ``reads_of``) counts them.

The package follows those steps: ``common`` (actions, rule id, reasons), ``state`` (the derived
state and a loan's end), ``request``, ``decide`` (decide, return, revoke), ``reads`` (reads
during a loan), ``register`` (the register and the 待办) and ``demo``. Every name stays
importable from ``portal.services.archive_loans``.
"""

from __future__ import annotations

from portal.services.archive_loans.common import (
    APPROVE,
    MAX_REASON,
    READ,
    REQUEST,
    RULE,
    max_days,
)
from portal.services.archive_loans.decide import (
    decide_access,
    may_decide,
    may_return,
    may_revoke,
    return_loan,
    revoke_loan,
)
from portal.services.archive_loans.demo import load_demo_loans
from portal.services.archive_loans.reads import (
    LoanReads,
    archives_read,
    collect_reads,
    loan_in_force,
    note_read,
    note_reads,
    reads_of,
    record_reads,
)
from portal.services.archive_loans.register import mine, register_stmt, waiting_for
from portal.services.archive_loans.request import (
    MIN_PHONE_DIGITS,
    deciders,
    request_access,
)
from portal.services.archive_loans.state import (
    ACTIVE,
    EXPIRED,
    STATES,
    in_force_sql,
    is_in_force,
    loan_end,
    state_of,
    state_sql,
)

__all__ = [
    "ACTIVE", "APPROVE", "EXPIRED", "MAX_REASON", "MIN_PHONE_DIGITS", "READ", "REQUEST",
    "RULE", "STATES", "LoanReads", "archives_read", "collect_reads", "deciders",
    "decide_access", "in_force_sql", "is_in_force", "load_demo_loans", "loan_end",
    "loan_in_force", "may_decide", "may_return", "may_revoke", "max_days", "mine",
    "note_read", "note_reads", "reads_of", "record_reads", "register_stmt", "request_access",
    "return_loan", "revoke_loan", "state_of", "state_sql", "waiting_for",
]
