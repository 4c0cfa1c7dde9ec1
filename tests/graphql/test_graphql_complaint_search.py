"""Complaint search in GraphQL: by number or by the customer's name, code or phone — the same
service condition as the portal's search box (portal/services/search.py)."""

from __future__ import annotations

from tests.admin.test_search_and_menu import _complaint


def test_graphql_complaint_search_uses_the_same_condition(session, world, api):
    customer, c = _complaint(session, world)
    q = """query($s: String) { complaints(filter: {search: $s}) { nodes { number } } }"""
    call = api(world.service)
    for term in (customer.name, customer.code, customer.phone):
        got = call(q, {"s": term})["data"]["complaints"]["nodes"]
        assert [n["number"] for n in got] == [c.number], term
    assert call(q, {"s": "没有这个客户"})["data"]["complaints"]["nodes"] == []
