"""Search conditions both doors use (GraphQL ``filter.search`` and the portal's search box):
what a person types — a name, a code, a phone — as a WHERE clause over rows the caller scopes
through the policy.

Searching by phone or credit code never reveals them to who may not read them: those branches
carry the row condition of ``customer_contact.view``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from models import Complaint, Customer
from portal import policy
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone

MAX_SEARCH = 100


def _prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def customer_search(user: Any, text: str) -> ColumnElement[bool]:
    """Customers whose normalised name or whose code starts with ``text``, or — only where the
    user may read contacts — whose phone or credit code is exactly ``text`` (normalised).

    Each branch is served by an index (prefix: the varchar_pattern_ops indexes of migration
    0003; phone and credit code: their btree indexes), so PostgreSQL answers with a BitmapOr
    instead of a scan of every customer."""
    ors: list[ColumnElement[bool]] = [Customer.name_normalized.like(_prefix(normalize_name(text)), escape="\\"),
           Customer.code.like(_prefix(text.upper()), escape="\\")]
    # searching by phone or credit code must not reveal them to who may not read them: the
    # row condition of customer_contact.view, on the same customer row
    contact = policy.scope(select(Customer.id), user, Customer,
                           "customer_contact.view").whereclause
    phone = normalize_phone(text)
    if phone and len(phone) >= 3:
        ors.append(and_(Customer.phone_normalized == phone, *_as_list(contact)))
    code = normalize_credit_code(text)
    if code:
        ors.append(and_(Customer.credit_code_normalized == code, *_as_list(contact)))
    return or_(*ors)



def _as_list(condition: ColumnElement[bool] | None) -> list[ColumnElement[bool]]:
    return [] if condition is None else [condition]


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
