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

from portal.services.files.classification import extend_secrecy, reclassify, tick
from portal.services.files.common import (
    DEFAULT_SECRECY_YEARS,
    LEVEL_NAMES,
    IntegrityFailure,
    StorageFailed,
    default_secrecy_until,
    level_label,
)
from portal.services.files.content import (
    DANGEROUS_EXTENSIONS,
    KIND_BY_CONTENT_TYPE,
    KINDS,
    OOXML_MAIN,
    FileKind,
    check_filename,
    sniff,
)
from portal.services.files.copies import (
    collect_copy,
    copy_requests_condition,
    decide_copy,
    may_collect,
    may_decide,
    request_copy,
)
from portal.services.files.demo_files import DEMO_MARKER, load_demo_files
from portal.services.files.download import (
    download_name,
    open_download,
    view_file,
)
from portal.services.files.marks import CopyMark, CopyNotMarkable, mark_inside
from portal.services.files.reads import (
    DIRECT,
    NEEDS_COPY_APPROVAL,
    declassified_sql,
    download_mode,
    download_path,
    effective_level,
    effective_level_sql,
    is_declassified,
    needs_copy_approval,
)
from portal.services.files.reconciliation import ReconcileReport, reconcile
from portal.services.files.scope import (
    add_scope_member,
    change_responsible_manager,
    drop_memberships,
    manager_candidates,
    may_change_manager,
    may_name_scope,
    may_remove_members,
    remove_scope_member,
)
from portal.services.files.upload import upload_file

__all__ = [
    "DIRECT",
    "NEEDS_COPY_APPROVAL",
    "declassified_sql",
    "download_mode",
    "download_path",
    "effective_level",
    "effective_level_sql",
    "is_declassified",
    "CopyMark",
    "CopyNotMarkable",
    "DANGEROUS_EXTENSIONS",
    "DEFAULT_SECRECY_YEARS",
    "DEMO_MARKER",
    "FileKind",
    "IntegrityFailure",
    "KINDS",
    "KIND_BY_CONTENT_TYPE",
    "LEVEL_NAMES",
    "OOXML_MAIN",
    "ReconcileReport",
    "StorageFailed",
    "add_scope_member",
    "change_responsible_manager",
    "drop_memberships",
    "manager_candidates",
    "may_change_manager",
    "may_remove_members",
    "remove_scope_member",
    "check_filename",
    "collect_copy",
    "copy_requests_condition",
    "decide_copy",
    "default_secrecy_until",
    "download_name",
    "extend_secrecy",
    "level_label",
    "load_demo_files",
    "may_collect",
    "may_decide",
    "mark_inside",
    "may_name_scope",
    "needs_copy_approval",
    "open_download",
    "reclassify",
    "reconcile",
    "request_copy",
    "sniff",
    "tick",
    "upload_file",
    "view_file",
]
