"""R-ROLE-6 (等保: the user must be able to notice misuse): after signing in, a user is told
when and from where the previous sign-in attempt on their account came, whether it
succeeded, and how many failed attempts there were since their last successful sign-in.
Read from the audit log (``auth.login`` entries and refused second-factor codes,
``auth.two_factor``, named by the login name)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from models.audit import AuditEntry
from models.enums import AuditOutcome

SUCCESS = AuditOutcome.OK.value


@dataclass(frozen=True)
class PreviousSignIn:
    at: datetime
    address: str | None
    succeeded: bool
    failures_since: int  # failed attempts after the last successful sign-in before this one


def previous_sign_in(session: Session, username: str, current_entry_id: int) -> \
        PreviousSignIn | None:
    """The attempt before the sign-in audited as ``current_entry_id``; None for a first one."""
    # a wrong or replayed second-factor code is a failed sign-in attempt too
    mine = (or_(AuditEntry.action == "auth.login",
                and_(AuditEntry.action == "auth.two_factor", AuditEntry.outcome != SUCCESS)),
            AuditEntry.actor_name == username, AuditEntry.id < current_entry_id)
    last = session.scalar(select(AuditEntry).where(*mine).order_by(AuditEntry.id.desc())
                          .limit(1))
    if last is None:
        return None
    last_ok = session.scalar(select(func.max(AuditEntry.id))
                             .where(*mine, AuditEntry.outcome == SUCCESS))
    failed = select(func.count()).select_from(AuditEntry).where(
        *mine, AuditEntry.outcome != SUCCESS)
    if last_ok is not None:
        failed = failed.where(AuditEntry.id > last_ok)
    return PreviousSignIn(at=last.at, address=last.remote_addr,
                          succeeded=last.outcome == SUCCESS,
                          failures_since=int(session.scalar(failed) or 0))
