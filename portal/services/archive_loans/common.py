"""Archive loans (R-CUST-9): the actions, the rule id and the reason every decision gives."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from portal import settings
from portal.services.errors import N_, ValidationFailed

RULE = "R-CUST-9"
REQUEST = "archive_loan.request"
APPROVE = "archive_loan.approve"
READ = "archive_loan.read"
MAX_REASON = 300


def max_days(session: Session) -> int:
    return int(settings.get(session, "customer.loan_max_working_days"))


def _reason(value: Any, field: str = "reason") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed(N_("Give a reason."), field=field)
    if len(text) > MAX_REASON:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."), field=field,
                               label=N_("Reason"), max=MAX_REASON)
    return text
