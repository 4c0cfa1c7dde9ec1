"""What users see and may do in the portal: row scopes, hidden fields, 404 for other people's
ids, read-only auditors, exports, grant edits and 三员分立."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from admin_views.base import ScopedModelView, neutralise
from models import Complaint, Customer, Grant, RoleAssignment
from models.enums import AuditOutcome
from portal.extensions import db
from tests.admin.conftest import audit_seq, entries_since, fingerprint
from tests.factories import make_customer

MISSING = "987654"


def _codes(body: str, world) -> set[str]:
    every = [c for cs in world.customers.values() for c in cs]
    return {c.code for c in every if c.code in body}


def _codes_of(world, *usernames: str) -> set[str]:
    return {c.code for u in usernames for c in world.customers[u]}


# ------------------------------------------------------------------ (d) scoped lists
def test_R_ROLE_1_customer_lists_follow_the_row_scope(world, clients):
    def listed(role: str) -> set[str]:
        resp = clients[role].get("/admin/customer/?page_size=100")
        assert resp.status_code == 200
        return _codes(resp.get_data(as_text=True), world)

    assert listed("sales") == _codes_of(world, "sales1")
    assert listed("supervisor") == _codes_of(world, "sales1", "sales2")
    assert listed("dept_manager") == _codes_of(world, "sales1", "sales2", "sales3")
    assert listed("general_manager") == _codes_of(world, "sales1", "sales2", "sales3", "sales4")


def test_R_ROLE_1_counts_and_search_are_scoped(world, clients):
    other = world.customers["sales3"][0]
    resp = clients["sales"].get(f"/admin/customer/?search={other.name}")
    assert other.code not in resp.get_data(as_text=True)
    home = clients["sales"].get("/admin/").get_data(as_text=True)
    assert 'data-count="2"' in home  # my customers


def test_R_ROLE_1_finance_sees_no_phone_column(world, clients):
    body = clients["finance"].get("/admin/customer/?page_size=100").get_data(as_text=True)
    assert _codes(body, world) == _codes_of(world, "sales1", "sales2", "sales3", "sales4")
    for c in world.customers["sales1"]:
        assert c.phone not in body
    assert "电话" not in body.split("<tbody>")[0]
    # searching by a phone number must not work as an oracle either
    phone = world.customers["sales1"][0].phone
    body = clients["finance"].get(f"/admin/customer/?search={phone}").get_data(as_text=True)
    assert world.customers["sales1"][0].code not in body
    # details page too
    cid = world.customers["sales1"][0].id
    body = clients["finance"].get(f"/admin/customer/details/?id={cid}").get_data(as_text=True)
    assert world.customers["sales1"][0].phone not in body


# ------------------------------------------------------------------ (b) other people's ids
@pytest.mark.parametrize("method,path,data", [
    ("GET", "/admin/customer/details/?id={id}", None),
    ("GET", "/admin/customer/edit/?id={id}", None),
    ("POST", "/admin/customer/edit/?id={id}", {"name": "x", "version": "1"}),
    ("POST", "/admin/customer/ajax/update/", {"list_form_pk": "{id}", "importance": "A"}),
    ("POST", "/admin/customer/delete/", {"id": "{id}"}),
    ("GET", "/admin/customer/follow-up/?ids={id}", None),
])
def test_R_ROLE_1_other_peoples_ids_answer_like_missing_ones(world, clients, method, path,
                                                             data):
    c = clients["sales"]
    c.get("/admin/")  # the sign-in notice (R-ROLE-6) is flashed once, on the first page
    theirs = world.customers["sales2"][0]
    before = fingerprint()

    def call(ident: str):
        body = {k: v.format(id=ident) for k, v in (data or {}).items()}
        return c.open(path.format(id=ident), method=method, data=body)

    mark = audit_seq()
    other = call(str(theirs.id))
    missing = call(MISSING)
    assert other.status_code == missing.status_code
    assert other.status_code in (403, 404)
    assert other.get_data() == missing.get_data()
    assert fingerprint() == before
    if other.status_code == 404:
        denied = [e for e in entries_since(mark) if e.outcome == AuditOutcome.DENIED.value]
        assert len(denied) == 1 and denied[0].target_id == str(theirs.id)


def test_own_record_is_reachable(world, clients):
    mine = world.customers["sales1"][0]
    resp = clients["sales"].get(f"/admin/customer/details/?id={mine.id}")
    assert resp.status_code == 200 and mine.code in resp.get_data(as_text=True)
    assert clients["sales"].get("/admin/customer/details/?id=abc").status_code == 404


# ------------------------------------------------------------------ (c) auditors
# POST endpoints that only read: the chain check of the audit log (R-AUD-2) may be run by the
# auditors it is for; it records that it ran, nothing else.
READS_THAT_POST = {("AuditEntry", "verify_view")}


def _write_attempts(app, world):
    """Every write route of every view: (method, path, data)."""
    admin = app.extensions["admin"][0]
    customer = world.customers["sales1"][0]
    attempts = []
    for view in admin._views:
        if not isinstance(view, ScopedModelView):
            continue
        row = db.session.scalars(select(view.model).limit(1)).first()
        pk = getattr(row, view._pk_column().key) if row is not None else MISSING
        if view.model is Customer:
            pk = customer.id
        base = view.url
        attempts += [
            ("GET", f"{base}/new/", None),
            ("POST", f"{base}/new/", {"name": "audited", "code": "X1", "value": "1"}),
            ("GET", f"{base}/edit/?id={pk}", None),
            ("POST", f"{base}/edit/?id={pk}", {"name": "changed", "version": "1",
                                               "value": "99"}),
            ("POST", f"{base}/delete/", {"id": str(pk)}),
            ("POST", f"{base}/ajax/update/", {"list_form_pk": str(pk), "importance": "A"}),
        ]
        for name, _text in view._actions:
            attempts.append(("POST", f"{base}/action/", {"action": name, "rowid": str(pk)}))
        for endpoint in view.endpoint_verbs:
            if endpoint in ("create_view", "delete_view", "ajax_lookup"):
                continue
            rule = next(r for r in app.url_map.iter_rules()
                        if r.endpoint == f"{view.endpoint}.{endpoint}")
            if "POST" not in rule.methods:
                continue  # a page (month grid, HR list …): a read, not a write attempt
            if (view.model.__name__, endpoint) in READS_THAT_POST:
                continue
            ops = getattr(view, "operations", ())
            query = f"?id={pk}&ids={pk}" + (f"&op={ops[0].name}" if ops else "")
            attempts.append(("POST", rule.rule + query,
                             {"reason": "x", "kind": "call", "new_owner": "1", "op": "grant",
                              "role": "sysadmin", "new_password": "Another-passw0rd!"}))
    return attempts


def test_R_ROLE_3_auditor_write_attempts_are_refused_and_logged(app, world, clients):
    from tests.factories import make_customer as _mk  # noqa: F401

    attempts = _write_attempts(app, world)
    assert len(attempts) > 60
    for role in ("auditor", "secauditor"):
        c = clients[role]
        for method, path, data in attempts:
            if role == "secauditor" and path.startswith("/admin/pendingaction/"):
                continue  # the one write of the security auditor: confirming another
                # administrator's two-person request (R-ROLE-2, policy.READ_ONLY_EXEMPT)
            before = fingerprint()
            mark = audit_seq()
            resp = c.open(path, method=method, data=data)
            assert resp.status_code == 403, (role, method, path, resp.status_code)
            assert fingerprint() == before, (role, method, path)
            denied = [e for e in entries_since(mark)]
            assert len(denied) == 1 and denied[0].outcome == AuditOutcome.DENIED.value, \
                (role, method, path, [(e.action, e.outcome) for e in denied])


def test_R_ROLE_3_auditor_reads_every_page_without_write_buttons(app, world, clients):
    c = clients["auditor"]
    for path in ("/admin/customer/", "/admin/complaint/", "/admin/creditline/",
                 "/admin/receptionrecord/", "/admin/user/", "/admin/auditentry/"):
        resp = c.get(path, follow_redirects=True)   # the audit log opens its page for people
        assert resp.status_code == 200, path
        body = resp.get_data(as_text=True)
        assert "/new/" not in body and "/edit/" not in body and 'id="delete_form' not in body
        assert "x-editable" not in body or "data-role=\"x-editable\"" not in body
    cid = world.customers["sales4"][0].id
    body = c.get(f"/admin/customer/details/?id={cid}").get_data(as_text=True)
    # no edit link and no follow-up action (the 回访记录 tab itself is a read)
    assert "/edit/" not in body and "/follow-up/" not in body


# ------------------------------------------------------------------ (e) export
def test_export_neutralises_formulas_and_keeps_visible_columns_only(world, clients, session):
    make_customer(session, world.sales1, name="=HYPERLINK(\"http://evil\")", phone="+8613800000000")
    make_customer(session, world.sales1, name="@SUM(A1:A9)")
    session.commit()
    resp = clients["general_manager"].get("/admin/customer/export/csv/")
    assert resp.status_code == 200
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    names = {r[1] for r in rows[1:]}
    assert "'=HYPERLINK(\"http://evil\")" in names and "'@SUM(A1:A9)" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    assert "'+8613800000000" in {r[3] for r in rows[1:]}
    assert len(rows) - 1 == session.query(Customer).count()

    fin = clients["finance"].get("/admin/customer/export/csv/")
    frows = list(csv.reader(io.StringIO(fin.get_data(as_text=True).lstrip("\ufeff"))))
    header = frows[0]
    assert "电话" not in header and "统一社会信用代码" not in header and "地址" not in header
    assert not any(world.customers["sales1"][0].phone in cell for r in frows for cell in r)

    sales = clients["sales"].get("/admin/customer/export/csv/").get_data(as_text=True)
    assert world.customers["sales2"][0].code not in sales
    assert world.customers["sales1"][0].code in sales


def test_neutralise() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("\tx") == "'\tx"
    assert neutralise("normal") == "normal"
    assert neutralise(None) == ""


# ------------------------------------------------------------------ (f) grants
def test_R_ROLE_5_secadmin_grant_change_applies_next_request_and_is_audited(world, clients):
    finance = clients["finance"]
    assert finance.get("/admin/complaint/").status_code == 403
    mark = audit_seq()
    resp = clients["secadmin"].post("/admin/grant/new/", data={
        "role": "finance", "action": "complaint.view", "scope": "all"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-2000:]
    assert finance.get("/admin/complaint/").status_code == 200
    added = [e for e in entries_since(mark) if e.action == "grant.add"]
    assert len(added) == 1 and "complaint" in added[0].after

    # widening a scope: sales see every customer on their next request
    grant = db.session.scalar(select(Grant).where(Grant.role == "sales",
                                                  Grant.area == "customer",
                                                  Grant.action == "view"))
    resp = clients["secadmin"].post(f"/admin/grant/edit/?id={grant.id}",
                                    data={"scope": "all", "version": str(grant.version)})
    assert resp.status_code == 302
    body = clients["sales"].get("/admin/customer/?page_size=100").get_data(as_text=True)
    assert world.customers["sales4"][0].code in body
    assert any(e.action == "grant.change" for e in entries_since(mark))


def test_R_ROLE_3_grants_editor_refuses_writes_for_auditors(world, clients):
    c = clients["secadmin"]
    before = fingerprint()
    resp = c.post("/admin/grant/new/", data={
        "role": "auditor", "action": "customer.change", "scope": "all"})
    assert resp.status_code == 200  # form shown again with the message
    assert fingerprint() == before


def test_R_ROLE_5_others_cannot_edit_grants(world, clients):
    for role in ("sysadmin", "general_manager", "secauditor"):
        c = clients[role]
        before = fingerprint()
        resp = c.post("/admin/grant/new/", data={
            "role": "sales", "action": "customer.close", "scope": "all"})
        assert resp.status_code == 403
        assert fingerprint() == before


# ------------------------------------------------------------------ (g) 三员分立
def test_R_ROLE_2_second_admin_role_refused_through_the_portal(world, clients):
    target = world.sysadmin
    c = clients["secadmin"]
    before = fingerprint()
    resp = c.post(f"/admin/user/roles/?ids={target.id}", data={
        "op": "grant", "role": "secauditor", "clearance": "1"})
    assert resp.status_code == 200
    assert "三员分立" in resp.get_data(as_text=True)
    assert fingerprint() == before
    roles = set(db.session.scalars(select(RoleAssignment.role).where(
        RoleAssignment.user_id == target.id, RoleAssignment.revoked_at.is_(None))))
    assert roles == {"sysadmin"}
    # nor through the grant editor: an administrator role gets no other administrator's duty
    resp = clients["secadmin"].post("/admin/grant/new/", data={
        "role": "sysadmin", "action": "grant.change", "scope": "all"})
    assert resp.status_code == 200 and fingerprint() == before


def test_R_ROLE_2_sysadmin_cannot_assign_roles(world, clients):
    c = clients["sysadmin"]
    before = fingerprint()
    resp = c.post(f"/admin/user/roles/?ids={world.sales1.id}", data={
        "op": "grant", "role": "general_manager", "clearance": "1"})
    assert resp.status_code == 403
    assert fingerprint() == before


# ------------------------------------------------------------------ writes through services
def test_stale_version_is_a_conflict(world, clients, session):
    grant = session.scalar(select(Grant).where(Grant.role == "sales", Grant.area == "report"))
    resp = clients["secadmin"].post(f"/admin/grant/edit/?id={grant.id}",
                                    data={"scope": "branch", "version": str(grant.version - 1)})
    assert resp.status_code == 200
    session.expire_all()
    assert session.get(Grant, grant.id).scope == "own"


def test_mass_assignment_fields_are_refused(world, clients, session):
    """Fields no form may edit are never applied; posting them is a 400 with a message
    (issue 13: a value is refused, never silently dropped) and nothing changes."""
    mine = world.customers["sales1"][0]
    resp = clients["sales"].post(f"/admin/customer/edit/?id={mine.id}", data={
        "name": mine.name, "kind": mine.kind, "source": mine.source,
        "importance": mine.importance, "intent": mine.intent,
        "owner_id": str(world.sales2.id), "owner": str(world.sales2.id),
        "branch_id": str(world.b3.id), "version": str(mine.version)})
    assert resp.status_code == 400
    assert "此操作不接受 branch_id，未做任何更改。" in resp.get_data(as_text=True)
    session.expire_all()
    fresh = session.get(Customer, mine.id)
    assert fresh.owner_id == world.sales1.id and fresh.branch_id == world.b1.id
    assert fresh.version == mine.version


def test_complaint_lists_need_grants(world, clients, session):
    assert clients["reception"].get("/admin/complaint/").status_code == 403
    assert session.query(Complaint).count() == 0


# ------------------------------------------------------------------ language
def test_chinese_by_default_english_selectable(world, clients):
    c = clients["sales"]
    body = c.get("/admin/customer/").get_data(as_text=True)
    assert "客户档案" in body and "退出登录" in body
    c.get("/lang/en")
    # the test app context outlives requests; Flask-Babel caches the locale on ``g``
    from flask import g

    g.pop("_flask_babel", None)
    body = c.get("/admin/customer/").get_data(as_text=True)
    assert "Customer archive" in body and "Log out" in body and "Customer name" in body
    assert 'name="csrf_token"' in body and 'action="/logout"' in body
