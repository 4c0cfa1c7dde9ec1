"""The portal pages for files: upload form limited to the clearance, lists showing only
readable files, details views audited, copy approval end to end, the classification register
for the security administrator only (R-FILE-1..6)."""

from __future__ import annotations

import io
import re

from sqlalchemy import select

from models import AuditEntry, ConfidentialFile, CopyRequest
from models.enums import Level
from portal import policy
from tests.files.conftest import PDF, TEXT


def _options(html: str, name: str) -> list[str]:
    select_html = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select_html, name
    return re.findall(r'<option[^>]*value="([^"]*)"', select_html.group(1))


def test_R_FILE_1_upload_form_offers_levels_up_to_the_clearance(cleared, session, login,
                                                                storage_root):
    w = cleared
    client = login(w.sales1)  # clearance: secret
    page = client.get("/admin/file/upload/")
    assert page.status_code == 200
    assert _options(page.get_data(as_text=True), "level") == ["0", "1", "2"]
    customer = w.customers["sales1"][0]
    resp = client.post("/admin/file/upload/", data={
        "title": "合同扫描", "level": "2", "customer_id": str(customer.id),
        "file": (io.BytesIO(TEXT), "合同.txt")}, content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    f = session.scalar(select(ConfidentialFile))
    assert (f.title, f.level, f.customer_id, f.uploaded_by_id) == (
        "合同扫描", Level.SECRET, customer.id, w.sales1.id)
    # a forged level above the clearance is refused (the select would not offer it)
    resp = client.post("/admin/file/upload/", data={
        "level": "4", "file": (io.BytesIO(PDF), "x.pdf")}, content_type="multipart/form-data")
    assert resp.status_code == 200
    # a renamed HTML file is refused with a message, nothing stored
    resp = client.post("/admin/file/upload/", data={
        "level": "0", "file": (io.BytesIO(b"<html><script>x</script></html>"), "a.txt")},
        content_type="multipart/form-data")
    assert resp.status_code == 200
    assert len(session.scalars(select(ConfidentialFile)).all()) == 1


def test_R_FILE_3_copy_approval_through_the_portal(cleared, session, upload, login):
    w = cleared
    f = upload(w.sales1, Level.SECRET, content=TEXT, name="合同.txt",
               customer_id=w.customers["sales1"][0].id)
    sales = login(w.sales1)
    details = sales.get(f"/admin/file/details/?id={f.id}").get_data(as_text=True)
    assert "/admin/file/request-copy/" in details and f"/files/{f.id}/download" not in details
    assert sales.post(f"/admin/file/request-copy/?id={f.id}",
                      data={"reason": "签约需要"}).status_code == 302
    req = session.scalar(select(CopyRequest))
    # another salesperson cannot see the request or the file
    other = login(w.sales2)
    assert other.get(f"/admin/copyrequest/details/?id={req.id}").status_code == 404
    assert other.get(f"/admin/file/details/?id={f.id}").status_code == 404
    manager = login(w.manager)
    page = manager.get(f"/admin/copyrequest/details/?id={req.id}").get_data(as_text=True)
    assert "/admin/copyrequest/decide/" in page
    assert manager.post(f"/admin/copyrequest/decide/?id={req.id}&approve=1",
                        data={"note": "", "version": str(req.version)}).status_code == 302
    session.refresh(req)
    assert req.status == "approved"
    page = sales.get(f"/admin/copyrequest/details/?id={req.id}").get_data(as_text=True)
    assert "/admin/copyrequest/collect/" in page
    resp = sales.post(f"/admin/copyrequest/collect/?id={req.id}", data={})
    assert resp.status_code == 302 and "token=" in resp.headers["Location"]
    download = sales.get(resp.headers["Location"])
    assert download.status_code == 200 and download.data.endswith(TEXT)
    assert sales.get(resp.headers["Location"]).status_code == 403  # once


def test_R_FILE_6_details_views_are_audited(cleared, session, upload, login):
    w = cleared
    f = upload(w.sales1, Level.INTERNAL, customer_id=w.customers["sales1"][0].id)
    client = login(w.sales1)
    assert client.get(f"/admin/file/details/?id={f.id}").status_code == 200
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "file.view"))
    assert entry.actor_id == w.sales1.id and entry.target_id == str(f.id)


def test_R_FILE_5_classification_register_is_for_the_security_administrator(cleared, session,
                                                                            upload, login):
    w = cleared
    public = upload(w.gm, Level.PUBLIC, name="公开.txt", title="公开通知")
    secret = upload(w.gm, Level.TOP_SECRET, name="绝密.txt", title="绝密计划")
    sec = login(w.secadmin)
    listing = sec.get("/admin/file/").get_data(as_text=True)
    assert "公开通知" in listing and "绝密计划" not in listing  # reads no classified content
    assert "/admin/file/register/" in listing
    register = sec.get("/admin/file/register/").get_data(as_text=True)
    assert "绝密计划" in register and f"/admin/file/reclassify/?id={secret.id}" in register
    assert sec.get(f"/files/{secret.id}/download").status_code == 404
    assert sec.get(f"/admin/file/details/?id={secret.id}").status_code == 404
    resp = sec.post(f"/admin/file/reclassify/?id={secret.id}",
                    data={"level": "3", "reason": "保密委员会审定", "version": str(secret.version)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/file/register/")
    session.refresh(secret)
    assert secret.level == Level.CONFIDENTIAL
    for user in (w.gm, w.manager, w.sales1, w.sysadmin, w.auditor):
        c = login(user)
        assert c.get("/admin/file/register/").status_code in (302, 403)
        assert c.post(f"/admin/file/reclassify/?id={secret.id}",
                      data={"level": "0", "reason": "x"}).status_code in (302, 403, 404)
    session.refresh(secret)
    assert secret.level == Level.CONFIDENTIAL and public.level == Level.PUBLIC


def test_R_FILE_1_each_role_lists_only_readable_files(cleared, session, upload, login):
    w = cleared
    mine = upload(w.sales1, Level.SECRET, title="销售一秘密",
                  customer_id=w.customers["sales1"][0].id)
    top = upload(w.gm, Level.TOP_SECRET, title="总经理绝密")
    internal = upload(w.gm, Level.INTERNAL, title="内部通知")
    expected = {
        # a standalone internal file needs no knowledge scope: all active staff read it
        w.sales1: {"销售一秘密", "内部通知"},
        w.sales2: {"内部通知"},
        w.gm: {"销售一秘密", "总经理绝密", "内部通知"},
        w.auditor: {"内部通知"},
        w.secadmin: {"内部通知"},
    }
    for user, titles in expected.items():
        html = login(user).get("/admin/file/").get_data(as_text=True)
        seen = {t for t in ("销售一秘密", "总经理绝密", "内部通知") if t in html}
        assert seen == titles, user.username
        readable = {f.title for f in (mine, top, internal)
                    if policy.can(user, "file.view", f)}
        assert seen == readable, user.username
