"""How values read in lists and details pages: one money formatter (``¥1,480,000.00``), status
badges coloured by meaning, highlighted deadlines and validity dates. Derived states come from
``portal.services.row_states`` (one query per page of rows), never computed here."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from models import User
from portal.extensions import db
from portal.services import row_states

# Bootstrap colour per meaning: danger = late / refused, warning = due today / needs someone,
# success = done / approved, secondary = void / ended, info / primary = in progress.
CUSTOMER_STATUS_TONES = {"prospect": "info", "active": "success", "dormant": "secondary",
                         "void": "secondary", "closed": "dark"}
COMPLAINT_STATUS_TONES = {"registered": "info", "assigned": "primary",
                          "investigating": "primary", "proposed": "warning",
                          "approved": "success", "replied": "success", "closed": "secondary",
                          "rejected": "dark"}
LINE_STATUS_TONES = {"proposed": "warning", "reviewed": "warning", "approved": "success",
                     "rejected": "danger", "superseded": "secondary",
                     "lapsed": "secondary", "suspended": "danger"}
RECEPTION_OUTCOME_TONES = {"pending": "warning", "follow_up": "info", "deal": "success",
                           "no_interest": "secondary", "other": "light"}
INTENT_TONES = {"hot": "danger", "warm": "warning", "cold": "info"}

STATE_LABELS = {
    row_states.OVERDUE: _l("超时"),
    row_states.DUE_TODAY: _l("今日到期"),
    row_states.OWNERSHIP_EXPIRED: _l("建档已过期"),
    row_states.OWNERSHIP_EXPIRING: _l("即将到期"),
}
STATE_TONES = {row_states.OVERDUE: "danger", row_states.DUE_TODAY: "warning",
               row_states.OWNERSHIP_EXPIRED: "danger", row_states.OWNERSHIP_EXPIRING: "warning"}


def money_text(value: Any) -> str:
    """``1480000`` → ``¥1,480,000.00`` (negative: ``-¥…``); None → ""."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def money(value: Any) -> Markup:
    return Markup('<span class="money">{}</span>').format(money_text(value))


def badge(label: Any, tone: str, extra_class: str = "") -> Markup:
    return Markup('<span class="badge badge-{} portal-badge {}">{}</span>').format(
        tone, extra_class, label)


def person_label(user: Any) -> str:
    """A person as pickers and lists name them: full name and where they work."""
    if user is None:
        return ""
    place = getattr(user, "branch", None) or getattr(user, "department", None)
    return f"{user.full_name} · {place.name}" if place is not None else user.full_name


def _fmt_money(view: Any, value: Any, name: Any = None) -> Markup:
    return money(value)


def _fmt_person(view: Any, value: Any, name: Any = None) -> str:
    return person_label(value)


TYPE_FORMATTERS: dict[type, Callable[..., Any]] = {Decimal: _fmt_money, User: _fmt_person}


def choice_badge(choices: Iterable[tuple[Any, Any]], tones: dict[str, str]
                 ) -> Callable[..., Any]:
    """A ``column_formatters`` entry: the choice's label as a badge of its tone."""
    labels = dict(choices)

    def fmt(view: Any, context: Any, model: Any, name: str) -> Any:
        value = getattr(model, name)
        if value is None:
            return ""
        return badge(labels.get(value, value), tones.get(str(value), "light"),
                     f"status-{value}")

    return fmt


def _page_rows(context: Any, model: Any) -> list[Any]:
    """The rows of the page being rendered (the list's ``data``), or just ``model``."""
    rows = None
    if context is not None:
        try:
            rows = context.get("data")
        except AttributeError:
            rows = None
    rows = list(rows) if rows else []
    if model not in rows:
        rows.append(model)
    return rows


def customer_states(context: Any, model: Any) -> frozenset[str]:
    """The derived states of ``model``, computed once for every customer of the page."""
    memo: dict[int, frozenset[str]] = {}
    if has_request_context():
        memo = request.environ.setdefault("portal.customer_states", {})
    if model.id not in memo:
        rows = [r for r in _page_rows(context, model) if getattr(r, "id", None) not in memo]
        memo.update(row_states.customer_states(db.session, [r.id for r in rows]))
    return memo.get(model.id, frozenset())


def customer_status(choices: Iterable[tuple[Any, Any]]) -> Callable[..., Any]:
    """Customer status badge; 废卡 is the derived state (R-CUST-4), shown grey."""
    labels = dict(choices)

    def fmt(view: Any, context: Any, model: Any, name: str) -> Any:
        status = row_states.customer_status(model, customer_states(context, model))
        return badge(labels.get(status, status), CUSTOMER_STATUS_TONES.get(status, "light"),
                     f"status-{status}")

    return fmt


def ownership_validity(view: Any, context: Any, model: Any, name: str) -> Any:
    """建档有效期: red once expired without a deal, amber within the last days."""
    from admin_views.base import company_time

    value = getattr(model, name)
    if value is None:
        return ""
    states = customer_states(context, model)
    for state in (row_states.OWNERSHIP_EXPIRED, row_states.OWNERSHIP_EXPIRING):
        if state in states:
            return Markup('<span class="portal-date text-{} font-weight-bold" title="{}">{}'
                          '</span> {}').format(STATE_TONES[state], STATE_LABELS[state],
                                               company_time(value),
                                               badge(STATE_LABELS[state], STATE_TONES[state],
                                                     f"state-{state}"))
    return Markup('<span class="portal-date">{}</span>').format(company_time(value))


def complaint_deadline(view: Any, context: Any, model: Any, name: str) -> Any:
    """处理时限: red when overdue (R-COMP-7), amber when due today."""
    from admin_views.base import company_time

    value = getattr(model, name)
    if value is None:
        return ""
    state = row_states.complaint_deadline_state(model)
    if state is None:
        return Markup('<span class="portal-date">{}</span>').format(company_time(value))
    return Markup('<span class="portal-date text-{} font-weight-bold">{}</span> {}').format(
        STATE_TONES[state], company_time(value),
        badge(STATE_LABELS[state], STATE_TONES[state], f"state-{state}"))


def details_link(view: Any, context: Any, model: Any, name: str) -> Any:
    """The record's name as a link to its page (one click to act)."""
    value = getattr(model, name)
    if value is None:
        return ""
    return Markup('<a href="{}">{}</a>').format(view.get_url(".details_view", id=model.id),
                                               value)
