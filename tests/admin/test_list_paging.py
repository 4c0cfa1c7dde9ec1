"""The customer list counts at most ``count_cap`` rows (shown as "N+"), and deep pages of the
default id order (served by seeking from the page's first id) hold the same rows as OFFSET."""

from __future__ import annotations

import re

import pytest
from flask import current_app
from sqlalchemy import select

from models import Customer
from tests.factories import make_customer


@pytest.fixture
def customer_view(app):
    admins = current_app.extensions["admin"]
    admins = admins if isinstance(admins, list | tuple) else [admins]
    view = next(v for a in admins for v in a._views if getattr(v, "model", None) is Customer)
    saved = view.count_cap, view.seek_from_offset
    yield view
    view.count_cap, view.seek_from_offset = saved


def _codes(html: str) -> list[str]:
    return re.findall(r"C\d{7}", html)


def test_list_count_is_capped_and_shown_honestly(world, clients, session, customer_view):
    for _ in range(30):
        make_customer(session, world.sales1)
    session.commit()
    customer_view.count_cap = 25
    html = clients["general_manager"].get("/admin/customer/").get_data(as_text=True)
    assert "(25+)" in html
    customer_view.count_cap = 10_000
    total = session.query(Customer).count()
    html = clients["general_manager"].get("/admin/customer/").get_data(as_text=True)
    assert f"({total})" in html
    # filters and search still narrow the (capped) count
    html = clients["general_manager"].get(
        f"/admin/customer/?search={world.customers['sales2'][0].code}").get_data(as_text=True)
    assert "(1)" in html and world.customers["sales2"][0].code in html


def test_deep_pages_seek_to_the_same_rows_as_offset(world, clients, session, customer_view):
    for _ in range(70):
        make_customer(session, world.sales1)
    session.commit()
    ids = list(session.scalars(select(Customer.code).order_by(Customer.id.desc())))
    customer_view.seek_from_offset = 20
    client = clients["general_manager"]
    for page in (1, 2, 3):
        html = client.get(f"/admin/customer/?page={page}").get_data(as_text=True)
        shown = [c for c in dict.fromkeys(_codes(html)) if c in ids]
        assert shown == ids[page * 20:(page + 1) * 20], page
    # beyond the last row: an empty page, not an error
    assert client.get("/admin/customer/?page=50").status_code == 200
    # a salesperson's deep page stays within their own rows
    own = list(session.scalars(select(Customer.code).where(
        Customer.owner_id == world.roles["sales"].id).order_by(Customer.id.desc())))
    html = clients["sales"].get("/admin/customer/?page=1").get_data(as_text=True)
    shown = [c for c in dict.fromkeys(_codes(html)) if c in ids]
    assert shown == own[20:40]
