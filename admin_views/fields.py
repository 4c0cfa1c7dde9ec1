"""Which fields a portal page shows: visible columns per user and row, masked values, search
and filters, scoped relationship choices, and the list/export formatters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import has_request_context
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.model import typefmt
from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, inspect, or_
from sqlalchemy import cast as sql_cast
from sqlalchemy.types import Unicode

from admin_views import display
from admin_views.context import actor, request_state
from portal import policy
from portal.extensions import db

MASK = "—"


def company_time(value: Any) -> str:
    """Datetimes are stored in UTC and shown in the company's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_datetime(value, "yyyy-MM-dd HH:mm")
    return str(value)


def _fmt_datetime(view: Any, value: Any, name: Any = None) -> str:
    return company_time(value)


def _fmt_bool(view: Any, value: Any, name: Any = None) -> str:
    return "✓" if value else "✗"


LIST_TYPE_FORMATTERS = dict(typefmt.BASE_FORMATTERS)
LIST_TYPE_FORMATTERS.update({datetime: _fmt_datetime, bool: _fmt_bool})
LIST_TYPE_FORMATTERS.update(display.TYPE_FORMATTERS)  # money as ¥1,480,000.00
EXPORT_TYPE_FORMATTERS = dict(typefmt.EXPORT_FORMATTERS)
EXPORT_TYPE_FORMATTERS.update({datetime: _fmt_datetime})


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """``form_ajax_refs`` lookups and the submitted ids both go through the policy."""

    def format(self, model: Any) -> Any:
        if model is not None and hasattr(model, "full_name"):  # people: name and branch
            return getattr(model, self.pk), display.person_label(model)
        return super().format(model)

    def get_query(self) -> Any:
        return policy.scope(db.session.query(self.model), actor(), self.model, "view")

    def get_one(self, pk: Any) -> Any:
        pk_col = inspect(self.model).primary_key[0]
        if isinstance(pk_col.type, Integer):
            # form data is text: PostgreSQL will not compare an integer with varchar
            text_pk = str(pk).strip()
            if not (text_pk.isascii() and text_pk.isdigit()) or int(text_pk) >= 2**31:
                return None
            pk = int(text_pk)
        with db.session.no_autoflush:
            return self.get_query().where(pk_col == pk).first()


class ScopedModelConverter(AdminModelConverter):
    """Relationship choices (select fields) list only the rows the user may see."""

    def _model_select_field(self, prop: Any, multiple: Any, remote_model: type,
                            **kwargs: Any) -> Any:
        ajax = getattr(self.view, "_form_ajax_refs", {}).get(prop.key)
        if "query_factory" not in kwargs and not ajax:
            kwargs["query_factory"] = lambda: policy.scope(
                db.session.query(remote_model), actor(), remote_model, "view")
        if not multiple:  # WTForms 3.3 shows an empty blank label as its value "__None"
            kwargs.setdefault("blank_text", _l("（不指定）"))
        if hasattr(remote_model, "full_name"):  # people: name and branch, not the login
            kwargs.setdefault("get_label", display.person_label)
        return super()._model_select_field(prop, multiple, remote_model, **kwargs)


def _columns_filtered_per_request(key: str) -> property:
    """A column list Flask-Admin sets once at start-up, read back filtered to the fields the
    current user may see."""

    def get(self: Any) -> list[Any]:
        return self._visible_columns(self.__dict__.get(key, []))

    def set_(self: Any, value: list[Any]) -> None:
        self.__dict__[key] = value

    return property(get, set_)


class FieldsMixin:
    """Columns, search and filters limited to the fields the user may see (``policy.visible_fields``)."""

    def _model_visible(self, obj: Any = None) -> frozenset[str]:
        user = actor()
        if user is None:
            return frozenset()
        if obj is None:
            key = ("portal_visible", self.model)
            cache = request_state().setdefault("visible", {})
            if key not in cache:
                cache[key] = policy.visible_fields(user, self.model)
            return cache[key]
        return policy.visible_fields(user, self.model, obj)

    @staticmethod
    def _root(column: Any) -> str:
        name = column if isinstance(column, str) else getattr(column, "key", str(column))
        return name.split(".", 1)[0]

    def _column_allowed(self, column: Any, visible: frozenset[str]) -> bool:
        root = self._root(column)
        if root in self.computed_columns:
            group = self.computed_columns[root]
            return group is None or policy.group_visible(actor(), group)
        return root in visible

    def _visible_columns(self, columns: list[Any]) -> list[Any]:
        if not has_request_context():
            return columns
        visible = self._model_visible()
        return [c for c in columns if self._column_allowed(c[0], visible)]

    # Flask-Admin caches these at start-up; serve them filtered per request.
    _list_columns = _columns_filtered_per_request("_all_list_columns")
    _details_columns = _columns_filtered_per_request("_all_details_columns")
    _export_columns = _columns_filtered_per_request("_all_export_columns")

    def row_field_visible(self, obj: Any, name: str) -> bool:
        root = self._root(name)
        if root in self.computed_columns:
            group = self.computed_columns[root]
            return group is None or policy.group_visible(actor(), group, obj)
        cache = request_state().setdefault("row_visible", {})
        key = (self.model, id(obj))
        if key not in cache:
            cache[key] = self._model_visible(obj)
        return root in cache[key]

    def _get_list_value(self, context: Any, model: Any, name: str, column_formatters: Any,
                        column_type_formatters: Any) -> Any:
        if not self.row_field_visible(model, name):
            return MASK
        return super()._get_list_value(context, model, name, column_formatters,
                                       column_type_formatters)

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any,
                      search: str) -> Any:
        """Search only plain columns the user may read (no search oracle on hidden ones)."""
        visible = self._model_visible()
        fields = [f for f, path in (self._search_fields or [])
                  if not path and getattr(f, "key", None) in visible]
        for term in search.split(" ")[:8]:
            if not term or not fields:
                continue
            like = f"%{term.replace('%', '').replace('_', '')[:100]}%"
            condition = or_(*[sql_cast(f, Unicode).ilike(like) for f in fields])
            query = query.filter(condition)
            if count_query is not None:
                count_query = count_query.filter(condition)
        return query, count_query, joins, count_joins

    def search_placeholder(self) -> str | None:
        if not has_request_context():
            return super().search_placeholder()
        visible = self._model_visible()
        names = [str(self.get_column_name(f.key)) for f, path in (self._search_fields or [])
                 if not path and getattr(f, "key", None) in visible]
        return ", ".join(names) or None

    def _get_filter_groups(self) -> Any:
        """Filter options are computed per request (scoped), not once at start-up."""
        groups = super()._get_filter_groups()
        if not groups or not has_request_context():
            return groups
        for items in groups.values():
            for item in items:
                flt = self._filters[item["index"]]
                scoped = getattr(flt, "scoped_options", None)
                if scoped is not None:
                    item["options"] = [(str(k), str(v)) for k, v in scoped()]
        return groups
