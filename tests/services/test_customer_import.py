"""Import of customer archives (.xlsx / .csv): dry run, confirm, same rules as create."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from models import AuditEntry, Customer
from portal.services import customer_import as imp
from portal.services.errors import PermissionDenied, ValidationFailed


def _xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _count(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(Customer.id)))


HEADER_ZH = ["客户名称", "电话", "统一社会信用代码", "类型", "来源", "重要级别", "地址", "备注"]


def test_xlsx_dry_run_reports_each_row_and_writes_nothing(world, session):
    existing = world.customers["sales1"][0]
    content = _xlsx([
        HEADER_ZH,
        ["北京甲公司", 13811112222, "91110000MA1FL00009", "经销商", "老带新", "a", "北京", ""],
        ["重复客户", existing.phone, None, "最终客户", "到店", "B", None, None],
        ["", "13811113333", None, None, None, None, None, None],
        ["北京甲 公司", "13899990000", None, None, None, None, None, None],
        ["坏类型", "13877776666", None, "外星人", None, None, None, None],
        ["律所客户", "13866665555", None, "律师", "活动", "C", None, "=1+1"],
    ])
    upload = imp.read_upload("客户.xlsx", content)
    assert upload.lines == [2, 3, 4, 5, 6, 7]
    before = _count(session)
    report = imp.dry_run(session, world.sales1, upload)
    assert _count(session) == before
    statuses = [(r.line, r.status) for r in report.results]
    assert statuses == [(2, "created"), (3, "duplicate"), (4, "invalid"), (5, "duplicate"),
                        (6, "invalid"), (7, "created")]
    dup = report.results[1]
    assert dup.duplicate_of == f"{existing.code} {existing.name}"
    assert report.results[2].field == "name"
    assert report.results[3].duplicate_of == "row 2"  # duplicates inside the file
    assert report.results[4].field == "kind"
    assert report.counts() == {"created": 2, "duplicate": 2, "invalid": 2}


def test_import_with_errors_writes_nothing_unless_valid_rows_chosen(world, session):
    existing = world.customers["sales1"][0]
    content = _xlsx([HEADER_ZH, ["新客户一", "13700000001"], ["重复", existing.phone],
                     ["新客户二", "13700000002", None, "supplier", "campaign", "d"]])
    upload = imp.read_upload("a.xlsx", content)
    before = _count(session)
    with pytest.raises(ValidationFailed) as err:
        imp.import_rows(session, world.sales1, upload)
    assert err.value.field == "file"
    assert _count(session) == before
    report = imp.import_rows(session, world.sales1, upload, valid_only=True)
    assert report.written and _count(session) == before + 2
    created = [session.get(Customer, r.customer_id) for r in report.results if r.customer_id]
    assert [c.name for c in created] == ["新客户一", "新客户二"]
    assert all(c.owner_id == world.sales1.id for c in created)
    assert created[1].kind == "supplier" and created[1].importance == "D"
    assert created[1].source == "campaign"
    summary = session.scalars(select(AuditEntry).where(AuditEntry.action == "customer.import")
                              ).one()
    assert "2 created, 1 skipped" in summary.detail


def test_clean_csv_in_gbk_with_english_headers_imports(world, session):
    text = "Name,Phone,Credit code,Kind,Source,Importance,Address,Notes\n" \
           "广州乙公司,020-88886666,,dealer,event,B,广州,首批\n" \
           "深圳丙公司,+86 138 0000 7777,,end,call,A,,\n"
    upload = imp.read_upload("list.CSV", text.encode("gbk"))
    report = imp.import_rows(session, world.supervisor, upload)
    assert report.counts()["created"] == 2
    c = session.scalars(select(Customer).where(Customer.name == "深圳丙公司")).one()
    assert c.phone_normalized == "13800007777" and c.branch_id == world.b1.id
    assert c.owner_id == world.supervisor.id or c.owner_id is None


def test_csv_utf8_bom_semicolons_and_branch_owner_columns(world, session):
    text = "\ufeff客户名称;电话;门店;归属人\n杭州丁公司;13512345678;B1;sales2\n"
    upload = imp.read_upload("x.csv", text.encode("utf-8"))
    report = imp.import_rows(session, world.supervisor, upload)
    c = session.get(Customer, report.results[0].customer_id)
    assert c.owner_id == world.sales2.id and c.branch_id == world.b1.id


def test_import_applies_the_same_permissions_as_create(world, session):
    text = "客户名称,电话,归属人\n越权客户,13512340000,sales3\n"
    upload = imp.read_upload("x.csv", text.encode("utf-8"))
    report = imp.dry_run(session, world.sales1, upload)
    assert report.results[0].status == "invalid"
    before = _count(session)
    with pytest.raises(PermissionDenied):
        imp.dry_run(session, world.finance, upload)
    with pytest.raises(PermissionDenied):
        imp.import_rows(session, world.auditor, upload, valid_only=True)
    assert _count(session) == before


@pytest.mark.parametrize(("filename", "content", "reason"), [
    ("a.xls", b"\xd0\xcf\x11\xe0", "xlsx"),
    ("a.xlsx", b"not a zip", "xlsx"),
    ("a.csv", b"", "empty"),
    ("a.csv", b"phone\n123\n", "name"),
    ("a.csv", "客户名称\n".encode(), "no data"),
    ("a.csv", b"\xff\xfe\x00\x00bad", "UTF-8"),
])
def test_bad_files_are_refused(filename, content, reason):
    with pytest.raises(ValidationFailed) as err:
        imp.read_upload(filename, content)
    assert err.value.field == "file"
    assert reason.lower() in err.value.translated().lower()


def test_size_and_row_limits(monkeypatch):
    monkeypatch.setattr(imp, "MAX_ROWS", 3)
    rows = "客户名称\n" + "".join(f"客户{i}\n" for i in range(5))
    with pytest.raises(ValidationFailed):
        imp.read_upload("a.csv", rows.encode())
    monkeypatch.setattr(imp, "MAX_BYTES", 10)
    with pytest.raises(ValidationFailed):
        imp.read_upload("a.csv", b"x" * 11)


def test_formulas_are_read_as_values(world, session):
    book = Workbook()
    sheet = book.active
    sheet.append(["客户名称", "电话"])
    sheet.append(["公式客户", "=HYPERLINK(\"http://evil\",\"x\")"])
    out = io.BytesIO()
    book.save(out)
    upload = imp.read_upload("f.xlsx", out.getvalue())
    # never calculated by Excel: the cached value is empty, the formula text is not imported
    assert upload.rows[0]["phone"] == ""


def test_csv_formula_text_in_a_name_is_invalid(world, session):
    upload = imp.read_upload("x.csv", "客户名称,电话\n=cmd|' /C calc'!A0,13512340001\n".encode())
    report = imp.dry_run(session, world.sales1, upload)
    assert report.results[0].status == "invalid" and report.results[0].field == "name"


# ---------------------------------------------------------------------------------------------
# Through the portal: upload → report → confirm
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def staging(session):
    """The staged uploads (rows of ``import_stagings``) — a callable, re-read at each call."""
    from models import ImportStaging

    def _rows() -> list:
        session.expire_all()
        return session.scalars(select(ImportStaging)).all()
    return _rows


def _post_file(client, name: str, content: bytes):
    return client.post("/admin/customer_import/upload",
                       data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_portal_import_dry_run_then_confirm_valid_rows(world, session, login, staging):
    existing = world.customers["sales1"][0]
    client = login(world.sales1)
    assert client.get("/admin/customer_import/").status_code == 200
    content = _xlsx([HEADER_ZH, ["门户导入客户", "13700000011"], ["重复", existing.phone]])
    before = _count(session)
    resp = _post_file(client, "p.xlsx", content)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'data-status="duplicate"' in page
    assert existing.code in page and _count(session) == before
    staged = staging()
    assert len(staged) == 1 and staged[0].user_id == world.sales1.id
    with client.session_transaction() as s:
        token = s["customer_import"]
    # a file with problems: confirming without "valid rows only" writes nothing
    resp = client.post("/admin/customer_import/confirm", data={"token": token})
    assert resp.status_code == 400 and _count(session) == before
    # re-posted row data is ignored: only the staged rows count
    resp = client.post("/admin/customer_import/confirm",
                       data={"token": token, "valid_only": "1", "rows": "[{\"name\": \"x\"}]"})
    assert resp.status_code == 200
    assert _count(session) == before + 1
    assert session.scalars(select(Customer).where(Customer.name == "门户导入客户")).one()
    assert staging() == []
    # the token is single-use
    resp = client.post("/admin/customer_import/confirm", data={"token": token,
                                                               "valid_only": "1"})
    assert resp.status_code == 302 and _count(session) == before + 1


def test_portal_import_refuses_a_forged_token_and_other_roles(world, session, login, staging):
    client = login(world.sales1)
    _post_file(client, "p.csv", "客户名称\n伪造测试\n".encode())
    resp = client.post("/admin/customer_import/confirm",
                       data={"token": "A" * 32, "valid_only": "1"})
    assert resp.status_code == 302
    assert session.scalar(select(func.count(Customer.id)).where(
        Customer.name == "伪造测试")) == 0
    other = login(world.finance)
    mark = session.scalar(select(func.max(AuditEntry.seq)))
    assert other.get("/admin/customer_import/").status_code == 403
    assert session.scalars(select(AuditEntry.outcome).where(AuditEntry.seq > mark)
                           ).all() == ["denied"]
    assert login(world.auditor).post("/admin/customer_import/upload").status_code == 403
    from flask import current_app

    resp = current_app.test_client().get("/admin/customer_import/")  # anonymous
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_portal_import_bad_file_is_a_clear_400(world, login, staging):
    client = login(world.sales1)
    resp = _post_file(client, "p.exe", b"MZ")
    assert resp.status_code == 400
    assert "xlsx" in resp.get_data(as_text=True)


@pytest.fixture
def second_server(database_url, tmp_path):
    """Another app server on the same database (built before the first app's context)."""
    from portal import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                      STORAGE_PATH=str(tmp_path / "storage"))


