"""Confidential files (保密文件): upload, knowledge scope, copy approval, download,
reclassification and the secrecy period (R-FILE-1 … R-FILE-6).

- Upload: the type is decided by the content's magic bytes (PDF, PNG, JPEG, GIF, DOCX/XLSX
  recognised by their ``[Content_Types].xml``, UTF-8 plain text without NUL or markup), never
  by the name or the client's content type. The name must agree with the content; names with
  control characters, path parts or a dangerous inner extension are refused. The name is kept
  only as data: the blob is stored under its SHA-256 (``portal.storage``). The blob is written
  (temp → fsync → rename) before the row is committed; if the commit fails the new blob is
  removed again unless a committed row references it. Refused uploads store nothing and leave
  one 'denied' audit entry.
- Download: no read up (``policy.can`` → ``policy.can_read_file``) on every call; files whose
  level in force is secret or above need an approved copy request (R-FILE-3) and its one-time,
  short-lived token (only the token's SHA-256 is stored; using it marks the request used).
  Every copy is marked with who and when: in the download name, and for text files by a header
  line, for PDF files by a trailing PDF comment after ``%%EOF`` (comments are legal there and
  ignored by readers; the original bytes are untouched, so the mark cannot break the file).
  Copies carry the level of the original (复制件视同原件).
- The content is verified against its checksum on every read; a mismatch refuses the
  download, is audited with outcome 'error' and notifies the security administrators.
- The secrecy period (保密期限) is derived at read time (``policy.effective_level``); ``tick``
  records the declassification once (FileLevelChange + audit + notification).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import false, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    ConfidentialFile,
    CopyRequest,
    Customer,
    FileLevelChange,
    FileScopeMember,
    Notification,
    User,
)
from models.enums import AuditOutcome, CopyRequestStatus, Level
from portal import audit, clock, policy, settings, storage
from portal.services import notifications
from portal.services.errors import (
    N_,
    Conflict,
    DomainError,
    NotFound,
    OutOfScope,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from portal.services.unit import check_version, load, verb

LEVEL_NAMES = {
    Level.PUBLIC: ("public", "公开"),
    Level.INTERNAL: ("internal", "内部"),
    Level.SECRET: ("secret", "秘密"),
    Level.CONFIDENTIAL: ("confidential", "机密"),
    Level.TOP_SECRET: ("top secret", "绝密"),
}
# 保密法: without a specific period, 绝密 ≤ 30 years, 机密 ≤ 20 years, 秘密 ≤ 10 years.
DEFAULT_SECRECY_YEARS = {Level.SECRET: 10, Level.CONFIDENTIAL: 20, Level.TOP_SECRET: 30}


class StorageFailed(DomainError):
    """The store could not keep or return the bytes; nothing was saved."""

    code = "storage"


class IntegrityFailure(DomainError):
    """The stored content no longer matches its checksum (R-FILE-5)."""

    code = "integrity"


def level_label(level: int) -> str:
    en, zh = LEVEL_NAMES[Level(level)]
    return f"{zh} ({en})"


# ---------------------------------------------------------------------------------------------
# Content and name checks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    name: str
    content_type: str
    extensions: tuple[str, ...]


KINDS = {
    "pdf": FileKind("pdf", "application/pdf", ("pdf",)),
    "png": FileKind("png", "image/png", ("png",)),
    "jpeg": FileKind("jpeg", "image/jpeg", ("jpg", "jpeg")),
    "gif": FileKind("gif", "image/gif", ("gif",)),
    "docx": FileKind("docx", "application/vnd.openxmlformats-officedocument."
                     "wordprocessingml.document", ("docx",)),
    "xlsx": FileKind("xlsx", "application/vnd.openxmlformats-officedocument."
                     "spreadsheetml.sheet", ("xlsx",)),
    "text": FileKind("text", "text/plain; charset=utf-8", ("txt", "csv", "md", "log")),
}
KIND_BY_CONTENT_TYPE = {k.content_type: k for k in KINDS.values()}

DANGEROUS_EXTENSIONS = frozenset({
    "exe", "com", "bat", "cmd", "scr", "pif", "msi", "msp", "dll", "cpl", "sys", "js", "jse",
    "mjs", "vbs", "vbe", "wsf", "wsh", "ps1", "psm1", "sh", "bash", "zsh", "csh", "php", "php3",
    "php4", "php5", "php7", "phtml", "phar", "jsp", "jspx", "asp", "aspx", "cer", "cgi", "pl",
    "py", "pyc", "rb", "html", "htm", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml",
    "xsl", "hta", "jar", "class", "swf", "lnk", "reg", "inf", "docm", "xlsm", "pptm", "dotm",
    "xltm", "app", "apk", "deb", "rpm", "iso", "img", "vhd",
})
_MARKUP = re.compile(rb"<\s*[!?/]?\s*[a-z][^>]*>|<\s*!--|<\?|<!\[cdata\[", re.IGNORECASE)
_SCRIPTY = re.compile(rb"javascript\s*:|vbscript\s*:|data\s*:\s*text/html", re.IGNORECASE)
_BOM = b"\xef\xbb\xbf"
OOXML_MAIN = {
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
             "word/document.xml"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
             "xl/workbook.xml"),
}


def _refuse(message: str, field_name: str = "content", **params: Any) -> ValidationFailed:
    return ValidationFailed(message, field=field_name, **params)


def _ooxml_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            try:
                info = zf.getinfo("[Content_Types].xml")
            except KeyError:
                return None
            if info.file_size > 1_000_000:
                return None
            types = zf.read(info).decode("utf-8", "replace")
            names = set(zf.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError,
            RuntimeError, ValueError):
        return None
    if any("vbaproject" in n.lower() or n.lower().endswith(".bin") and "activex" in n.lower()
           for n in names):
        return None  # macro-enabled documents are refused
    for kind, (main_type, part) in OOXML_MAIN.items():
        if main_type in types and part in names:
            return kind
    return None


def _plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text):
        return False
    if body.lstrip().startswith(b"#!"):
        return False  # a script
    return not (_MARKUP.search(body) or _SCRIPTY.search(body))


def sniff(data: bytes) -> FileKind:
    """The file's type from its magic bytes; refuse anything outside the allowlist."""
    if not data:
        raise _refuse(N_("The file is empty."))
    if data.startswith(b"%PDF-"):
        return KINDS["pdf"]
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return KINDS["png"]
    if data.startswith(b"\xff\xd8\xff"):
        return KINDS["jpeg"]
    if data.startswith((b"GIF87a", b"GIF89a")):
        return KINDS["gif"]
    if data.startswith(b"PK\x03\x04"):
        kind = _ooxml_kind(data)
        if kind:
            return KINDS[kind]
        raise _refuse(N_("Only Word (.docx) and Excel (.xlsx) documents are accepted among "
                         "packaged files."))
    if _plain_text(data):
        return KINDS["text"]
    raise _refuse(N_("This type of file is not accepted (PDF, PNG, JPEG, GIF, DOCX, XLSX and "
                     "plain UTF-8 text are)."))


