"""Lists people can read (issue 14, part 4): full-width layout, money as ¥ with thousands
separators, status badges by meaning, highlighted deadlines and validity dates, the page-size
menu in the user's language, the phone (card) layout's labels."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from admin_views.display import money_text
from portal import clock
from portal.services import complaints as complaint_svc
from portal.services import row_states
from tests.factories import make_customer


def _complaint(session, world, customer, deadline):
    c = complaint_svc.register_complaint(session, world.service, {
        "customer_id": customer.id, "channel": "phone", "type": "complaint",
        "cause": "quality", "description": "车辆异响"})
    c.deadline_at = deadline
    session.commit()
    return c


def test_money_reads_as_yuan_with_thousands_separators():
    assert money_text(Decimal("1480000")) == "¥1,480,000.00"
    assert money_text(Decimal("800")) == "¥800.00"
    assert money_text(Decimal("-1234.5")) == "-¥1,234.50"
    assert money_text(None) == ""


def test_layout_is_full_width_with_the_portal_stylesheet(clients):
    html = clients["sales"].get("/admin/customer/").get_data(as_text=True)
    assert 'class="container-fluid"' in html
    assert "/static/portal.css" in html and "/static/portal.js" in html


def test_money_column_is_formatted_and_right_aligned(session, world, clients):
    customer = world.customers["sales1"][0]
    customer.outstanding_balance = Decimal("1480000")
    session.commit()
    html = clients["finance"].get(f"/admin/customer/details/?id={customer.id}").get_data(
        as_text=True)
    assert '<span class="money">¥1,480,000.00</span>' in html
    assert "1480000.00" not in html


def test_page_size_menu_is_in_the_users_language(clients):
    client = clients["sales"]
    html = client.get("/admin/customer/").get_data(as_text=True)
    assert "每页 20 条" in html and "每页 50 条" in html
    assert " items<" not in html and "项目" not in html
    client.get("/lang/en")
    html = client.get("/admin/customer/").get_data(as_text=True)
    assert "20 per page" in html


def _complaint_rows(html: str) -> dict[str, str]:
    """The complaint list's rows by complaint number."""
    return {m.group(1): m.group(0) for m in re.finditer(
        r"<tr>(?:(?!</tr>).)*?<td class=\"col-number\">\s*<a [^>]*>(\d+)</a>.*?</tr>", html,
        re.S)}


# 10:00 on a Wednesday in company time: a deadline a minute away falls on today's date.
MORNING = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# 23:59:30 in company time: a deadline a minute away falls on tomorrow's date.
BEFORE_MIDNIGHT = datetime(2026, 11, 25, 15, 59, 30, tzinfo=UTC)


def test_R_COMP_7_overdue_deadline_is_a_red_badge_and_due_today_amber(session, world, clients):
    with clock.frozen(MORNING):
        now = clock.now()
        customer = world.customers["sales1"][0]
        late = _complaint(session, world, customer, now - timedelta(days=2))
        soon = _complaint(session, world, customer, now + timedelta(minutes=1))
        later = _complaint(session, world, customer, now + timedelta(days=5))
        assert row_states.complaint_deadline_state(late) == row_states.OVERDUE
        assert row_states.complaint_deadline_state(soon) == row_states.DUE_TODAY
        assert row_states.complaint_deadline_state(later) is None
        html = clients["service"].get("/admin/complaint/").get_data(as_text=True)
        rows = _complaint_rows(html)
    assert "badge-danger" in rows[late.number] and "state-overdue" in rows[late.number]
    assert "badge-warning" in rows[soon.number] and "state-due_today" in rows[soon.number]
    assert "state-overdue" not in rows[later.number]
    assert "state-due_today" not in rows[later.number]
    # the status is a badge too (已登记)
    assert re.search(r'badge badge-info portal-badge status-registered[^>]*>已登记<', html)


def test_R_COMP_7_a_deadline_after_midnight_is_not_due_today(session, world, clients):
    """Due today is the company's calendar date: at 23:59:30 a deadline one minute away is
    tomorrow's, neither amber nor red (the test above used to skip its amber check when the
    wall clock said 23:59 in China)."""
    with clock.frozen(BEFORE_MIDNIGHT):
        soon = _complaint(session, world, world.customers["sales1"][0],
                          clock.now() + timedelta(minutes=1))
        assert row_states.complaint_deadline_state(soon) is None
        html = clients["service"].get("/admin/complaint/").get_data(as_text=True)
        row = _complaint_rows(html)[soon.number]
    assert "state-due_today" not in row and "state-overdue" not in row
    assert "badge-warning" not in row and "badge-danger" not in row


def test_R_CUST_4_void_and_expiring_customers_are_flagged(session, world, clients):
    now = clock.now()
    sales1 = world.sales1
    void = make_customer(session, sales1, name="废卡客户", status="prospect",
                         registered_at=now - timedelta(days=90),
                         ownership_expires_at=now + timedelta(days=30))
    expiring = make_customer(session, sales1, name="快到期客户",
                             ownership_expires_at=now + timedelta(days=3))
    expired = make_customer(session, sales1, name="已过期客户",
                            ownership_expires_at=now - timedelta(days=1))
    session.commit()
    states = row_states.customer_states(session, [void.id, expiring.id, expired.id])
    assert row_states.VOID in states[void.id]
    assert states[expiring.id] == {row_states.OWNERSHIP_EXPIRING}
    assert row_states.OWNERSHIP_EXPIRED in states[expired.id]

    html = clients["sales"].get("/admin/customer/").get_data(as_text=True)
    row = {name: re.search(rf"<tr>(?:(?!</tr>).)*{name}(?:(?!</tr>).)*</tr>", html, re.S)
           .group(0) for name in ("废卡客户", "快到期客户", "已过期客户")}
    assert "badge-secondary portal-badge status-void" in row["废卡客户"]
    assert "state-ownership_expiring" in row["快到期客户"] and "badge-warning" in row["快到期客户"]
    assert "state-ownership_expired" in row["已过期客户"] and "badge-danger" in row["已过期客户"]


def test_list_badges_cost_one_statement_per_page(session, world, clients, app):
    """The derived states of a page of customers are read in one statement, not per row."""
    from sqlalchemy import event

    from portal.extensions import db

    for i in range(15):
        make_customer(session, world.sales1, name=f"批量客户{i}")
    session.commit()
    client = clients["sales"]
    client.get("/admin/customer/")  # warm up
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        client.get("/admin/customer/")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    follow_up_loads = [s for s in statements if s.lstrip().upper().startswith("SELECT")
                       and "FROM follow_ups" in s and "customers.id IN" not in s
                       and "WHERE follow_ups.customer_id =" in s]
    assert not follow_up_loads, "a follow-up query per row"
    assert len(statements) < 30, len(statements)
