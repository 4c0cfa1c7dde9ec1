"""Uploads: content-addressed storage, type by magic bytes, malicious uploads refused with
nothing stored and no temporary file left (security E), level ≤ clearance (R-FILE-1)."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from models import AuditEntry, ConfidentialFile, Setting
from models.enums import Level
from portal import clock, settings, storage
from portal.services import files
from portal.services.errors import DomainError, PermissionDenied, RuleViolation, ValidationFailed
from tests.files.conftest import DOCX, GIF, JPEG, PDF, PNG, TEXT, ooxml, storage_files, xlsx


def _audit_mark(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))


def _entries_since(session, mark: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.seq > mark)
                                .order_by(AuditEntry.seq)))


@pytest.mark.parametrize(("content", "name", "kind"), [
    (PDF, "合同.pdf", "pdf"), (PNG, "scan.png", "png"), (JPEG, "id-copy.jpg", "jpeg"),
    (JPEG, "id-copy.JPEG", "jpeg"), (GIF, "logo.gif", "gif"), (DOCX, "报告.docx", "docx"),
    (None, "额度.xlsx", "xlsx"), (TEXT, "notes.txt", "text"), (b"a,b\n1,2\n", "t.csv", "text"),
    (TEXT, "no-extension", "text"), (b"\xef\xbb\xbfBOM text\n", "bom.txt", "text"),
])
def test_R_FILE_5_accepted_types_are_recognised_by_content(world, session, upload, storage_root,
                                                          content, name, kind):
    content = content if content is not None else xlsx()
    f = upload(world.gm, Level.INTERNAL, content=content, name=name)
    assert f.content_type == files.KINDS[kind].content_type
    assert f.sha256 == hashlib.sha256(content).hexdigest()
    assert f.size_bytes == len(content)
    assert f.original_name.startswith(name)
    if kind == "text" and name == "no-extension":
        assert f.original_name == "no-extension.txt"
    # generated storage name: the digest, never the user's name
    stored = storage_files(storage_root)
    assert stored == [f"{f.sha256[:2]}/{f.sha256[2:4]}/{f.sha256}"]
    assert storage.current().get(f.sha256) == content


def test_R_FILE_5_same_content_is_stored_once_and_audited(world, session, upload,
                                                        storage_root):
    mark = _audit_mark(session)
    a = upload(world.gm, Level.INTERNAL, content=PDF, name="a.pdf")
    b = upload(world.gm, Level.PUBLIC, content=PDF, name="b.pdf")
    assert a.sha256 == b.sha256 and a.id != b.id
    assert len(storage_files(storage_root)) == 1
    entries = _entries_since(session, mark)
    assert [(e.action, e.actor_id, e.outcome) for e in entries] == [
        ("file.upload", world.gm.id, "ok"), ("file.upload", world.gm.id, "ok")]


def _svg() -> bytes:
    return (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
            b"<script>alert(document.cookie)</script></svg>")


MALICIOUS = [
    ("double extension", PDF, "invoice.pdf.exe"),
    ("inner dangerous extension", PDF, "invoice.php.pdf"),
    ("html extension", TEXT, "page.html"),
    ("NUL in name", PDF, "invoice.pdf\x00.exe"),
    ("NUL before extension", TEXT, "notes\x00.txt"),
    ("RTL override", TEXT, "report\u202etxt.exe"),
    ("trailing dot", PDF, "invoice.pdf."),
    ("hidden file", TEXT, ".htaccess"),
    ("traversal", TEXT, "../../etc/passwd.txt"),
    ("absolute path", TEXT, "/etc/notes.txt"),
    ("backslash traversal", TEXT, "..\\..\\boot.txt"),
    ("windows drive", TEXT, "C:\\notes.txt"),
    ("alternate stream", TEXT, "notes.txt:evil"),
    ("empty name", TEXT, ""),
    ("wrong magic (exe named pdf)", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "invoice.pdf"),
    ("wrong magic (elf named png)", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8, "logo.png"),
    ("text named pdf", TEXT, "contract.pdf"),
    ("pdf named png", PDF, "scan.png"),
    ("html renamed txt", b"<html><body><script>alert(1)</script></body></html>", "a.txt"),
    ("html fragment renamed txt", b"hello <img src=x onerror=alert(1)>", "a.txt"),
    ("svg renamed png", _svg(), "logo.png"),
    ("svg renamed txt", _svg(), "logo.txt"),
    ("javascript url", b"click javascript:alert(1)", "a.txt"),
    ("shell script renamed txt", b"#!/bin/sh\nrm -rf /\n", "run.txt"),
    ("php renamed txt", b"<?php system($_GET['c']); ?>", "x.txt"),
    ("binary with NUL named txt", b"abc\x00def", "x.txt"),
    ("latin-1 text", "caf\xe9".encode("latin-1"), "x.txt"),
    ("plain zip", ooxml("application/zip", "data.bin"), "x.docx"),
    ("macro document", ooxml("application/vnd.openxmlformats-officedocument."
                             "wordprocessingml.document.main+xml", "word/document.xml",
                             {"word/vbaProject.bin": b"\x00macro"}), "x.docx"),
    ("docx named xlsx", DOCX, "x.xlsx"),
    ("empty file", b"", "empty.txt"),
]


@pytest.mark.parametrize(("why", "content", "name"), MALICIOUS, ids=[m[0] for m in MALICIOUS])
def test_R_FILE_5_malicious_upload_refused_nothing_stored(world, session, upload, storage_root,
                                                         why, content, name):
    mark = _audit_mark(session)
    with pytest.raises(ValidationFailed):
        upload(world.gm, Level.INTERNAL, content=content, name=name)
    assert session.scalar(select(func.count()).select_from(ConfidentialFile)) == 0
    assert storage_files(storage_root) == []  # no blob, no temporary file
    entries = _entries_since(session, mark)
    assert [(e.action, e.outcome) for e in entries] == [("file.upload", "denied")]


def test_R_FILE_5_oversize_refused_nothing_stored(world, session, upload, storage_root):
    session.get(Setting, "file.max_upload_mb").value = "1"
    session.commit()
    settings.forget(session)
    with pytest.raises(ValidationFailed) as exc:
        upload(world.gm, Level.INTERNAL, content=b"x" * (1024 * 1024 + 1), name="big.txt")
    assert exc.value.field == "content"
    assert storage_files(storage_root) == []
    assert session.scalar(select(func.count()).select_from(ConfidentialFile)) == 0
    f = upload(world.gm, Level.INTERNAL, content=b"x" * (1024 * 1024), name="ok.txt")
    assert f.size_bytes == 1024 * 1024


def test_R_FILE_1_level_is_required_and_not_above_clearance(world, session, upload,
                                                           storage_root):
    with pytest.raises(ValidationFailed) as exc:
        files.upload_file(session, world.sales1, {"title": "x"}, TEXT, "x.txt")
    assert exc.value.field == "level"
    with pytest.raises(ValidationFailed):
        upload(world.sales1, 7)
    # sales1's clearance is internal: secret is above it
    mark = _audit_mark(session)
    with pytest.raises(RuleViolation) as exc:
        upload(world.sales1, Level.SECRET, customer_id=world.customers["sales1"][0].id)
    assert exc.value.rule == "R-FILE-1"
    assert [(e.action, e.outcome) for e in _entries_since(session, mark)] == [
        ("file.upload", "denied")]
    assert storage_files(storage_root) == []
    f = upload(world.sales1, Level.INTERNAL, customer_id=world.customers["sales1"][0].id)
    assert f.level == Level.INTERNAL and f.customer_id == world.customers["sales1"][0].id


def test_R_FILE_1_upload_needs_the_grant_and_the_customer_in_scope(world, session, upload,
                                                                  storage_root):
    with pytest.raises(PermissionDenied):
        upload(world.sysadmin, Level.PUBLIC)
    with pytest.raises(DomainError):  # another salesperson's customer: not found for sales1
        upload(world.sales1, Level.PUBLIC, customer_id=world.customers["sales2"][0].id)
    with pytest.raises(DomainError):  # auditors never write
        upload(world.auditor, Level.PUBLIC)
    assert storage_files(storage_root) == []
    assert session.scalar(select(func.count()).select_from(ConfidentialFile)) == 0


def test_R_FILE_4_classified_upload_gets_a_secrecy_period(world, session, upload):
    with clock.frozen(datetime(2026, 11, 25, 2, 0, tzinfo=UTC)):   # 10:00 in company time
        f = upload(world.gm, Level.TOP_SECRET)
    assert f.secrecy_until == date(2056, 11, 25)  # 绝密: 30 years by default
    g = upload(world.gm, Level.INTERNAL, secrecy_until="2030-01-01")
    assert g.secrecy_until is None
    with pytest.raises(ValidationFailed):
        upload(world.gm, Level.SECRET, secrecy_until="2000-01-01")


def test_R_FILE_4_a_secrecy_period_from_29_february_ends_on_28_february(world, session,
                                                                         upload):
    """Uploaded on 29 February, a 绝密 file's 30 years end on 28 February of a common year
    (this test used to compute the expected date with date.replace, which raises that day)."""
    with clock.frozen(datetime(2028, 2, 29, 2, 0, tzinfo=UTC)):
        f = upload(world.gm, Level.TOP_SECRET)
    assert f.secrecy_until == date(2058, 2, 28)


def test_upload_quota_per_person_refuses_and_stores_nothing(world, session, upload,
                                                            storage_root):
    session.add(Setting(key="file.user_quota_mb", value="1"))
    session.commit()
    settings.forget(session)
    upload(world.gm, Level.INTERNAL, content=b"a" * (600 * 1024), name="first.txt")
    stored = storage_files(storage_root)
    with pytest.raises(ValidationFailed) as exc:
        upload(world.gm, Level.INTERNAL, content=b"b" * (600 * 1024), name="second.txt")
    assert exc.value.field == "content" and "quota" in exc.value.message
    assert storage_files(storage_root) == stored
    assert session.scalar(select(func.count()).select_from(ConfidentialFile)) == 1
    # the quota is per person: someone else still uploads
    upload(world.manager, Level.INTERNAL, content=b"c" * (600 * 1024), name="theirs.txt")
