"""Downloads (security E) and copy approval (R-FILE-3), details views and refusals audited
(R-FILE-6), checksum verified on every read (R-FILE-5)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from models import AuditEntry, CopyRequest, Notification
from models.enums import Level
from portal import clock, storage
from portal.services import files
from portal.services.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from tests.files.conftest import PDF, TEXT


def _mark(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))


def _since(session, mark: int) -> list[tuple[str, str, int | None]]:
    return [(e.action, e.outcome, e.actor_id) for e in session.scalars(
        select(AuditEntry).where(AuditEntry.seq > mark).order_by(AuditEntry.seq))]


def test_R_FILE_6_public_download_headers_and_audit(cleared, session, upload, login):
    w = cleared
    f = upload(w.sales1, Level.INTERNAL, content=TEXT, name="客户报告.txt",
               customer_id=w.customers["sales1"][0].id)
    mark = _mark(session)
    resp = login(w.sales1).get(f"/files/{f.id}/download")
    assert resp.status_code == 200
    assert resp.data == TEXT
    assert resp.headers["Content-Type"] == "text/plain; charset=utf-8"
    cd = resp.headers["Content-Disposition"]
    assert cd.startswith("attachment; filename=")
    assert f"filename*=UTF-8''{quote('客户报告.txt')}" in cd
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in resp.headers["Cache-Control"]
    entries = _since(session, mark)
    assert ("file.download", "ok", w.sales1.id) in entries
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "file.download"))
    assert entry.remote_addr and entry.request_id  # from where, which request


def test_R_FILE_6_other_peoples_ids_look_missing_and_are_audited(cleared, session, upload,
                                                                 login):
    w = cleared
    f = upload(w.sales1, Level.INTERNAL, customer_id=w.customers["sales1"][0].id)
    client = login(w.sales2)
    mark = _mark(session)
    other = client.get(f"/files/{f.id}/download")
    missing = client.get("/files/999999/download")
    assert other.status_code == missing.status_code == 404
    assert other.data == missing.data
    assert _since(session, mark) == [("file.download", "denied", w.sales2.id)]
    with pytest.raises(NotFound):
        files.view_file(session, w.sales2, f.id)
    # the owner's details view is audited as a metadata read
    mark = _mark(session)
    assert files.view_file(session, w.sales1, f.id).id == f.id
    assert _since(session, mark) == [("file.view", "ok", w.sales1.id)]


def test_R_FILE_6_anonymous_download_is_sent_to_login(cleared, upload, client):
    f = upload(cleared.gm, Level.PUBLIC)
    resp = client.get(f"/files/{f.id}/download")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_R_FILE_6_storage_folder_is_never_served(cleared, upload, login, app):
    f = upload(cleared.gm, Level.PUBLIC)
    c = login(cleared.gm)
    for url in (f"/static/{f.sha256}", f"/storage/{f.sha256}",
                f"/static/../instance/storage/{f.sha256[:2]}/{f.sha256[2:4]}/{f.sha256}"):
        assert c.get(url).status_code == 404


def _secret_file(w, upload, content=TEXT, name="contract.txt", level=Level.SECRET):
    return upload(w.sales1, level, content=content, name=name,
                  customer_id=w.customers["sales1"][0].id)


def test_R_FILE_3_secret_copy_needs_department_manager_approval(cleared, session, upload, login):
    w = cleared
    f = _secret_file(w, upload)
    client = login(w.sales1)
    mark = _mark(session)
    resp = client.get(f"/files/{f.id}/download")
    assert resp.status_code == 403
    assert _since(session, mark) == [("file.download", "denied", w.sales1.id)]
    with pytest.raises(ValidationFailed):
        files.request_copy(session, w.sales1, f.id, "  ")
    req = files.request_copy(session, w.sales1, f.id, "客户签约需要")
    # the department manager is told
    assert session.scalar(select(Notification).where(
        Notification.user_id == w.manager.id, Notification.kind == "file.copy_request"))
    # another department's manager cannot decide it; it looks missing
    with pytest.raises(NotFound):
        files.decide_copy(session, w.manager2, req.id, True)
    # nobody decides their own request; the requester cannot approve anyway
    with pytest.raises(NotFound):
        files.decide_copy(session, w.sales1, req.id, True)
    token = files.decide_copy(session, w.manager, req.id, True)
    assert token and req.token_hash != token and len(req.token_hash) == 64
    assert session.scalar(select(func.count()).select_from(CopyRequest)
                          .where(CopyRequest.token_hash == token)) == 0  # only the hash
    with pytest.raises(Conflict):
        files.decide_copy(session, w.manager, req.id, False)
    # someone else cannot use the requester's token
    assert login(w.supervisor).get(f"/files/{f.id}/download?token={token}").status_code == 403
    with clock.frozen(clock.now() + timedelta(seconds=5)):
        resp = client.get(f"/files/{f.id}/download?token={token}")
    assert resp.status_code == 200
    # marked copy: who and when, in the name and the content; counts as the original
    assert "sales1" in resp.headers["Content-Disposition"]
    first_line = resp.data.split(b"\n", 1)[0].decode()
    assert "sales1" in first_line and "秘密" in first_line and "UTC" in first_line
    assert resp.data.endswith(TEXT)
    # used once
    assert client.get(f"/files/{f.id}/download?token={token}").status_code == 403
    session.refresh(req)
    assert req.status == "used" and req.used_at is not None


def test_R_FILE_3_token_expires(cleared, session, upload):
    w = cleared
    f = _secret_file(w, upload)
    req = files.request_copy(session, w.sales1, f.id, "备案")
    token = files.decide_copy(session, w.manager, req.id, True)
    with clock.frozen(clock.now() + timedelta(minutes=11)), pytest.raises(PermissionDenied):
        files.open_download(session, w.sales1, f.id, token=token)
    # the requester may collect a fresh one-time token for the unused approval
    fresh = files.collect_copy(session, w.sales1, req.id)
    assert fresh != token
    with pytest.raises(PermissionDenied):  # the old one no longer works
        files.open_download(session, w.sales1, f.id, token=token)
    _, content, name = files.open_download(session, w.sales1, f.id, token=fresh)
    assert content.endswith(TEXT) and "sales1" in name


def test_R_FILE_3_rejected_request_gives_nothing(cleared, session, upload):
    w = cleared
    f = _secret_file(w, upload)
    req = files.request_copy(session, w.sales1, f.id, "备案")
    assert files.decide_copy(session, w.manager, req.id, False) is None
    assert req.status == "rejected" and req.token_hash is None
    with pytest.raises(ValidationFailed):
        files.collect_copy(session, w.sales1, req.id)


def test_R_FILE_3_top_secret_needs_the_general_manager(cleared, session, upload, login):
    w = cleared
    f = upload(w.manager, Level.TOP_SECRET, content=PDF, name="plan.pdf")
    files.add_scope_member(session, w.gm, f.id, w.manager.id)
    req = files.request_copy(session, w.manager, f.id, "董事会材料")
    with pytest.raises(NotFound):  # a department manager may not approve top secret
        files.decide_copy(session, w.manager2, req.id, True)
    token = files.decide_copy(session, w.gm, req.id, True)
    resp = login(w.manager).get(f"/files/{f.id}/download?token={token}")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.data.startswith(PDF)  # the original bytes are untouched
    tail = resp.data[len(PDF):].decode()
    assert "COPY-MARK" in tail and "manager1" in tail and "top secret" in tail
    assert tail.startswith("\n%")  # a PDF comment after %%EOF
    # the general manager cannot approve their own request
    own = files.request_copy(session, w.gm, f.id, "自用")
    with pytest.raises(RuleViolation):
        files.decide_copy(session, w.gm, own.id, True)


def test_R_FILE_3_public_files_need_no_request(cleared, session, upload):
    f = upload(cleared.gm, Level.PUBLIC)
    with pytest.raises(ValidationFailed):
        files.request_copy(session, cleared.gm, f.id, "x")


def test_R_FILE_3_head_does_not_consume_the_token(cleared, session, upload, login):
    w = cleared
    f = _secret_file(w, upload)
    req = files.request_copy(session, w.sales1, f.id, "备案")
    token = files.decide_copy(session, w.manager, req.id, True)
    client = login(w.sales1)
    assert client.head(f"/files/{f.id}/download?token={token}").status_code == 405
    assert client.get(f"/files/{f.id}/download?token={token}").status_code == 200


def test_R_FILE_5_altered_content_is_refused_and_reported(cleared, session, upload, login):
    w = cleared
    f = upload(w.gm, Level.INTERNAL, content=TEXT, name="a.txt")
    path = storage.current().path_for(f.sha256)
    path.write_bytes(TEXT.replace(b"100", b"900"))
    client = login(w.gm)
    mark = _mark(session)
    resp = client.get(f"/files/{f.id}/download")
    assert resp.status_code == 409
    assert _since(session, mark) == [("file.integrity", "error", w.gm.id)]
    assert session.scalar(select(Notification).where(Notification.user_id == w.secadmin.id,
                                                     Notification.kind == "file.integrity"))
    path.unlink()
    with pytest.raises(files.IntegrityFailure):
        files.open_download(session, w.gm, f.id)
