"""The grants matrix of the security administrator (issue 15, R-ROLE-5, R-ROLE-2, R-ROLE-3)."""

from __future__ import annotations

import json

from sqlalchemy import select

from models import Grant
from portal import policy
from portal.services import grant_matrix
from tests.admin.conftest import audit_seq, entries_since, fingerprint


def test_R_ROLE_5_finance_may_read_complaints_in_one_save_next_request(session, world,
                                                                        clients):
    sec, fin = clients["secadmin"], clients["finance"]
    assert fin.get("/admin/complaint/").status_code == 403
    page = sec.get("/admin/grant/matrix/?role=finance").get_data(as_text=True)
    assert "财务信用主管" in page and "客户投诉" in page and "查看投诉" in page
    assert "complaint.view</td>" not in page
    expected = grant_matrix.fingerprint(grant_matrix.current(session, "finance"))

    preview = sec.post("/admin/grant/matrix/preview/", data={
        "role": "finance", "expected": expected, "scope:complaint.view": "all",
        "scope:complaint_detail.view": "all", "scope:credit.view": "all"})
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "将修改财务信用主管的 2 项权限" in html
    assert fin.get("/admin/complaint/").status_code == 403  # a preview changes nothing

    mark = audit_seq()
    resp = sec.post("/admin/grant/matrix/apply/", data={
        "role": "finance", "expected": expected, "scope:complaint.view": "all",
        "scope:complaint_detail.view": "all"})
    assert resp.status_code == 302
    entries = entries_since(mark)
    assert [e.action for e in entries] == ["grant.matrix_change"]
    assert entries[0].target_type == "Role" and entries[0].target_id == "finance"
    assert json.loads(entries[0].before) == {"complaint.view": "none",
                                             "complaint_detail.view": "none"}
    assert json.loads(entries[0].after) == {"complaint.view": "all",
                                            "complaint_detail.view": "all"}
    assert fin.get("/admin/complaint/").status_code == 200  # the next request


def test_R_ROLE_3_auditor_cells_locked_and_writes_refused(session, world, clients):
    sec = clients["secadmin"]
    html = sec.get("/admin/grant/matrix/?role=auditor").get_data(as_text=True)
    assert 'name="scope:customer.change"' not in html and "fa-lock" in html and "审计员只读" in html
    state = fingerprint()
    resp = sec.post("/admin/grant/matrix/apply/", data={"role": "auditor",
                                                       "scope:customer.change": "all"},
                    follow_redirects=True)
    assert resp.status_code == 200 and "alert" in resp.get_data(as_text=True)
    assert fingerprint() == state


def test_R_ROLE_2_sysadmin_cannot_get_grant_change(session, world, clients):
    sec = clients["secadmin"]
    state = fingerprint()
    sec.post("/admin/grant/matrix/apply/", data={"role": "sysadmin",
                                                "scope:grant.change": "all"})
    sec.post("/admin/grant/matrix/apply/", data={"role": "sysadmin",
                                                "scope:file.read_all_levels": "all"})
    assert fingerprint() == state


def test_R_ROLE_5_stale_preview_is_refused(session, world, clients):
    sec = clients["secadmin"]
    stale = grant_matrix.fingerprint(grant_matrix.current(session, "sales"))
    grant_matrix.apply_role(session, world.secadmin, "sales", {"report.export": "own"})
    state = fingerprint()
    resp = sec.post("/admin/grant/matrix/apply/", data={
        "role": "sales", "expected": stale, "scope:customer.export": "none"},
        follow_redirects=True)
    assert "预览" in resp.get_data(as_text=True) or "someone else" in resp.get_data(
        as_text=True)
    assert fingerprint() == state


def test_R_ROLE_5_matrix_refused_for_other_roles(world, clients):
    sysadmin = clients["sysadmin"]
    state = fingerprint()
    assert sysadmin.get("/admin/grant/matrix/?role=sales").status_code == 403
    assert sysadmin.post("/admin/grant/matrix/apply/", data={
        "role": "sales", "scope:customer.export": "none"}).status_code == 403
    assert fingerprint() == state


def test_overview_is_roles_by_areas_in_chinese(world, clients):
    html = clients["secadmin"].get("/admin/grant/matrix/").get_data(as_text=True)
    for text in ("销售顾问", "审计员", "客户档案", "涉密文件", "全部"):
        assert text in html
    clients["secadmin"].get("/lang/en")
    html = clients["secadmin"].get("/admin/grant/matrix/?role=sales").get_data(as_text=True)
    assert "Salesperson" in html and "View customers" in html and "销售顾问" not in html


def test_removing_scope_takes_the_permission_away(session, world):
    grant_matrix.apply_role(session, world.secadmin, "sales", {"customer.export": "none"})
    session.expire_all()
    assert session.scalar(select(Grant).where(Grant.role == "sales",
                                              Grant.action == "export",
                                              Grant.area == "customer")) is None
    assert not policy.can(world.sales1, "customer.export")


def test_R_ROLE_2_auditors_audit_read_is_a_locked_cell(session, world, clients):
    sec = clients["secadmin"]
    html = sec.get("/admin/grant/matrix/?role=secauditor").get_data(as_text=True)
    assert 'name="scope:audit.view"' not in html and "不能收窄" in html
    state = fingerprint()
    resp = sec.post("/admin/grant/matrix/apply/", data={"role": "secauditor",
                                                       "scope:audit.view": "own"},
                    follow_redirects=True)
    assert "不能收窄" in resp.get_data(as_text=True)
    assert fingerprint() == state
