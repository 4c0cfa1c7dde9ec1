"""The one base view of the admin portal. Everything a page shows or changes goes through
``portal.policy`` (rows, fields, actions) and ``portal.services`` (writes); per-area views only
declare columns, filters, search, labels and which service verbs they call.

Flask-Admin defaults closed here (see docs in security.md):

- every endpoint of a view is mapped to a policy action in ``_handle_view`` (deny by default:
  an endpoint or action without a mapping answers 403); refusals are audited;
- ``can_create/can_edit/can_delete/can_export/can_view_details`` are per-request properties;
- ``get_query``/``get_count_query``/``get_one`` go through ``policy.scope`` (an out-of-scope id
  answers the same 404 as a missing one, and is audited);
- relationship choices and ajax lookups are scoped; list, details and export columns are limited
  to ``policy.visible_fields`` (row-dependent fields are masked per row);
- ``ajax/update`` needs ``change`` and only touches declared, visible, editable fields;
- exports are streamed, scoped, visible-columns-only, with spreadsheet formulas neutralised
  (one Core select on its own connection: nothing of the request's session is used once the
  view has returned);
- lists count at most ``count_cap`` rows (shown as "10000+"), and deep pages of the default
  id order seek from the page's first id instead of reading a wide OFFSET;
- forms carry the version the user saw and only the declared editable fields.
"""

from __future__ import annotations

import csv
import importlib
import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    has_request_context,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_admin import expose
from flask_admin.babel import Translations
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import QueryAjaxModelLoader, create_ajax_loader
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import BaseForm
from flask_admin.helpers import get_redirect_target
from flask_admin.model import typefmt
from flask_admin.model.helpers import get_mdict_item_or_list
from flask_babel import format_datetime, get_timezone, gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Date, Integer, false, func, inspect, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Query, aliased
from sqlalchemy.sql import operators
from sqlalchemy.types import Unicode
from wtforms import HiddenField

from admin_views import display
from models import Customer
from models.enums import AuditOutcome
from portal import audit, policy
from portal.extensions import db
from portal.services.errors import DomainError, NotFound, PermissionDenied

log = logging.getLogger(__name__)

MASK = "—"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Fields no portal form may ever edit directly (mass assignment): owner changes go through the
# reassign action, roles/clearance through the security administrator's services.
FORBIDDEN_FORM_FIELDS = frozenset({
    "id", "role", "roles", "role_assignments", "clearance", "owner", "owner_id", "level",
    "version", "password_hash", "token_hash", "session_version", "is_active", "hash",
    "prev_hash", "failed_logins", "locked_until",
})

# Standard Flask-Admin endpoints → the policy verb each needs (any of the tuple).
# ``action_view`` is resolved per posted action (``action_verbs``).
STANDARD_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "index_view": ("view",),
    "details_view": ("view",),
    "export": ("export",),
    "create_view": ("add",),
    "edit_view": ("change",),
    "delete_view": ("delete",),
    "ajax_update": ("change",),
    "ajax_lookup": ("add", "change"),
}
# The verb whose row scope applies to the rows an endpoint loads.
ROW_VERB = {"index_view": "view", "details_view": "view", "export": "export",
            "edit_view": "change", "delete_view": "delete", "ajax_update": "change",
            "create_view": "view", "ajax_lookup": "view"}


def neutralise(value: Any) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def service(path: str | None) -> Callable[..., Any] | None:
    """``"portal.services.customers:create_customer"`` → the function, or None while the
    service module (written by another area) does not exist yet."""
    if not path:
        return None
    module_name, _, attr = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    return getattr(module, attr, None)


def full_action(model: type, verb: str) -> str:
    return verb if "." in verb else f"{policy.MODEL_AREA[model]}.{verb}"


def actor() -> Any:
    return current_user if current_user and current_user.is_authenticated else None


def record_denied(action: str, target: Any, detail: str | None = None) -> None:
    """One 'denied' audit entry, committed on its own (nothing else is pending)."""
    session = db.session
    session.rollback()
    audit.record(session, actor(), action, target, outcome=AuditOutcome.DENIED.value,
                 detail=detail or f"admin {request.method} {request.path}"[:500])
    session.commit()


def request_state() -> dict[str, Any]:
    """Per-request memo (not ``g``: an app context may outlive one request, e.g. in tests)."""
    return request.environ.setdefault("portal.state", {})


