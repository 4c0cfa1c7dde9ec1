"""Confidential files: copy approval (R-FILE-3)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import false, or_, select
from sqlalchemy.orm import Session

from models import ConfidentialFile, CopyRequest, User
from models.enums import CopyRequestStatus, Level
from portal import audit, clock, policy, settings
from portal.services import notifications
from portal.services.errors import (
    N_,
    Conflict,
    NotFound,
    OutOfScope,
    RuleViolation,
    ValidationFailed,
)
from portal.services.files.common import _file_for, _hash_token, _reason, _today
from portal.services.unit import check_version, verb


@verb
def request_copy(session: Session, actor: User, file_id: Any, reason: str) -> CopyRequest:
    f = _file_for(session, actor, file_id, "file.download")
    approver_action = policy.copy_approver_action(policy.effective_level(f, _today()))
    if approver_action is None:
        raise ValidationFailed(N_("This file can be downloaded without approval."))
    req = CopyRequest(file_id=f.id, file=f, requested_by_id=actor.id, requested_at=clock.now(),
                      reason=_reason(reason), status=CopyRequestStatus.PENDING.value)
    session.add(req)
    session.flush()
    audit.record(session, actor, "file.request_copy", req,
                 after={"file_id": f.id, "reason": req.reason})
    notifications.notify(
        session, user_ids=[u.id for u in policy.users_with(session, approver_action, f)
                           if u.id != actor.id],
        kind="file.copy_request",
        message=N_("%(requester)s asks to copy file #%(file)s: copy request #%(request)s is "
                   "waiting for your decision."),
        params={"requester": actor.full_name, "file": f.id, "request": req.id}, target=req,
        dedupe_key=f"file.copy_request:{req.id}")
    return req


def _new_token(session: Session, req: CopyRequest, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    req.token_hash = _hash_token(token)
    req.expires_at = now + timedelta(minutes=float(settings.get(session,
                                                                "file.copy_link_minutes")))
    return token


@verb
def decide_copy(session: Session, actor: User, request_id: Any, approve: bool,
                note: str | None = None, expected_version: int | None = None) -> str | None:
    """Approve (→ the one-time download token, shown once) or reject a copy request.
    Top secret: holders of ``file.approve_copy_top``; secret and confidential:
    ``file.approve_copy`` on the file. Nobody decides their own request."""
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    req = session.get(CopyRequest, pk)
    if req is None:
        raise NotFound()
    f = req.file
    action = policy.copy_approver_action(policy.effective_level(f, _today()))
    if action is None or not policy.can(actor, action, f):
        raise OutOfScope(action or "file.approve_copy", ("CopyRequest", pk))
    if req.requested_by_id == actor.id:
        raise RuleViolation(N_("Nobody approves their own copy request."), rule="R-FILE-3")
    check_version(req, expected_version)
    if req.status != CopyRequestStatus.PENDING.value:
        raise Conflict(N_("This copy request was already decided."))
    now = clock.now()
    req.decided_by_id = actor.id
    req.decided_at = now
    token = None
    if approve:
        req.status = CopyRequestStatus.APPROVED.value
        token = _new_token(session, req, now)
    else:
        req.status = CopyRequestStatus.REJECTED.value
    session.flush()
    audit.record(session, actor, "file.approve_copy" if approve else "file.reject_copy", req,
                 after={"status": req.status, "file_id": f.id,
                        "expires_at": req.expires_at}, detail=note)
    notifications.notify(
        session, user_ids=[req.requested_by_id], kind="file.copy_decided",
        message=N_("Your copy request #%(request)s was approved.") if approve
        else N_("Your copy request #%(request)s was rejected."),
        params={"request": req.id}, target=req, dedupe_key=f"file.copy_decided:{req.id}")
    return token


@verb
def collect_copy(session: Session, actor: User, request_id: Any) -> str:
    """The requester collects a fresh one-time token for their approved, unused request (the
    approver's token stops working; only the newest hash is stored)."""
    try:
        pk = int(request_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    req = session.get(CopyRequest, pk)
    if req is None or req.requested_by_id != actor.id:
        if req is not None:
            raise OutOfScope("file.download", ("CopyRequest", pk))
        raise NotFound()
    _file_for(session, actor, req.file_id, "file.download")
    if req.status != CopyRequestStatus.APPROVED.value or req.used_at is not None:
        raise ValidationFailed(N_("This copy request is not approved or was already used."))
    token = _new_token(session, req, clock.now())
    audit.record(session, actor, "file.collect_copy", req)
    return token


def copy_requests_condition(actor: Any) -> Any:
    """SQL condition: the copy requests ``actor`` may see — their own, those of files they may
    read, and those they may decide (department-scoped approvers: below top secret; top-secret
    approvers: all)."""
    if not policy.scopes_for(actor, "file.view"):
        return false()
    approvable = policy.scope(select(ConfidentialFile.id), actor, ConfidentialFile,
                              "file.approve_copy").where(
        ConfidentialFile.level < Level.TOP_SECRET.value)
    approvable_top = policy.scope(select(ConfidentialFile.id), actor, ConfidentialFile,
                                  "file.approve_copy_top")
    viewable = policy.scope(select(ConfidentialFile.id), actor, ConfidentialFile, "file.view")
    return or_(CopyRequest.requested_by_id == actor.id,
               CopyRequest.file_id.in_(viewable),
               CopyRequest.file_id.in_(approvable),
               CopyRequest.file_id.in_(approvable_top))


def may_decide(actor: Any, req: CopyRequest) -> bool:
    action = policy.copy_approver_action(policy.effective_level(req.file, _today()))
    return (action is not None and req.status == CopyRequestStatus.PENDING.value
            and req.requested_by_id != getattr(actor, "id", None)
            and policy.can(actor, action, req.file))


def may_collect(actor: Any, req: CopyRequest) -> bool:
    """The requester downloads the approved copy once (R-FILE-3): approved, not yet used."""
    return req.requested_by_id == getattr(actor, "id", None) \
        and req.status == CopyRequestStatus.APPROVED.value and req.used_at is None
