"""Loading rows through the row scope: the capped list count, deep pages that seek by id,
id parsing, one row / several rows of an endpoint (out-of-scope ids answer 404 and are audited)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import abort
from flask_admin import tools
from sqlalchemy import Date, Integer, func, inspect, select
from sqlalchemy.orm import Query
from sqlalchemy.sql import operators

from admin_views.context import (
    actor,
    full_action,
    record_denied,
    request_state,
)
from portal import policy
from portal.extensions import db


class CappedCount:
    """A count query Flask-Admin filters, searches and joins like a ``Query`` (every call is
    forwarded); ``scalar()`` counts at most ``cap + 1`` rows of it:
    ``SELECT count(*) FROM (<scoped, filtered ids> LIMIT cap + 1)``."""

    def __init__(self, query: Any, cap: int) -> None:
        self._query = query
        self._cap = cap

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._query, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            return CappedCount(result, self._cap) if isinstance(result, Query) else result

        return call

    def scalar(self) -> int:
        sub = self._query.order_by(None).limit(self._cap + 1).subquery()
        return int(self._query.session.scalar(select(func.count()).select_from(sub)) or 0)


class RowsMixin:
    """Row loading of ``ScopedModelView`` (mixed in before Flask-Admin's ``ModelView``)."""

    def _seek_order(self: Any, query: Any) -> bool | None:
        """True/False: the query is ordered by the primary key alone, descending/ascending
        (the default sort); None: any other order."""
        clauses = list(getattr(query, "_order_by_clauses", ()) or ())
        if len(clauses) != 1:
            return None
        clause = clauses[0]
        modifier = getattr(clause, "modifier", None)
        element = getattr(clause, "element", clause)
        pk = self._pk_column()
        if getattr(element, "key", None) != pk.key or getattr(element, "table", None) is not \
                pk.table:
            return None
        if modifier is operators.desc_op:
            return True
        return False if modifier in (None, operators.asc_op) else None

    def _pk_column(self: Any) -> Any:
        return inspect(self.model).primary_key[0]

    def parse_pk(self: Any, raw: Any) -> Any:
        """A malformed id answers like a missing one."""
        column = self._pk_column()
        try:
            if isinstance(column.type, Integer):
                if not str(raw).isascii():  # int() also reads "١" or "𝟙" as digits
                    return None
                number = int(str(raw))
                # beyond the database's integer range: no such row (not a driver error)
                return number if -(2**31) <= number < 2**31 else None
            if isinstance(column.type, Date):
                return date.fromisoformat(str(raw))
        except (TypeError, ValueError):
            return None
        text = str(raw)
        if "." in text:  # Flask-Admin escapes "." in text ids as ".." (tools.escape)
            decoded = tools.iterdecode(text)
            text = decoded[0] if len(decoded) == 1 else text
        return text if 0 < len(text) <= 200 else None

    def get_one(self: Any, id: Any) -> Any:
        """Load one row through the row scope of the current endpoint. Missing, malformed and
        out-of-scope ids all answer the same 404; an out-of-scope one is also audited."""
        pk = self.parse_pk(id)
        if pk is None:
            abort(404)
        verb = full_action(self.model, self._row_verb())
        column = self._pk_column()
        obj = db.session.scalar(policy.scope(select(self.model), actor(), self.model, verb)
                                  .where(column == pk))
        if obj is None:
            if db.session.get(self.model, pk) is not None:
                record_denied(verb, (self.model.__name__, pk), "admin: row outside scope")
            abort(404)
        return obj

    def get_one_for(self: Any, raw_id: Any, verb: str) -> Any:
        """``get_one`` under the row scope of ``verb`` (custom endpoints)."""
        request_state()["row_verb"] = verb
        return self.get_one(raw_id)

    def scoped_rows(self: Any, ids: Iterable[Any], verb: str) -> tuple[list[Any], int]:
        """Rows among ``ids`` the user may ``verb``; returns (rows, refused count). Refused
        ids that exist are audited like any out-of-scope access."""
        ids = list(ids)
        wanted = [p for p in (self.parse_pk(i) for i in ids) if p is not None]
        refused = len(ids) - len(wanted)
        if not wanted:
            return [], refused
        action = full_action(self.model, verb)
        column = self._pk_column()
        rows = list(db.session.scalars(
            policy.scope(select(self.model), actor(), self.model, action)
            .where(column.in_(wanted))))
        found = {getattr(r, column.key) for r in rows}
        for pk in wanted:
            if pk not in found:
                refused += 1
                if db.session.get(self.model, pk) is not None:
                    record_denied(action, (self.model.__name__, pk), "admin action: outside scope")
        return rows, refused
