"""Confidential files: upload (R-FILE-1)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ConfidentialFile, Customer, User
from models.enums import AuditOutcome, Level
from portal import audit, clock, policy, settings, storage
from portal.services.errors import (
    N_,
    DomainError,
    NotFound,
    OutOfScope,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from portal.services.files.common import (
    StorageFailed,
    _date,
    _default_manager,
    _level,
    _today,
    default_secrecy_until,
)
from portal.services.files.content import check_filename, sniff
from portal.services.unit import load, verb


@dataclass
class _Pending:
    keys: list[str] = field(default_factory=list)


def _record_refusal(session: Session, actor: Any, action: str, exc: DomainError,
                    target: Any = None, outcome: str = AuditOutcome.DENIED.value) -> None:
    session.rollback()
    if getattr(exc, "audited", False):
        return  # @verb recorded it already (R-AUD-4: exactly one entry)
    audit.record(session, actor, action, target, outcome=outcome,
                 detail=exc.translated()[:500])
    session.commit()


def _discard_unreferenced(session: Session, store: storage.Storage, keys: list[str]) -> None:
    for key in keys:
        try:
            used = session.scalar(select(ConfidentialFile.id)
                                  .where(ConfidentialFile.sha256 == key).limit(1))
        except Exception:  # the database is gone: leave it to the reconciler
            session.rollback()
            continue
        if used is None:
            store.delete(key)


def upload_file(session: Session, actor: User, data: dict[str, Any], content: bytes,
                filename: str) -> ConfidentialFile:
    """Store ``content`` as a new confidential file. ``data``: title, level (required),
    customer_id, department_id, responsible_manager_id, secrecy_until (date; defaults to the
    statutory maximum for classified levels)."""
    store = storage.current()
    pending = _Pending()
    try:
        return _upload(session, actor, data, content, filename, store, pending)
    except (PermissionDenied, OutOfScope):
        raise  # @verb recorded the denied entry
    except (ValidationFailed, RuleViolation, NotFound) as exc:
        _discard_unreferenced(session, store, pending.keys)
        _record_refusal(session, actor, "file.upload", exc)
        raise
    except StorageFailed as exc:
        _record_refusal(session, actor, "file.upload", exc, outcome=AuditOutcome.ERROR.value)
        raise
    except BaseException:
        session.rollback()
        _discard_unreferenced(session, store, pending.keys)
        raise


def _check_quota(session: Session, actor: User, incoming: int) -> None:
    """Each person's uploads share a quota (settings ``file.user_quota_mb``), so one account
    cannot fill the storage (security campaign E)."""
    from sqlalchemy import func

    quota_mb = float(settings.get(session, "file.user_quota_mb"))
    used = session.scalar(select(func.coalesce(func.sum(ConfidentialFile.size_bytes), 0))
                          .where(ConfidentialFile.uploaded_by_id == actor.id)) or 0
    if used + incoming > quota_mb * 1024 * 1024:
        raise ValidationFailed(N_("Your upload quota of %(quota)s MB is used up."),
                               field="content", quota=f"{quota_mb:g}")


@verb
def _upload(session: Session, actor: User, data: dict[str, Any], content: bytes,
            filename: str, store: storage.Storage, pending: _Pending) -> ConfidentialFile:
    if not policy.can(actor, "file.upload"):
        raise PermissionDenied("file.upload", ConfidentialFile)
    data = dict(data or {})
    if not isinstance(content, bytes | bytearray):
        raise ValidationFailed(N_("No file content."), field="content")
    content = bytes(content)
    limit_mb = float(settings.get(session, "file.max_upload_mb"))
    if len(content) > limit_mb * 1024 * 1024:
        raise ValidationFailed(N_("The file is larger than %(limit)s MB."), field="content",
                               limit=f"{limit_mb:g}")
    _check_quota(session, actor, len(content))
    name, ext = check_filename(filename)
    kind = sniff(content)
    if ext and ext not in kind.extensions:
        raise ValidationFailed(N_("The file name (.%(ext)s) does not match its content "
                                  "(%(kind)s)."), field="filename", ext=ext, kind=kind.name)
    if not ext:
        name = f"{name}.{kind.extensions[0]}"
    level = _level(data.get("level"))
    if level > int(actor.clearance or 0):
        raise RuleViolation(N_("You cannot upload a file above your own clearance."),
                            rule="R-FILE-1", field="level", audit_action="file.upload")
    title = str(data.get("title") or "").strip() or name.rsplit(".", 1)[0]
    customer = None
    if data.get("customer_id") not in (None, ""):
        customer = load(session, actor, Customer, data["customer_id"], "file.upload")
    department_id = data.get("department_id") or (customer.department_id if customer else None) \
        or actor.department_id
    until = _date(data.get("secrecy_until"), "secrecy_until")
    if level >= Level.SECRET:
        until = until or default_secrecy_until(level)
        if until <= _today():
            raise ValidationFailed(N_("The secrecy period must end in the future."),
                                   field="secrecy_until")
    else:
        until = None

    f = ConfidentialFile(
        title=title[:200], customer=customer, customer_id=customer.id if customer else None,
        department_id=int(department_id) if department_id else None, level=level,
        original_name=name, content_type=kind.content_type, size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(), uploaded_by_id=actor.id,
        uploaded_at=clock.now(), secrecy_until=until)
    manager_id = data.get("responsible_manager_id")
    if manager_id not in (None, ""):
        manager = session.get(User, int(manager_id))
        if manager is None or not manager.is_active or \
                not policy.can(manager, "file.manage_scope", f):
            raise ValidationFailed(N_("The responsible manager must manage this file's "
                                      "department."), field="responsible_manager_id")
        f.responsible_manager_id = manager.id
    else:
        f.responsible_manager_id = _default_manager(session, f, actor)

    # The blob first (temp → fsync → rename), then the row; @verb commits.
    existed = store.exists(f.sha256)
    try:
        key = store.put(content)
    except storage.StorageError as exc:
        raise StorageFailed(N_("The file could not be stored; nothing was saved.")) from exc
    if not existed:
        pending.keys.append(key)
    session.add(f)
    session.flush()
    audit.record(session, actor, "file.upload", f,
                 after=audit.snapshot(f, ["title", "level", "original_name", "content_type",
                                          "size_bytes", "sha256", "customer_id",
                                          "department_id", "responsible_manager_id",
                                          "secrecy_until"]))
    return f