def test_dry_run_on_one_server_is_confirmed_on_another(second_server, world, session, login,
                                                       staging):
    """Issue 20: the staged rows live in the database, not in a temp folder of the server that
    took the upload."""
    client = login(world.sales1)
    resp = _post_file(client, "p.csv", "客户名称,电话\n另一台服务器确认,13700000099\n".encode())
    assert resp.status_code == 200
    with client.session_transaction() as s:
        cookie_session = dict(s)
    token = cookie_session["customer_import"]
    other = second_server.test_client()
    with other.session_transaction() as s:
        s.update(cookie_session)
    with second_server.app_context():
        resp = other.post("/admin/customer_import/confirm", data={"token": token})
    assert resp.status_code == 200, resp.status_code
    session.expire_all()
    assert session.scalar(select(func.count(Customer.id)).where(
        Customer.name == "另一台服务器确认")) == 1
    assert staging() == []


def test_a_staged_upload_expires_and_is_bound_to_its_user(world, session):
    from datetime import timedelta

    from portal import clock
    from portal.services import import_staging

    upload = imp.read_upload("x.csv", "客户名称\n过期测试\n".encode())
    token = import_staging.stage(session, world.sales1, upload)
    assert import_staging.load(session, world.sales2, token) is None
    assert import_staging.load(session, world.sales1, token).rows == upload.rows
    clock.set_now(clock.now() + import_staging.STAGING_TTL + timedelta(seconds=1))
    assert import_staging.load(session, world.sales1, token) is None
    assert import_staging.purge_expired(session) == 1