def check_filename(name: Any) -> tuple[str, str]:
    """(clean name, lower-case extension or '') or a refusal. The name is data only: it never
    becomes a path."""
    if not isinstance(name, str) or not name.strip():
        raise _refuse(N_("A file name is required."), "filename")
    name = unicodedata.normalize("NFC", name)
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") for ch in name):
        raise _refuse(N_("The file name contains control characters."), "filename")
    name = name.strip()
    if "/" in name or "\\" in name or ":" in name or name in (".", "..") or ".." in name:
        raise _refuse(N_("The file name may not contain a path."), "filename")
    if name.startswith(".") or name.rstrip(". ") != name:
        raise _refuse(N_("The file name may not start or end with a dot."), "filename")
    if len(name) > 180:
        raise _refuse(N_("The file name is too long."), "filename")
    parts = name.split(".")
    ext = parts[-1].lower() if len(parts) > 1 else ""
    inner = [p.strip().lower() for p in parts[1:-1]]
    if ext in DANGEROUS_EXTENSIONS or any(p in DANGEROUS_EXTENSIONS for p in inner):
        raise _refuse(N_("The file name has a forbidden extension."), "filename")
    return name, ext


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _today() -> date:
    return clock.today()


def _level(value: Any, field_name: str = "level") -> int:
    if value is None or value == "":
        raise ValidationFailed(N_("The classification level is required."), field=field_name)
    try:
        level = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Unknown classification level."), field=field_name) from None
    if not Level.PUBLIC <= level <= Level.TOP_SECRET:
        raise ValidationFailed(N_("Unknown classification level."), field=field_name)
    return level


