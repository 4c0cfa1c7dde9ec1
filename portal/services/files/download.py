"""Confidential files, reading: details and downloads (R-FILE-2, R-FILE-3 marking)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import ConfidentialFile, CopyRequest, User
from models.enums import AuditOutcome, CopyRequestStatus, Level
from portal import audit, clock, policy, storage
from portal.services import notifications
from portal.services.errors import N_, PermissionDenied
from portal.services.files import marks
from portal.services.files.common import (
    LEVEL_NAMES,
    IntegrityFailure,
    StorageFailed,
    _file_for,
    _hash_token,
    _today,
    level_label,
)
from portal.services.files.content import _BOM, KIND_BY_CONTENT_TYPE
from portal.services.files.reads import needs_copy_approval
from portal.services.unit import verb


@verb
def view_file(session: Session, actor: User, file_id: Any) -> ConfidentialFile:
    """The file's details (metadata); every view is audited (R-FILE-6)."""
    f = _file_for(session, actor, file_id, "file.view")
    audit.record(session, actor, "file.view", f)
    return f


def _stamp(f: ConfidentialFile, content: bytes, actor: User, when: datetime,
           request: CopyRequest) -> bytes:
    level = level_label(f.level)
    who = f"{actor.username} ({actor.full_name})"
    ts = when.strftime("%Y-%m-%d %H:%M:%S UTC")
    if f.content_type.startswith("text/plain"):
        line = (f"[复制件 COPY] {level} · {who} · {ts} · 复制审批 #{request.id} · "
                f"复制件视同原件 / this copy counts as the original\n").encode()
        if content.startswith(_BOM):
            return _BOM + line + content[len(_BOM):]
        return line + content
    if f.content_type == "application/pdf":
        ascii_who = who.encode("ascii", "backslashreplace").decode()
        mark = (f"\n% COPY-MARK: copy of a {LEVEL_NAMES[Level(f.level)][0]} file for "
                f"{ascii_who} at {ts}, copy request #{request.id}; this copy counts as the "
                f"original\n")
        return content + mark.replace("\r", " ").encode("ascii", "replace")
    kind = KIND_BY_CONTENT_TYPE.get(f.content_type)
    inside = marks.mark_inside(
        kind.name if kind else "", content,
        marks.CopyMark(level=Level(policy.effective_level(f, _today())), username=actor.username,
                       full_name=actor.full_name, when=when, request_id=request.id))
    if inside is None:
        raise marks.not_markable(kind.name.upper() if kind else f.content_type)
    return inside


def download_name(f: ConfidentialFile, actor: User | None = None,
                  when: datetime | None = None) -> str:
    """The original name; a copy is marked with its level (R-FILE-5: the level is in the
    file name of every copy), who and when."""
    if actor is None:
        return f.original_name
    stem, dot, ext = f.original_name.rpartition(".")
    if not dot:
        stem, ext = f.original_name, ""
    ts = (when or clock.now()).strftime("%Y%m%dT%H%M%SZ")
    zh_level = LEVEL_NAMES[Level(policy.effective_level(f))][1]
    marked = f"{stem}_{zh_level}_复制件_{actor.username}_{ts}"
    return f"{marked}.{ext}" if ext else marked


def _read_verified(session: Session, actor: User, f: ConfidentialFile,
                   store: storage.Storage) -> bytes:
    try:
        content = store.get(f.sha256)
        if len(content) != f.size_bytes:
            raise storage.ChecksumMismatch(f.sha256, hashlib.sha256(content).hexdigest())
        return content
    except (storage.ChecksumMismatch, storage.BlobMissing) as exc:
        problem = "missing" if isinstance(exc, storage.BlobMissing) else "altered"
        file_id = f.id
        session.rollback()
        audit.record(session, actor, "file.integrity", ("ConfidentialFile", file_id),
                     outcome=AuditOutcome.ERROR.value,
                     detail=f"stored content {problem}: {exc}")
        target = session.get(ConfidentialFile, file_id)
        notifications.notify(
            session, user_ids=[u.id for u in policy.users_with(session, "file.classify", target)],
            kind="file.integrity",
            message=N_("File #%(file)s failed its integrity check: its stored content is "
                       "missing.") if problem == "missing"
            else N_("File #%(file)s failed its integrity check: its stored content was "
                    "altered."),
            params={"file": file_id}, target=target,
            dedupe_key=f"file.integrity:{file_id}:{f.sha256}:{problem}")
        session.commit()
        raise IntegrityFailure(N_("The stored content of this file failed its integrity "
                                  "check; the security administrator has been notified.")
                               ) from exc
    except storage.StorageError as exc:
        raise StorageFailed(N_("The file could not be read from storage.")) from exc


@verb
def open_download(session: Session, actor: User, file_id: Any,
                  token: str | None = None) -> tuple[ConfidentialFile, bytes, str]:
    """(file, bytes, download name). Secret and above need the token of an approved copy
    request of this user for this file (R-FILE-3); the token works once."""
    f = _file_for(session, actor, file_id, "file.download")
    now = clock.now()
    request = None
    if needs_copy_approval(f):
        if not token:
            raise PermissionDenied(
                "file.download", f,
                N_("Copying a %(level)s file needs an approved copy request."),
                rule="R-FILE-3", level=LEVEL_NAMES[Level(policy.effective_level(f, _today()))][0])
        request = session.scalar(select(CopyRequest).where(
            CopyRequest.token_hash == _hash_token(str(token)), CopyRequest.file_id == f.id,
            CopyRequest.requested_by_id == actor.id))
        if request is None or request.status != CopyRequestStatus.APPROVED.value \
                or request.used_at is not None or request.expires_at is None \
                or request.expires_at <= now:
            raise PermissionDenied("file.download", f,
                                   N_("This download link is invalid, used or expired."),
                                   rule="R-FILE-3")
        used = session.execute(
            update(CopyRequest)
            .where(CopyRequest.id == request.id, CopyRequest.used_at.is_(None),
                   CopyRequest.status == CopyRequestStatus.APPROVED.value)
            .values(used_at=now, status=CopyRequestStatus.USED.value,
                    version=CopyRequest.version + 1)
            .execution_options(synchronize_session=False))
        if used.rowcount != 1:
            raise PermissionDenied("file.download", f,
                                   N_("This download link is invalid, used or expired."),
                                   rule="R-FILE-3")
        session.refresh(request)
    content = _read_verified(session, actor, f, storage.current())
    name = f.original_name
    if request is not None:
        content = _stamp(f, content, actor, now, request)
        name = download_name(f, actor, now)
    audit.record(session, actor, "file.download", f,
                 detail=(f"copy request #{request.id}, marked copy" if request else None),
                 after={"download_name": name, "sha256": f.sha256})
    return f, content, name
