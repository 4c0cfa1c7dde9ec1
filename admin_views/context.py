"""Request helpers every admin view shares: the acting user, refusals' audit entries, the
per-request memo and translated domain errors."""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_babel import gettext
from flask_login import current_user

from models.enums import AuditOutcome
from portal import audit, policy
from portal.extensions import db
from portal.services.errors import DomainError

log = logging.getLogger(__name__)


def full_action(model: type, verb: str) -> str:
    return verb if "." in verb else f"{policy.MODEL_AREA[model]}.{verb}"


def actor() -> Any:
    return current_user if current_user and current_user.is_authenticated else None


def record_denied(action: str, target: Any, detail: str | None = None) -> None:
    """One 'denied' audit entry, committed on its own (nothing else is pending)."""
    session = db.session
    session.rollback()
    audit.record(session, actor(), action, target, outcome=AuditOutcome.DENIED.value,
                 detail=detail or f"admin {request.method} {request.path}"[:500])
    session.commit()


def request_state() -> dict[str, Any]:
    """Per-request memo (not ``g``: an app context may outlive one request, e.g. in tests)."""
    return request.environ.setdefault("portal.state", {})


def translated(exc: DomainError) -> str:
    return exc.translated(gettext)


def note_credit_read(records: Any) -> None:
    """Rows whose credit amounts this page shows; ``ScopedModelView.render`` records them in
    one audit entry for the request (R-AUD-1, ``portal.services.credit_reads``)."""
    if records:
        request_state().setdefault("credit_reads", []).extend(records)
