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

from collections.abc import Callable
from typing import Any, ClassVar

from flask import abort, has_request_context, redirect, request, url_for
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.ajax import create_ajax_loader
from flask_admin.helpers import get_redirect_target
from flask_admin.model.helpers import get_mdict_item_or_list
from flask_babel import lazy_gettext as _l
from sqlalchemy import false

from admin_views.context import (
    actor,
    full_action,
    log,
    note_credit_read,
    record_denied,
    request_state,
    translated,
)
from admin_views.export import FORMULA_PREFIXES, ExportMixin, neutralise
from admin_views.fields import (
    EXPORT_TYPE_FORMATTERS,
    LIST_TYPE_FORMATTERS,
    MASK,
    FieldsMixin,
    ScopedAjaxLoader,
    ScopedModelConverter,
    company_time,
)
from admin_views.forms import FORBIDDEN_FORM_FIELDS, FormsMixin, PortalForm
from admin_views.rows import CappedCount, RowsMixin
from portal import policy
from portal.extensions import db, orm_session
from portal.services import archive_loans, credit_reads

# The names other modules imported from here before the split (fields, forms, export and the
# request helpers now live in their own modules).
__all__ = [
    "EXPORT_TYPE_FORMATTERS", "FORBIDDEN_FORM_FIELDS", "FORMULA_PREFIXES", "LIST_TYPE_FORMATTERS",
    "MASK", "ROW_VERB", "STANDARD_ENDPOINTS", "CappedCount", "PortalForm", "ScopedAjaxLoader",
    "ScopedModelConverter", "ScopedModelView", "actor", "add_view", "company_time",
    "full_action", "log", "neutralise", "record_denied", "request_state",
    "translated",
]

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


class ScopedModelView(FieldsMixin, FormsMixin, ExportMixin, RowsMixin, ModelView):
    """Base of every model view of the portal. Subclasses declare:

    - ``column_list`` / ``column_details_list`` / ``column_export_list``, labels, filters,
      search (plain columns of the model);
    - ``form_columns`` (fields editable on both forms) and ``form_create_only`` (fields only
      the create form has, e.g. a username);
    - ``create_service`` / ``update_service`` / ``delete_service``: the service verbs, by
      reference (an import, so a renamed verb fails at import) (``create(session, actor, data)``, ``update(session, actor, id, data,
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

    create_service: ClassVar[Callable[..., Any] | None] = None
    update_service: ClassVar[Callable[..., Any] | None] = None
    delete_service: ClassVar[Callable[..., Any] | None] = None
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

    # The verbs are read from the class: a function stored as a class attribute would be bound
    # to the view when read through ``self``.
    @property
    def create_service_fn(self) -> Callable[..., Any] | None:
        return type(self).create_service

    @property
    def update_service_fn(self) -> Callable[..., Any] | None:
        return type(self).update_service

    @property
    def delete_service_fn(self) -> Callable[..., Any] | None:
        return type(self).delete_service

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
        shown = self._credit_rows(template, kwargs)
        page = super().render(template, **kwargs)
        note_credit_read(shown)
        reads = request_state().pop("credit_reads", None)
        if reads:  # one entry for the page, naming the credit records it shows (R-AUD-1)
            credit_reads.record_credit_read(orm_session(), actor(), reads,
                                            where=request.endpoint)
            db.session.commit()
        self._record_loan_reads(template, kwargs)
        return page

    def _record_loan_reads(self, template: str, kwargs: dict[str, Any]) -> None:
        """Every read of a borrowed archive — its page, a list showing it, or a record that
        hangs off it (a complaint, a credit line, …) — is audited with the loan (R-CUST-9)."""
        if template == self.details_template:
            rows = [kwargs["model"]] if kwargs.get("model") is not None else []
        elif template == self.list_template:
            rows = list(kwargs.get("data") or [])
        else:
            return
        shown = archive_loans.archives_read(orm_session(), actor(), rows)
        if shown and archive_loans.record_reads(orm_session(), actor(), shown,
                                                request.endpoint or ""):
            db.session.commit()

    def list_form(self, obj: Any = None) -> Any:
        """An inline-editable cell carries its row's version (``data-version``), which
        portal.js sends with the change."""
        form = super().list_form(obj)
        version = getattr(obj, "version", None)
        if version is not None:
            for field in form:
                field.render_kw = {**(field.render_kw or {}), "data-version": version}
        return form

    def _credit_rows(self, template: str, kwargs: dict[str, Any]) -> list[Any]:
        """The rows of a list or details page on which it shows credit amounts."""
        if template == self.list_template:
            rows, columns = kwargs.get("data") or [], self._list_columns
        elif template == self.details_template and kwargs.get("model") is not None:
            rows, columns = [kwargs["model"]], self._details_columns
        else:
            return []
        names = [c[0] for c in columns
                 if isinstance(c[0], str) and c[0] in credit_reads.credit_fields(self.model)]
        return [r for r in rows if any(self.row_field_visible(r, n) for n in names)]

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

    def _create_ajax_loader(self, name: str, options: dict[str, Any]) -> Any:
        # Flask-Admin's default placeholder reads "请选择模型" ("Please select model").
        options = {"placeholder": _l("输入名称搜索…"), **options}
        loader = create_ajax_loader(self.model, db, name, name, options)
        return ScopedAjaxLoader(name, db, loader.model, **options)

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