def translated(exc: DomainError) -> str:
    return exc.translated(gettext)


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


class PortalForm(BaseForm):
    """Flask-Admin's form base with Flask-WTF's CSRF token (the one ``CSRFProtect`` checks).

    ``flask_admin.form.SecureForm`` uses WTForms' ``SessionCSRF``, whose token has another
    format than Flask-WTF's: with the global ``CSRFProtect`` every admin POST would be refused.
    This keeps one token for both checks (and honours ``WTF_CSRF_ENABLED``)."""

    class Meta(FlaskForm.Meta):
        _translations = Translations()

        def get_translations(self, form: Any) -> Any:
            return self._translations


class ScopedAjaxLoader(QueryAjaxModelLoader):
    """``form_ajax_refs`` lookups and the submitted ids both go through the policy."""

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
        return super()._model_select_field(prop, multiple, remote_model, **kwargs)


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



def _columns_filtered_per_request(key: str) -> property:
    """A column list Flask-Admin sets once at start-up, read back filtered to the fields the
    current user may see."""

    def get(self: Any) -> list[Any]:
        return self._visible_columns(self.__dict__.get(key, []))

    def set_(self: Any, value: list[Any]) -> None:
        self.__dict__[key] = value

    return property(get, set_)

class ScopedModelView(ModelView):
    """Base of every model view of the portal. Subclasses declare:

    - ``column_list`` / ``column_details_list`` / ``column_export_list``, labels, filters,
      search (plain columns of the model);
    - ``form_columns`` (fields editable on both forms) and ``form_create_only`` (fields only
      the create form has, e.g. a username);
    - ``create_service`` / ``update_service`` / ``delete_service``: ``"module:function"`` paths
      of the service verbs (``create(session, actor, data)``, ``update(session, actor, id, data,
      expected_version=)``, ``delete(session, actor, id)``); a missing one disables the page;
    - ``action_verbs``: Flask-Admin action name → policy action it needs;
    - ``endpoint_verbs``: extra ``@expose``d endpoint name → policy actions (any of);
    - ``computed_columns``: non-model column names allowed in lists (name → field group
      that must be visible on the row, or None).
    """

    form_base_class = PortalForm
    details_template = "admin/portal_details.html"
    model_form_converter = ScopedModelConverter
    page_size = 20
    can_set_page_size = True
    export_types = ["csv"]
    export_max_rows = 0
    # The list counts at most this many rows (more show as "10000+"); deep pages of the
    # default id order seek from the page's first id beyond this offset.
    count_cap = 10_000
    seek_from_offset = 1_000
    column_display_pk = False
    column_type_formatters = LIST_TYPE_FORMATTERS
    column_type_formatters_detail = LIST_TYPE_FORMATTERS
    column_type_formatters_export = EXPORT_TYPE_FORMATTERS
    action_disallowed_list: list[str] = ["delete"]  # bulk delete only where a view allows it

    create_service: str | None = None
    update_service: str | None = None
    delete_service: str | None = None
    form_create_only: tuple[str, ...] = ()
    action_verbs: dict[str, str] = {}
    endpoint_verbs: dict[str, tuple[str, ...]] = {}
    computed_columns: dict[str, str | None] = {}
    editable_list_columns: tuple[str, ...] = ()
    # Sensitive names a view legitimately edits through its service (e.g. a grant's role).
    permitted_sensitive_fields: tuple[str, ...] = ()
    # Named lists the home page links to: ``?preset=<name>`` → (label, condition builder).
    presets: dict[str, tuple[Any, Callable[[Any], Any]]] = {}

    def __init__(self, model: type, session: Any = None, **kwargs: Any) -> None:
        bad = FORBIDDEN_FORM_FIELDS.intersection(
            tuple(self.form_columns or ()) + tuple(self.form_create_only)
            + tuple(self.editable_list_columns)) - set(self.permitted_sensitive_fields)
        if bad:
            raise TypeError(f"{type(self).__name__}: fields {sorted(bad)} may not be editable")
        if model not in policy.MODEL_AREA:
            raise TypeError(f"{model.__name__} has no policy area")
        super().__init__(model, session or db, **kwargs)

    # ---------------------------------------------------------------- policy helpers
    @property
    def area(self) -> str:
        return policy.MODEL_AREA[self.model]

    def allowed(self, verb: str, target: Any = None) -> bool:
        user = actor()
        if user is None:
            return False
        return policy.can(user, full_action(self.model, verb),
                          self.model if target is None else target)

    def required_actions(self, endpoint: str) -> tuple[str, ...] | None:
        """The policy actions (any of) an endpoint needs; None: not mapped (deny)."""
        if endpoint == "action_view":
            name = request.form.get("action", "") if has_request_context() else ""
            verb = self.action_verbs.get(name)
            return (full_action(self.model, verb),) if verb else None
        verbs = self.endpoint_verbs.get(endpoint) or STANDARD_ENDPOINTS.get(endpoint)
        if verbs is None:
            return None
        return tuple(full_action(self.model, v) for v in verbs)

    def supports(self, endpoint: str) -> bool:
        """Whether this view implements the endpoint at all (a service behind it)."""
        if endpoint == "create_view":
            return self.create_service_fn is not None
        if endpoint in ("edit_view", "ajax_update"):
            return self.update_service_fn is not None
        if endpoint == "delete_view":
            return self.delete_service_fn is not None
        if endpoint == "ajax_lookup":
            return bool(self.form_ajax_refs)
        return True

    @property
    def create_service_fn(self) -> Callable[..., Any] | None:
        return service(self.create_service)

    @property
    def update_service_fn(self) -> Callable[..., Any] | None:
        return service(self.update_service)

    @property
    def delete_service_fn(self) -> Callable[..., Any] | None:
        return service(self.delete_service)

    # ---------------------------------------------------------------- access
    def is_accessible(self) -> bool:
        return actor() is not None and self.allowed("view")

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if actor() is None:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        record_denied(full_action(self.model, "view"), self.model.__name__)
        abort(403)

    def _handle_view(self, name: str, **kwargs: Any) -> Any:
        user = actor()
        if user is None:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        needed = self.required_actions(name)
        request_state()["row_verb"] = ROW_VERB.get(name, "view")
        if name == "action_view" and needed:
            request_state()["row_verb"] = needed[0]
        if needed is None:
            record_denied(f"{self.area}.{name}", self.model.__name__,
                          f"admin endpoint without a policy mapping: {request.path}")
            abort(403)
        ok = self.allowed("view") and any(policy.can(user, a, self.model) for a in needed)
        if not ok or not self.supports(name):
            record_denied(needed[0], self.model.__name__)
            abort(403)
        return None

    # Per-request capabilities (Flask-Admin reads these as class attributes).
    def _capability(self, endpoint: str) -> bool:
        if not has_request_context():
            return True  # scaffolding at start-up
        user = actor()
        needed = self.required_actions(endpoint)
        if user is None or not needed or not self.supports(endpoint):
            return False
        return any(policy.can(user, a, self.model) for a in needed)

    @property
    def can_create(self) -> bool:  # type: ignore[override]
        return self._capability("create_view")

    @property
    def can_edit(self) -> bool:  # type: ignore[override]
        return self._capability("edit_view")

    @property
    def can_delete(self) -> bool:  # type: ignore[override]
        return self._capability("delete_view")

    @property
    def can_export(self) -> bool:  # type: ignore[override]
        return self._capability("export")

    @property
    def can_view_details(self) -> bool:  # type: ignore[override]
        return self._capability("details_view")

    @property
    def column_editable_list(self) -> Any:  # type: ignore[override]
        declared = list(self.editable_list_columns)
        if not has_request_context():
            return declared
        if not declared or not self.can_edit:
            return []
        visible = self._model_visible()
        return [c for c in declared if c in visible]

    @column_editable_list.setter
    def column_editable_list(self, value: Any) -> None:  # Flask-Admin resets it when empty
        pass

    def is_action_allowed(self, name: str) -> bool:
        verb = self.action_verbs.get(name)
        if not verb or name in self.action_disallowed_list:
            return False
        if name == "delete" and not self.can_delete:
            return False
        return self.allowed(verb)

    # ---------------------------------------------------------------- rows
    def _row_verb(self) -> str:
        return request_state().get("row_verb", "view") if has_request_context() else "view"

    def active_preset(self) -> str | None:
        if not has_request_context():
            return None
        name = request.args.get("preset")
        return name if name in self.presets else None

    def _with_preset(self, stmt: Any) -> Any:
        name = self.active_preset()
        if name and self._row_verb() in ("view", "export"):
            stmt = stmt.where(self.presets[name][1](actor()))
        return stmt

    def get_query(self) -> Any:
        stmt = policy.scope(db.session.query(self.model), actor(), self.model,
                            full_action(self.model, self._row_verb()))
        return self._with_preset(stmt)

    def get_count_query(self) -> Any:
        """The list's count, capped: at most ``count_cap + 1`` rows are counted (the pager then
        shows "10000+"), so a page load never scans a whole large table to count it."""
        stmt = db.session.query(self._pk_column()).select_from(self.model)
        stmt = policy.scope(stmt, actor(), self.model, full_action(self.model, self._row_verb()))
        return CappedCount(self._with_preset(stmt), self.count_cap)

    def render(self, template: str, **kwargs: Any) -> Any:
        count = kwargs.get("count")
        if template == self.list_template and isinstance(count, int) \
                and count > self.count_cap:
            kwargs["count"] = f"{self.count_cap}+"  # honest: more rows than were counted
        return super().render(template, **kwargs)

    def _seek_order(self, query: Any) -> bool | None:
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

    def _apply_pagination(self, query: Any, page: int | None, page_size: int | None) -> Any:
        page = min(max(page or 0, 0), 100_000)
        size = self.page_size if page_size is None else page_size
        offset = page * (size or 0)
        desc = self._seek_order(query) if offset >= self.seek_from_offset else None
        if desc is not None:
            # Deep page of the default (id) order: find the page's first id with an index-only
            # scan of the ids, then read just the page's rows from there (no wide OFFSET).
            pk = self._pk_column()
            first = (query.enable_eagerloads(False).with_entities(pk)
                     .offset(offset).limit(1).scalar())
            if first is None:
                return query.filter(false()).limit(size)
            return query.filter(pk <= first if desc else pk >= first).limit(size)
        return super()._apply_pagination(query, page, page_size)

    def _pk_column(self) -> Any:
        return inspect(self.model).primary_key[0]

    def parse_pk(self, raw: Any) -> Any:
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
        return text if 0 < len(text) <= 200 else None

    def get_one(self, id: Any) -> Any:  # noqa: A002 - Flask-Admin's signature
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

    def get_one_for(self, raw_id: Any, verb: str) -> Any:
        """``get_one`` under the row scope of ``verb`` (custom endpoints)."""
        request_state()["row_verb"] = verb
        return self.get_one(raw_id)

    def scoped_rows(self, ids: Iterable[Any], verb: str) -> tuple[list[Any], int]:
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

    def _create_ajax_loader(self, name: str, options: dict[str, Any]) -> Any:
        loader = create_ajax_loader(self.model, db, name, name, options)
        return ScopedAjaxLoader(name, db, loader.model, **options)

    # ---------------------------------------------------------------- fields
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

    # ---------------------------------------------------------------- forms
    def scaffold_form(self) -> Any:
        form_class = super().scaffold_form()
        if hasattr(self.model, "version"):
            form_class.version = HiddenField()
        return form_class

    def get_create_form(self) -> Any:
        if not self.form_create_only:
            return super().get_create_form()
        declared = self.form_columns
        self.form_columns = tuple(self.form_create_only) + tuple(declared or ())
        try:
            return self.scaffold_form()
        finally:
            self.form_columns = declared

    def edit_form(self, obj: Any = None) -> Any:
        form = super().edit_form(obj)
        if obj is not None:
            visible = self._model_visible(obj)
            attrs = {a.key for a in inspect(self.model).attrs}
            for field in list(form):
                if field.name in attrs and field.name not in visible:
                    del form[field.name]
        return form

    def editable_names(self, creating: bool) -> set[str]:
        names = set(self.form_columns or ()) | set(self.editable_list_columns)
        if creating:
            names |= set(self.form_create_only)
        return names - (FORBIDDEN_FORM_FIELDS - set(self.permitted_sensitive_fields))

    def form_data(self, form: Any, creating: bool, obj: Any = None) -> dict[str, Any]:
        """The declared editable fields present in the form, relationships as ``<name>_id``."""
        allowed = self.editable_names(creating)
        visible = self._model_visible(obj) if obj is not None else None
        data: dict[str, Any] = {}
        relationships = {r.key for r in inspect(self.model).relationships}
        for field in form:
            name = field.name
            if name not in allowed or (visible is not None and name not in visible
                                       and name not in self.form_create_only):
                continue
            value = field.data
            if name in relationships:
                data[f"{name}_id"] = getattr(value, "id", None) if value is not None else None
            else:
                data[name] = value.strip() if isinstance(value, str) else value
        return data

    def call_create(self, fn: Callable[..., Any], data: dict[str, Any]) -> Any:
        """Override when the service verb takes other arguments than ``data``."""
        return fn(db.session, actor(), data)

    def call_update(self, fn: Callable[..., Any], pk: Any, data: dict[str, Any],
                    expected_version: int | None) -> Any:
        return fn(db.session, actor(), pk, data, expected_version=expected_version)

    def _fail(self, exc: DomainError, form: Any = None) -> None:
        message = translated(exc)
        if form is not None and exc.field and exc.field in form:
            form[exc.field].errors = list(form[exc.field].errors or []) + [message]
        flash(message, "error")

    def create_model(self, form: Any) -> Any:
        fn = self.create_service_fn
        if fn is None:
            abort(403)
        try:
            return self.call_create(fn, self.form_data(form, creating=True))
        except PermissionDenied:
            abort(403)
        except DomainError as exc:
            db.session.rollback()
            self._fail(exc, form)
            return False

    def update_model(self, form: Any, model: Any) -> Any:
        fn = self.update_service_fn
        if fn is None:
            abort(403)
        expected = None
        if "version" in form:
            raw = form["version"].data
            try:
                expected = int(raw)
            except (TypeError, ValueError):
                expected = -1  # a form without the version it was read at is stale
        data = self.form_data(form, creating=False, obj=model)
        if request.endpoint and request.endpoint.endswith("ajax_update"):
            data = {k: v for k, v in data.items()
                    if k in self.column_editable_list or k[:-3] in self.column_editable_list}
        pk = getattr(model, self._pk_column().key)
        try:
            self.call_update(fn, pk, data, expected)
            return True
        except PermissionDenied:
            abort(403)
        except NotFound:
            abort(404)
        except DomainError as exc:
            db.session.rollback()
            self._fail(exc, form)
            return False

    @expose("/ajax/update/", methods=("POST",))
    def ajax_update(self) -> Any:
        """Flask-Admin answers a refused inline edit (invalid value, domain error) with a 500;
        it is the client's mistake: 400."""
        result = super().ajax_update()
        if isinstance(result, tuple) and len(result) == 2 and result[1] == 500:
            return result[0], 400
        return result

    def delete_model(self, model: Any) -> bool:
        fn = self.delete_service_fn
        if fn is None:
            abort(403)
        pk = getattr(model, self._pk_column().key)
        return self.guarded(lambda: fn(db.session, actor(), pk))

    def guarded(self, call: Callable[[], Any]) -> bool:
        """Run a service call from a form: refused → 403 (audited by ``@verb``), missing or
        out of scope → 404, a domain error → a flashed message with nothing changed."""
        try:
            call()
            return True
        except PermissionDenied:
            abort(403)
        except NotFound:
            abort(404)
        except DomainError as exc:
            db.session.rollback()
            self._fail(exc)
            return False

    def run_service(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
        """Call a service verb for a custom action; a domain error becomes a flashed message,
        a refusal a 403 (already audited by ``@verb``)."""
        try:
            fn(db.session, actor(), *args, **kwargs)
            return True
        except PermissionDenied:
            abort(403)
        except DomainError as exc:
            db.session.rollback()
            self._fail(exc)
            return False

    def each_row(self, ids: list[str], verb: str, call: Callable[[Any], Any]) -> None:
        """Run ``call(row)`` for every id the user may ``verb`` (each id re-checked)."""
        rows, refused = self.scoped_rows(ids, verb)
        done = 0
        for row in rows:
            try:
                call(row)
                done += 1
            except PermissionDenied:
                refused += 1
            except DomainError as exc:
                db.session.rollback()
                self._fail(exc)
        if done:
            flash(gettext("%(count)s records were processed.", count=done), "success")
        if refused:
            flash(gettext("%(count)s records were refused.", count=refused), "error")

    # ---------------------------------------------------------------- export
    # Rows fetched per round trip by a streamed export (server-side cursor on PostgreSQL).
    export_yield_per = 2000

    def _export_plan(self, columns: list[Any]) -> list[tuple[str, str, Any]] | None:
        """One ``(name, kind, expressions)`` per export column, expressible as plain SQL
        columns: a column of the model (``col``), or the name of a many-to-one related row
        through an outer join (``rel``; users show as "full name (username)"). None when a
        column needs Python (a formatter, a computed column, a to-many relationship): then
        the export falls back to loading ORM objects."""
        if self.model in policy.FIELD_GROUPS and self.model is not Customer:
            return None  # their row checks read more than the row's own columns
        mapper = inspect(self.model)
        formatters = self.column_formatters_export or {}
        plan: list[tuple[str, str, Any]] = []
        for column, _label in columns:
            name = column if isinstance(column, str) else getattr(column, "key", None)
            if not isinstance(name, str) or "." in name or name in formatters \
                    or name in self.computed_columns:
                return None
            if name in mapper.column_attrs:
                plan.append((name, "col", getattr(self.model, name)))
                continue
            rel = mapper.relationships.get(name)
            if rel is None or rel.uselist:
                return None
            target = rel.mapper.class_
            alias = aliased(target, name=f"export_{name}")
            if hasattr(target, "full_name") and hasattr(target, "username"):
                exprs: tuple[Any, ...] = (alias.full_name, alias.username)
            elif hasattr(target, "name"):
                exprs = (alias.name,)
            else:
                return None
            plan.append((name, "rel", (getattr(self.model, name).of_type(alias), exprs)))
        return plan

    def _export_csv(self, return_url: Any) -> Any:
        """Stream scoped rows, visible columns only, formulas neutralised.

        One Core select of just the export columns (related names by outer joins), scoped,
        filtered, searched and sorted as the list is, streamed from a server-side cursor with
        its own connection: nothing of the request's ORM session is touched while streaming,
        labels and choices are plain strings before the first row, and row-dependent field
        visibility is decided once per distinct (owner, branch, department)."""
        view_args = self._get_list_extra_args()
        sort = self._get_column_by_idx(view_args.sort)
        simple = self.simple_list_pager
        self.simple_list_pager = True  # no COUNT for an export
        try:
            _count, query = self.get_list(0, sort[0] if sort else None, view_args.sort_desc,
                                          view_args.search, view_args.filters, execute=False,
                                          page_size=0)
        finally:
            self.simple_list_pager = simple
        columns = list(self._export_columns)
        plan = self._export_plan(columns)
        if plan is None:
            return self._export_csv_orm(query, columns)
        user = actor()
        audit.record(db.session, user, full_action(self.model, "export"),
                     self.model.__name__, detail=f"csv: {', '.join(str(c[0]) for c in columns)}")
        db.session.commit()

        pk = self._pk_column()
        policy_keys = [k for k in ("owner_id", "branch_id", "department_id")
                       if k in inspect(self.model).column_attrs]
        row_groups = self.model in policy.FIELD_GROUPS
        exprs: list[Any] = [getattr(self.model, k) for k in policy_keys] if row_groups else []
        slots: list[tuple[str, str, list[int], dict[Any, str]]] = []
        query = query.enable_eagerloads(False)
        # Row-dependent field visibility, decided here while the request's session (and the
        # user's grants) are at hand: once per distinct (owner, branch, department) of the
        # exported rows. A row of a combination not seen here (inserted meanwhile) gets every
        # row-dependent field masked.
        visible_cache: dict[tuple[Any, ...], frozenset[str]] = {}
        fallback: frozenset[str] = frozenset()
        if row_groups:
            keys_stmt = (query.with_entities(*[getattr(self.model, k) for k in policy_keys])
                         .order_by(None).distinct())
            for key in db.session.execute(keys_stmt.statement):
                obj = self.model(**dict(zip(policy_keys, key, strict=True)))
                visible_cache[tuple(key)] = policy.visible_fields(user, self.model, obj)
            grouped = set().union(*policy.FIELD_GROUPS[self.model].values())
            fallback = policy.visible_fields(user, self.model) - grouped
        for name, kind, spec in plan:
            start = len(exprs)
            if kind == "rel":
                path, rel_exprs = spec
                query = query.outerjoin(path)
                exprs.extend(rel_exprs)
            else:
                exprs.append(spec)
            choices = {k: str(v) for k, v in self._column_choices_map.get(name, {}).items()}
            slots.append((name, kind, list(range(start, len(exprs))), choices))
        stmt = query.with_entities(*exprs).statement
        if not query._order_by_clauses:  # noqa: SLF001 - a stable order for a complete export
            stmt = stmt.order_by(pk)
        n_keys = len(policy_keys) if row_groups else 0
        header = [neutralise(str(label)) for _c, label in columns]
        type_formatters = self.column_type_formatters_export

        def visible_for(row: Any) -> frozenset[str]:
            return visible_cache.get(tuple(row[:n_keys]), fallback)

        tz = get_timezone()

        def cell(value: Any) -> Any:
            if isinstance(value, datetime):  # company_time, without babel per cell
                if value.tzinfo is None:
                    value = value.replace(tzinfo=UTC)
                return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            for typeobj, formatter in type_formatters.items():
                if isinstance(value, typeobj):
                    return formatter(self, value, None)
            return value

        class _Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv.writer(_Echo())

        def rows() -> Iterator[str]:
            yield "\ufeff" + writer.writerow(header)
            with db.engine.connect() as conn:
                result = conn.execution_options(stream_results=True,
                                                yield_per=self.export_yield_per).execute(stmt)
                for part in result.partitions():
                    out = []
                    for row in part:
                        visible = visible_for(row) if row_groups else None
                        values = []
                        for name, kind, idx, choices in slots:
                            if visible is not None and name not in visible:
                                values.append(MASK)
                                continue
                            if kind == "rel":
                                if row[idx[0]] is None:
                                    value: Any = ""
                                elif len(idx) == 2:
                                    value = f"{row[idx[0]]} ({row[idx[1]]})"
                                else:
                                    value = row[idx[0]]
                            else:
                                value = row[idx[0]]
                                if choices and value in choices:
                                    value = choices[value]
                                else:
                                    value = cell(value)
                            values.append(neutralise(value))
                        out.append(writer.writerow(values))
                    yield "".join(out)

        filename = self.get_export_name("csv")
        return Response(stream_with_context(rows()), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={filename}",
                                 "Cache-Control": "no-store"})

    def _export_csv_orm(self, query: Any, columns: list[Any]) -> Any:
        """Fallback for columns that need Python (formatters, computed columns, models whose
        row checks read relationships): ORM rows, rendered while the request's session and
        the user's grants are alive (the session is gone once the view has returned, so a
        lazy stream of ORM rows would fail part-way). Not memory-flat: the Core path above
        is the one for large tables."""
        user = actor()
        audit.record(db.session, user, full_action(self.model, "export"),
                     self.model.__name__, detail=f"csv: {', '.join(str(c[0]) for c in columns)}")
        db.session.commit()
        header = [neutralise(str(label)) for _c, label in columns]

        class _Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv.writer(_Echo())

        lines = ["\ufeff" + writer.writerow(header)]
        for row in query.yield_per(500):
            lines.append(writer.writerow([neutralise(str(self.get_export_value(row, c)))
                                          for c, _label in columns]))

        filename = self.get_export_name("csv")
        return Response(lines, mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={filename}",
                                 "Cache-Control": "no-store"})

    def get_export_name(self, export_type: str = "csv") -> str:
        from portal import clock

        return f"{self.endpoint}_{clock.now():%Y%m%d_%H%M%S}.{export_type}"

    # ---------------------------------------------------------------- helpers for subclasses
    def back(self) -> Any:
        return redirect(get_redirect_target() or self.get_url(".index_view"))

    def selected_ids(self) -> list[str]:
        raw = get_mdict_item_or_list(request.args, "ids") or request.form.get("ids", "")
        return [p for p in str(raw).split(",") if p][:500]


def add_view(admin: Any, view_class: type[ScopedModelView], model: type, name: Any,
             category: Any = None, endpoint: str | None = None, **kwargs: Any) -> Any:
    view = view_class(model, db, name=name, category=category, endpoint=endpoint,
                      **kwargs)
    admin.add_view(view)
    return view