def _date(value: Any, field_name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(N_("Invalid date."), field=field_name) from None


def _add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def default_secrecy_until(level: int, today: date | None = None) -> date | None:
    years = DEFAULT_SECRECY_YEARS.get(Level(level))
    return _add_years(today or _today(), years) if years else None


def _reason(reason: Any) -> str:
    text = (reason or "").strip() if isinstance(reason, str) else ""
    if not text:
        raise ValidationFailed(N_("A reason is required."), field="reason")
    return text[:2000]


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _get_file(session: Session, file_id: Any) -> ConfidentialFile:
    """The file with this id, no policy check; a missing or malformed id is NotFound."""
    try:
        pk = int(file_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not -(2**31) <= pk < 2**31:  # beyond the integer column: no such row, not a 500
        raise NotFound()
    f = session.get(ConfidentialFile, pk)
    if f is None:
        raise NotFound()
    return f


def _file_for(session: Session, actor: Any, file_id: Any, action: str) -> ConfidentialFile:
    """Load a file the actor may ``action`` (row scope AND no read up for reads); anything else
    is NotFound (audited as denied when the file exists)."""
    f = _get_file(session, file_id)
    if not policy.can(actor, action, f) or (
            action in ("file.view", "file.download", "file.export")
            and not policy.can_read_file(actor, f, _today())):
        raise OutOfScope(action, ("ConfidentialFile", f.id))
    return f


def _default_manager(session: Session, f: ConfidentialFile, actor: User) -> int | None:
    """The responsible manager of a new file: the uploader if they manage its scope, else a
    department-scoped holder of ``file.manage_scope`` in the file's department."""
    if policy.can(actor, "file.manage_scope", f) and \
            "all" not in policy.scopes_for(actor, "file.manage_scope"):
        return actor.id
    for u in policy.users_with(session, "file.manage_scope", f):
        if u.department_id == f.department_id and \
                "all" not in policy.scopes_for(u, "file.manage_scope"):
            return u.id
    return None


# ---------------------------------------------------------------------------------------------
# Upload
# ---------------------------------------------------------------------------------------------


@dataclass
class _Pending:
    keys: list[str] = field(default_factory=list)


def _record_refusal(session: Session, actor: Any, action: str, exc: DomainError,
                    target: Any = None, outcome: str = AuditOutcome.DENIED.value) -> None:
    session.rollback()
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
                            rule="R-FILE-1", field="level")
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


# ---------------------------------------------------------------------------------------------
# Reading: details and downloads
# ---------------------------------------------------------------------------------------------


@verb
def view_file(session: Session, actor: User, file_id: Any) -> ConfidentialFile:
    """The file's details (metadata); every view is audited (R-FILE-6)."""
    f = _file_for(session, actor, file_id, "file.view")
    audit.record(session, actor, "file.view", f)
    return f


def needs_copy_approval(f: ConfidentialFile, today: date | None = None) -> bool:
    return policy.copy_approver_action(policy.effective_level(f, today or _today())) is not None


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
    return content


def download_name(f: ConfidentialFile, actor: User | None = None,
                  when: datetime | None = None) -> str:
    """The original name; a copy is marked with who and when."""
    if actor is None:
        return f.original_name
    stem, dot, ext = f.original_name.rpartition(".")
    if not dot:
        stem, ext = f.original_name, ""
    ts = (when or clock.now()).strftime("%Y%m%dT%H%M%SZ")
    marked = f"{stem}_复制件_{actor.username}_{ts}"
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


# ---------------------------------------------------------------------------------------------
# Copy approval (R-FILE-3)
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Classification (R-FILE-4, R-FILE-5)
# ---------------------------------------------------------------------------------------------


def _classify_target(session: Session, actor: User, file_id: Any) -> ConfidentialFile:
    f = _get_file(session, file_id)
    if not policy.can(actor, "file.classify", f):
        raise PermissionDenied("file.classify", f)
    return f


@verb
def reclassify(session: Session, actor: User, file_id: Any, new_level: Any, reason: str,
               expected_version: int | None = None) -> ConfidentialFile:
    """Change the level mark: only holders of ``file.classify`` (the security administrator),
    with a reason; audited (R-FILE-5)."""
    f = _classify_target(session, actor, file_id)
    check_version(f, expected_version)
    level = _level(new_level)
    why = _reason(reason)
    if level == f.level and policy.effective_level(f, _today()) == f.level:
        raise ValidationFailed(N_("The file already has this level."), field="level")
    before = {"level": f.level, "secrecy_until": f.secrecy_until}
    from_level = policy.effective_level(f, _today())
    f.level = level
    if level >= Level.SECRET:
        if f.secrecy_until is None or f.secrecy_until <= _today():
            f.secrecy_until = default_secrecy_until(level)
        f.declassified_at = None
    else:
        f.secrecy_until = None
    session.add(FileLevelChange(file_id=f.id, kind="reclassify", from_level=from_level,
                                to_level=level, new_secrecy_until=f.secrecy_until,
                                changed_by_id=actor.id, changed_at=clock.now(), reason=why))
    session.flush()
    audit.record(session, actor, "file.reclassify", f, before=before,
                 after={"level": f.level, "secrecy_until": f.secrecy_until}, detail=why)
    return f


@verb
def extend_secrecy(session: Session, actor: User, file_id: Any, until: Any, reason: str,
                   expected_version: int | None = None) -> ConfidentialFile:
    """Extend the secrecy period (保密期限) of a classified file, with a reason (R-FILE-4)."""
    f = _classify_target(session, actor, file_id)
    check_version(f, expected_version)
    new_until = _date(until, "secrecy_until")
    why = _reason(reason)
    if f.level < Level.SECRET:
        raise ValidationFailed(N_("Only classified files have a secrecy period."),
                               field="secrecy_until")
    if new_until is None or new_until <= _today() or (
            f.secrecy_until is not None and new_until <= f.secrecy_until):
        raise ValidationFailed(N_("The new end date must be later than the current one and in "
                                  "the future."), field="secrecy_until")
    before = {"secrecy_until": f.secrecy_until, "declassified_at": f.declassified_at}
    from_level = policy.effective_level(f, _today())
    f.secrecy_until = new_until
    f.declassified_at = None
    session.add(FileLevelChange(file_id=f.id, kind="extend", from_level=from_level,
                                to_level=f.level, new_secrecy_until=new_until,
                                changed_by_id=actor.id, changed_at=clock.now(), reason=why))
    session.flush()
    audit.record(session, actor, "file.extend_secrecy", f, before=before,
                 after={"secrecy_until": new_until}, detail=why)
    return f


def tick(session: Session, now: datetime) -> dict[str, int]:
    """Record the automatic declassification of files whose secrecy period has passed (once
    per file and end date: FileLevelChange + audit + notifications). Commits."""
    today = now.astimezone(clock.COMPANY_TZ).date()
    due = session.scalars(select(ConfidentialFile).where(
        ConfidentialFile.level >= Level.SECRET.value,
        ConfidentialFile.secrecy_until.is_not(None),
        ConfidentialFile.secrecy_until < today,
        ConfidentialFile.declassified_at.is_(None)).order_by(ConfidentialFile.id)).all()
    count = 0
    for f in due:
        key = f"file.declassify:{f.id}:{f.secrecy_until.isoformat()}"
        f.declassified_at = now
        if session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
            continue
        session.add(FileLevelChange(file_id=f.id, kind="declassify", from_level=f.level,
                                    to_level=Level.PUBLIC.value, changed_by_id=None,
                                    changed_at=now,
                                    reason=f"secrecy period ended {f.secrecy_until}"))
        audit.record(session, None, "file.declassify", f,
                     before={"level": f.level, "secrecy_until": f.secrecy_until},
                     after={"effective_level": Level.PUBLIC.value},
                     detail="secrecy period ended (R-FILE-4)", actor_name="scheduler")
        notifications.notify(
            session, user_ids=[None, *sorted({f.uploaded_by_id, f.responsible_manager_id}
                                             - {None})],
            kind="file.declassify",
            message=N_("File #%(file)s was declassified: its secrecy period ended."),
            params={"file": f.id}, target=f, dedupe_key=key, now=now)
        count += 1
    session.commit()
    return {"file.declassify": count}


# ---------------------------------------------------------------------------------------------
# Knowledge scope (R-FILE-2)
# ---------------------------------------------------------------------------------------------


def may_name_scope(actor: Any, f: ConfidentialFile, today: date | None = None) -> bool:
    """Who adds people to a file's knowledge scope: secret → its owner chain or holders of
    ``file.manage_scope``; confidential → the responsible manager; top secret → holders of
    ``file.name_top_secret`` (the general manager)."""
    level = policy.effective_level(f, today or _today())
    if level <= Level.INTERNAL:
        return False
    if level == Level.SECRET:
        return policy.can(actor, "file.in_chain", f) or policy.can(actor, "file.manage_scope", f)
    if level == Level.CONFIDENTIAL:
        return bool(policy.scopes_for(actor, "file.view")) and not policy.is_read_only(actor) \
            and f.responsible_manager_id == getattr(actor, "id", None)
    return policy.can(actor, "file.name_top_secret", f)


@verb
def add_scope_member(session: Session, actor: User, file_id: Any,
                     user_id: Any) -> FileScopeMember:
    f = _get_file(session, file_id)
    if not may_name_scope(actor, f):
        if policy.effective_level(f, _today()) <= Level.INTERNAL and \
                policy.can(actor, "file.view", f):
            raise ValidationFailed(N_("Public and internal files need no knowledge scope."))
        raise PermissionDenied("file.manage_scope", f)
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Unknown user."), field="user_id") from None
    member = session.get(User, uid)
    if member is None or not member.is_active:
        raise ValidationFailed(N_("Unknown user."), field="user_id")
    if int(member.clearance or 0) < policy.effective_level(f, _today()):
        raise RuleViolation(N_("%(user)s's clearance is below the file's level."),
                            rule="R-FILE-1", field="user_id", user=member.username)
    if session.scalar(select(FileScopeMember.id).where(FileScopeMember.file_id == f.id,
                                                       FileScopeMember.user_id == uid)):
        raise ValidationFailed(N_("%(user)s is already in the knowledge scope."),
                               field="user_id", user=member.username)
    m = FileScopeMember(file_id=f.id, user_id=uid, added_by_id=actor.id, added_at=clock.now())
    session.add(m)
    session.flush()
    session.expire(f, ["scope_members"])
    audit.record(session, actor, "file.add_scope_member", f, after={"user_id": uid,
                                                                     "user": member.username})
    return m


# ---------------------------------------------------------------------------------------------
# Reconciliation (storage ↔ rows)
# ---------------------------------------------------------------------------------------------


@dataclass
class ReconcileReport:
    orphans: list[str] = field(default_factory=list)  # blobs without a row
    missing: list[int] = field(default_factory=list)  # rows whose content is missing
    altered: list[int] = field(default_factory=list)  # rows whose content fails its checksum
    temp_files: list[str] = field(default_factory=list)  # partial writes
    deleted: int = 0
    checked_rows: int = 0

    @property
    def clean(self) -> bool:
        return not (self.orphans or self.missing or self.altered or self.temp_files)


def reconcile(session: Session, store: storage.Storage | None = None, *,
              delete: bool = False) -> ReconcileReport:
    """Compare the store with the rows. With ``delete``, orphan blobs and leftover temporary
    files are removed (rows are never touched). The run is audited."""
    store = store or storage.current()
    report = ReconcileReport()
    referenced: dict[str, list[tuple[int, int]]] = {}
    for fid, sha, size in session.execute(select(ConfidentialFile.id, ConfidentialFile.sha256,
                                                 ConfidentialFile.size_bytes)
                                          .order_by(ConfidentialFile.id)):
        referenced.setdefault(sha, []).append((fid, size))
    for key in store.iter_keys():
        if key not in referenced:
            report.orphans.append(key)
    for sha, rows in referenced.items():
        for fid, size in rows:
            report.checked_rows += 1
            try:
                data = store.get(sha)
            except storage.BlobMissing:
                report.missing.append(fid)
                continue
            except (storage.ChecksumMismatch, ValueError):
                report.altered.append(fid)
                continue
            if len(data) != size:
                report.altered.append(fid)
    iter_temp = getattr(store, "iter_temp", None)
    if iter_temp is not None:
        report.temp_files = [str(p) for p in iter_temp()]
    if delete:
        for key in report.orphans:
            # re-check: an upload may have committed its row since the scan
            if session.scalar(select(ConfidentialFile.id)
                              .where(ConfidentialFile.sha256 == key).limit(1)) is None:
                store.delete(key)
                report.deleted += 1
        for path in report.temp_files:
            try:
                os.unlink(path)
                report.deleted += 1
            except OSError:
                pass
    audit.record(session, None, "file.reconcile", None, actor_name="console",
                 outcome=AuditOutcome.OK.value,
                 detail=(f"rows {report.checked_rows}, orphans {len(report.orphans)}, "
                         f"missing {len(report.missing)}, altered {len(report.altered)}, "
                         f"temp {len(report.temp_files)}, deleted {report.deleted}"))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
    return report


# ---------------------------------------------------------------------------------------------
# Demo files (called at the end of ``portal.demo.load``; idempotent)
# ---------------------------------------------------------------------------------------------

DEMO_MARKER = "公司简介（公开）"


def _demo_pdf(title: str) -> bytes:
    text = title.encode("ascii", "replace").decode()
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    return (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
            b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Contents 4 0 R >>\nendobj\n"
            + f"4 0 obj\n<< /Length {len(stream)} >>\nstream\n".encode() + stream
            + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def _demo_docx(text: str) -> bytes:
    buf = io.BytesIO()
    main = OOXML_MAIN["docx"][0]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml",
                    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                    'openxmlformats.org/package/2006/content-types"><Default Extension="xml" '
                    'ContentType="application/xml"/><Override PartName="/word/document.xml" '
                    f'ContentType="{main}"/></Types>')
        zf.writestr("word/document.xml",
                    '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://'
                    'schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p>'
                    f"<w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>")
    return buf.getvalue()


def load_demo_files(session: Session) -> int:
    """A few classified demo files, one per level, uploaded through ``upload_file`` by the demo
    staff (so they are stored, checksummed and audited like any upload), an expired secrecy
    period recorded by ``tick``, and a pending copy request. Returns how many were added."""
    if session.scalar(select(ConfidentialFile.id).where(ConfidentialFile.title == DEMO_MARKER)):
        return 0
    staff = {u.username: u for u in session.scalars(select(User).where(
        User.username.in_(["sales1", "manager1", "gm"])))}
    if len(staff) != 3:
        return 0
    sales1, manager, gm = staff["sales1"], staff["manager1"], staff["gm"]
    customers = session.scalars(select(Customer).where(Customer.owner_id == sales1.id)
                                .order_by(Customer.id).limit(2)).all()
    if not customers:
        return 0
    first, second = customers[0], customers[-1]
    soon = _today() + timedelta(days=30)
    specs = [
        (gm, Level.PUBLIC, DEMO_MARKER, "company-profile.pdf",
         _demo_pdf("Company profile (public)"), {}),
        (manager, Level.INTERNAL, "2025年度销售政策（内部）", "销售政策.txt",
         "2025年度销售政策：展厅轮流接待，首访原则，老带新归属接待人。\n".encode(),
         {"department_id": manager.department_id}),
        (sales1, Level.SECRET, f"{first.name} 购车合同（秘密）", "购车合同.pdf",
         _demo_pdf("Purchase contract (secret)"), {"customer_id": first.id}),
        (manager, Level.CONFIDENTIAL, f"{first.name} 授信评估报告（机密）", "授信评估报告.docx",
         _demo_docx("授信评估报告：A级，建议临时授信。"), {"customer_id": first.id}),
        (gm, Level.TOP_SECRET, "集团战略合作协议（绝密）", "战略合作协议.pdf",
         _demo_pdf("Strategic cooperation agreement (top secret)"), {}),
        (sales1, Level.SECRET, f"{second.name} 报价单（秘密，已过保密期限）", "报价单.txt",
         "报价单：车型 A6L，优惠 3 万元。\n".encode(),
         {"customer_id": second.id, "secrecy_until": soon}),
    ]
    made: list[ConfidentialFile] = []
    for actor, level, title, name, content, extra in specs:
        made.append(upload_file(session, actor, {"title": title, "level": int(level), **extra},
                                content, name))
    expired = made[-1]
    expired.secrecy_until = _today() - timedelta(days=5)
    session.commit()
    tick(session, clock.now())
    request_copy(session, sales1, made[2].id, "客户要求提供合同副本用于贷款审批")
    return len(made)
