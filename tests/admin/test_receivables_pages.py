"""The 应收账款 pages (R-CRED-9, R-CRED-10): finance sees who owes what, how late and who is
frozen on one page; the general manager approves the monthly summary there; CSV and XLSX."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from models import CreditSummaryApproval
from portal import clock
from portal.services import credit
from tests.services.test_credit import _approved_line

NOW = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)


def _setup(session, world):
    customer = world.customers["sales1"][0]
    with clock.frozen(NOW):
        _approved_line(session, world, customer, term_days=10)
        credit.record_transaction(session, world.finance, customer.id, "order", "12345.6")
    return customer


def test_R_CRED_9_finance_page_shows_balance_lateness_and_freeze(session, world, login):
    customer = _setup(session, world)
    client = login(world.finance)
    with clock.frozen(NOW + timedelta(days=45)):
        page = client.get("/admin/receivables/").get_data(as_text=True)
    assert customer.name in page
    assert "¥12,345.60" in page
    assert "31–60天" in page and "badge-danger\">冻结<" in page and "frozen" not in page
    assert "Sales1" in page  # the salesperson table
    with clock.frozen(NOW + timedelta(days=45)):
        csv = client.get("/admin/receivables/?format=csv")
        xlsx = client.get("/admin/receivables/?format=xlsx")
    assert csv.status_code == 200 and "12345.60" in csv.get_data(as_text=True)
    assert xlsx.status_code == 200
    wb = load_workbook(io.BytesIO(xlsx.data))
    values = [c.value for row in wb.worksheets[1].iter_rows() for c in row]
    assert 12345.6 in values


def test_R_CRED_9_sales_see_only_their_customers_and_cannot_export(session, world, login):
    customer = _setup(session, world)
    other = login(world.sales4)
    with clock.frozen(NOW + timedelta(days=45)):
        page = other.get("/admin/receivables/").get_data(as_text=True)
        assert customer.name not in page
        assert other.get("/admin/receivables/?format=csv").status_code == 403


def test_R_CRED_10_gm_approves_the_summary_on_its_page(session, world, login):
    _setup(session, world)
    later = datetime(2025, 4, 3, 2, 0, tzinfo=UTC)
    fin = login(world.finance)
    with clock.frozen(later):
        page = fin.get("/admin/receivables/summary?month=2025-03").get_data(as_text=True)
        assert "提交总经理审批" in page and "未提交" in page
        resp = fin.post("/admin/receivables/summary/submit", data={"month": "2025-03"})
        assert resp.status_code == 302
    gm = login(world.gm)
    with clock.frozen(later):
        page = gm.get("/admin/receivables/summary?month=2025-03").get_data(as_text=True)
        assert "待总经理审批" in page and "审批通过" in page
        approval = session.scalar(select(CreditSummaryApproval))
        gm.post("/admin/receivables/summary/approve",
                data={"month": "2025-03", "comment": "", "version": approval.version})
        session.expire_all()
        assert session.scalar(select(CreditSummaryApproval)).status == "submitted"
        gm.post("/admin/receivables/summary/approve",
                data={"month": "2025-03", "comment": "同意", "version": approval.version})
        page = gm.get("/admin/receivables/summary?month=2025-03").get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(CreditSummaryApproval)).status == "approved"
    assert "总经理已审批" in page and "同意" in page
