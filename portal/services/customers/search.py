"""Customer search (R-CUST-1 matching, issue 13): what a person types — a name, a code, a phone,
a credit code — as one WHERE clause over customers the caller scopes through the policy.

Normalised (``portal.normalize``: the same forms duplicates are matched on), prefix only on
indexed columns, and aware of the contact field group: searching by phone or credit code never
reveals them to who may not read them (those branches carry the row condition of
``customer_contact.view``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select

from models import Customer
from portal import policy
from portal.normalize import normalize_credit_code, normalize_name, normalize_phone

MAX_SEARCH = 100

def _prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_condition(user: Any, text: str) -> ColumnElement[bool]:
    """Customers whose normalised name or whose code starts with ``text``, or — only where the
    user may read contacts — whose phone or credit code is exactly ``text`` (normalised).

    Each branch is served by an index (prefix: the varchar_pattern_ops indexes of migration
    0003; phone and credit code: their btree indexes), so PostgreSQL answers with a BitmapOr
    instead of a scan of every customer. Both doors use it: the portal's customer search box
    and GraphQL ``CustomerFilter.search``."""
    text = (text or "").strip()[:MAX_SEARCH]
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
