"""Portal forms: the CSRF-carrying base form, the fields no form may edit, and the create/edit/
delete/ajax-update path through the service verbs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, request
from flask_admin import expose
from flask_admin.babel import Translations
from flask_admin.form import BaseForm
from flask_babel import gettext
from flask_wtf import FlaskForm
from sqlalchemy import inspect
from wtforms import HiddenField

from admin_views.context import actor, request_state, translated
from portal.extensions import db
from portal.services.accepts import NOT_ACCEPTED, not_accepted
from portal.services.errors import DomainError, NotFound, PermissionDenied
from portal.services.unit import form_version

# Fields no portal form may ever edit directly (mass assignment): owner changes go through the
# reassign action, roles/clearance through the security administrator's services.
FORBIDDEN_FORM_FIELDS = frozenset({
    "id", "role", "roles", "role_assignments", "clearance", "owner", "owner_id", "level",
    "version", "password_hash", "token_hash", "session_version", "is_active", "hash",
    "prev_hash", "failed_logins", "locked_until",
})


class PortalForm(BaseForm):
    """Flask-Admin's form base with Flask-WTF's CSRF token (the one ``CSRFProtect`` checks).

    ``flask_admin.form.SecureForm`` uses WTForms' ``SessionCSRF``, whose token has another
    format than Flask-WTF's: with the global ``CSRFProtect`` every admin POST would be refused.
    This keeps one token for both checks (and honours ``WTF_CSRF_ENABLED``)."""

    class Meta(FlaskForm.Meta):
        _translations = Translations()

        def get_translations(self, form: Any) -> Any:
            return self._translations


class FormsMixin:
    """Create, edit, delete and inline edits through the declared service verbs."""

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

    def dropped_values(self, form: Any, data: dict[str, Any]) -> list[str]:
        """The posted values that would not reach the service: a field of the form, or a
        field of the model, that ``form_data`` leaves out (not editable here, not visible to
        this user, not a field of this form). Refused, never silently dropped."""
        model_keys = {a.key for a in inspect(self.model).attrs}  # type: ignore[attr-defined]
        form_keys = {f.name for f in form}
        return sorted(
            key for key in request.form
            if key not in ("version", "csrf_token", "list_form_pk")
            and (key in model_keys or key in form_keys)
            and key not in data and f"{key}_id" not in data)

    def _refuse_dropped(self, form: Any, data: dict[str, Any]) -> bool:
        dropped = self.dropped_values(form, data)
        if dropped:
            self._fail(not_accepted(dropped[0]), form)
        return bool(dropped)

    def _fail(self, exc: DomainError, form: Any = None) -> None:
        if exc.message == NOT_ACCEPTED:  # a value the action does not take: a 400
            request_state()["form_status"] = 400
        message = translated(exc)
        if form is not None and exc.field and exc.field in form:
            form[exc.field].errors = list(form[exc.field].errors or []) + [message]
        flash(message, "error")

    def create_model(self, form: Any) -> Any:
        fn = self.create_service_fn
        if fn is None:
            abort(403)
        data = self.form_data(form, creating=True)
        if self._refuse_dropped(form, data):
            return False
        try:
            return self.call_create(fn, data)
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
        if hasattr(getattr(self, "model", None), "version"):
            # required, as sent (the form would fill a missing field from the row itself);
            # the list's inline edits send it too (``list_form``, portal.js)
            expected = form_version(request.form.get("version"))
        data = self.form_data(form, creating=False, obj=model)
        if request.endpoint and request.endpoint.endswith("ajax_update"):
            data = {k: v for k, v in data.items()
                    if k in self.column_editable_list or k[:-3] in self.column_editable_list}
        if self._refuse_dropped(form, data):
            return False
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

    def _with_status(self, page: Any) -> Any:
        """The form page, as a 400 when the service was not called because the form sent a
        value the action does not take (the message is on the page; nothing changed)."""
        if request_state().pop("form_status", None) == 400 and isinstance(page, str):
            return page, 400
        return page

    @expose("/new/", methods=("GET", "POST"))
    def create_view(self) -> Any:
        return self._with_status(super().create_view())  # type: ignore[misc]

    @expose("/edit/", methods=("GET", "POST"))
    def edit_view(self) -> Any:
        return self._with_status(super().edit_view())  # type: ignore[misc]

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
