"""Search conditions both doors use (GraphQL ``filter.search`` and the portal's search box):
what a person types — a name, a code, a phone — as a WHERE clause over rows the caller scopes
through the policy. The customer condition is ``portal.services.customers.search_condition``
(``customer_search`` here is its old name); complaints are found by number or by customer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, or_, select

from models import Complaint, Customer
from portal.services.customers.search import MAX_SEARCH
from portal.services.customers.search import search_condition as customer_search

__all__ = ["MAX_SEARCH", "complaint_search", "customer_search"]


def _contains(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def complaint_search(user: Any, text: str) -> ColumnElement[bool]:
    """Complaints whose number contains ``text``, or whose customer matches
    ``customer_search`` (name or code prefix; phone or credit code where the user may read
    contacts) — a customer on the phone gives their name, not the complaint number."""
    text = (text or "").strip()[:MAX_SEARCH]
    customers = select(Customer.id).where(customer_search(user, text))
    return or_(Complaint.number.like(_contains(text), escape="\\"),
               Complaint.customer_id.in_(customers))
