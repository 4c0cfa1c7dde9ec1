"""The customer CSV export streams every scoped row to the end (no ORM session needed while
streaming), shows only the columns the user may read, and is audited once."""

from __future__ import annotations

import csv
import io

from flask import current_app
from sqlalchemy import select

from models import AuditEntry, Customer
from portal import policy
from portal.extensions import db
from tests.admin.conftest import audit_seq, entries_since
from tests.factories import make_customer

URL = "/admin/customer/export/csv/"


def _stream(client) -> list[list[str]]:
    """Read the response the way a browser download does: unbuffered, chunk by chunk, after
    the view function has returned."""
    resp = client.get(URL, buffered=False)
    assert resp.status_code == 200
    # the request is over: its ORM session is gone (as after a real request's teardown)
    db.session.remove()
    assert "attachment" in resp.headers["Content-Disposition"]
    try:
        body = b"".join(resp.response).decode("utf-8")
    finally:
        resp.close()
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


def test_export_streams_all_customers_to_the_last_row(world, clients, session):
    for i in range(300):
        owner = (world.sales1, world.sales2, world.sales3, world.sales4)[i % 4]
        make_customer(session, owner, address=f"地址{i}")
    session.commit()
    total = session.query(Customer).count()
    assert total >= 300
    first_id = session.scalar(select(Customer.id).order_by(Customer.id))
    first = session.get(Customer, first_id)
    first_code, first_name = first.code, first.name
    owner_name = str(session.get(type(world.sales1), first.owner_id))

    mark = audit_seq()
    rows = _stream(clients["general_manager"])
    header, body = rows[0], rows[1:]
    assert len(body) == total
    codes = [r[0] for r in body]
    assert len(set(codes)) == total
    # default order: id descending, so the oldest customer is the very last line
    assert body[-1][0] == first_code and body[-1][1] == first_name
    assert body[-1][header.index("归属人")] == owner_name

    exports = [e for e in entries_since(mark) if e.action == "customer.export"]
    assert len(exports) == 1


def test_salesperson_export_holds_only_own_rows_and_visible_columns(world, clients, session):
    for _ in range(40):
        make_customer(session, world.sales1)
        make_customer(session, world.sales2)
    session.commit()
    sales = world.roles["sales"]
    own = set(session.scalars(select(Customer.code).where(Customer.owner_id == sales.id)))
    assert len(own) >= 40
    visible = policy.visible_fields(sales, Customer)
    finance = world.roles["finance"]
    fvisible = policy.visible_fields(finance, Customer)
    total = session.query(Customer).count()
    phones = {c.phone for c in session.scalars(select(Customer)) if c.phone}
    finance_client = clients["finance"]

    rows = _stream(clients["sales"])
    header, body = rows[0], rows[1:]
    assert {r[0] for r in body} == own

    # every exported column is one the salesperson may read; none of the others appear
    admins = current_app.extensions["admin"]
    admins = admins if isinstance(admins, list | tuple) else [admins]
    view = next(v for a in admins for v in a._views if getattr(v, "model", None) is Customer)
    labels = {name: str(view.column_labels.get(name, name))
              for name in view.column_export_list}
    for name, label in labels.items():
        assert (label in header) == (name in visible), name

    finance_rows = _stream(finance_client)
    fheader = finance_rows[0]
    assert "phone" not in fvisible and labels["phone"] not in fheader
    assert len(finance_rows) - 1 == total
    assert not any(phone in cell for phone in phones for r in finance_rows for cell in r)
    assert session.scalar(select(AuditEntry.id).where(AuditEntry.action == "customer.export"))


def test_orm_fallback_export_survives_the_end_of_the_request(world, clients, session):
    """Views whose export needs Python per row (the accounts' roles column) render their
    rows while the request is alive, so the download still completes."""
    from models import User

    usernames = set(session.scalars(select(User.username)))
    resp = clients["sysadmin"].get("/admin/user/export/csv/", buffered=False)
    assert resp.status_code == 200
    db.session.remove()
    try:
        body = b"".join(resp.response).decode("utf-8")
    finally:
        resp.close()
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert {r[0] for r in rows[1:]} == usernames
