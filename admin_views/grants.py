"""授权 (grants) editor for the security administrator (R-ROLE-5): role → area → action →
scope. Changes are audited and apply from the next request."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l

from admin_views import common
from admin_views.base import ScopedModelView, actor, add_view, translated
from models import Grant
from portal import policy, vocabulary
from portal.extensions import db
from portal.services import grant_matrix
from portal.services import grants as grant_service
from portal.services.errors import DomainError, PermissionDenied


def _area_name(area: str) -> str:
    return gettext(vocabulary.AREA_LABELS.get(area, area))


def _action_name(area: str, verb: str) -> str:
    return f"{_area_name(area)} · {gettext(vocabulary.action_label(area, verb))}"


# labels in the reader's language, resolved when a page renders them
ROLE_CHOICES = common.ROLE_CHOICES
ACTION_CHOICES = [(f"{area}.{verb}", LazyString(_action_name, area, verb))
                  for area, verbs in policy.AREAS.items() for verb in verbs]
AREA_CHOICES = [(a, LazyString(_area_name, a)) for a in policy.AREAS]


class GrantView(ScopedModelView):
    column_list = ("role", "area", "action", "scope")
    column_export_list = ("role", "area", "action", "scope")
    column_default_sort = [("role", False), ("area", False), ("action", False)]
    column_searchable_list = ("area", "action")
    column_filters = (
        common.choice_filter(Grant.role, _l("角色"), ROLE_CHOICES),
        common.choice_filter(Grant.scope, _l("范围"), common.SCOPE),
        common.choice_filter(Grant.area, _l("领域"), AREA_CHOICES),
    )
    column_details_list = ("role", "area", "action", "scope")
    column_formatters = {
        "area": lambda v, c, m, n: _area_name(m.area),
        "action": lambda v, c, m, n: gettext(vocabulary.action_label(m.area, m.action)),
    }
    column_choices = {"role": ROLE_CHOICES, "scope": common.SCOPE}
    column_labels = {"role": _l("角色"), "area": _l("领域"), "action": _l("操作"),
                     "scope": _l("范围")}
    form_create_only = ("role", "action")
    permitted_sensitive_fields = ("role",)
    form_columns = ("scope",)
    form_choices = {"role": ROLE_CHOICES, "action": ACTION_CHOICES, "scope": common.SCOPE}
    create_service = grant_service.add_grant
    update_service = grant_service.change_scope
    delete_service = grant_service.remove_grant
    # grants have view/change only: adding and removing one is a change of the grant table.
    endpoint_verbs = {"create_view": ("change",), "delete_view": ("change",),
                      "matrix_view": ("view",), "matrix_preview": ("change",),
                      "matrix_apply": ("change",)}
    list_template = "admin/grant_list.html"

    def _page(self, template: str, **kwargs: Any) -> Any:
        return self.render(template, role_labels=_role_labels(), areas=vocabulary.AREA_LABELS,
                           actions=vocabulary.ACTION_LABELS, scopes=vocabulary.SCOPE_LABELS,
                           scope_order=grant_matrix.SCOPES, **kwargs)

    @expose("/matrix/")
    def matrix_view(self) -> Any:
        """Without ``role``: roles × areas at a glance; with it: that role's editable grid."""
        role = request.args.get("role") or ""
        try:
            if role not in _role_labels():
                return self._page("admin/grant_overview.html",
                                  summary=grant_matrix.overview(db.session, actor()))
            cells = grant_matrix.role_matrix(db.session, actor(), role)
        except PermissionDenied:
            return self.inaccessible_callback("matrix_view")
        state = grant_matrix.current(db.session, role)
        return self._page("admin/grant_matrix.html", role=role, cells=cells,
                          expected=grant_matrix.fingerprint(state),
                          can_change=self.allowed("change"))

    def _desired(self) -> dict[str, str]:
        return {k[len("scope:"):]: v for k, v in request.form.items() if k.startswith("scope:")}

    @expose("/matrix/preview/", methods=("POST",))
    def matrix_preview(self) -> Any:
        role = request.form.get("role") or ""
        desired = self._desired()
        try:
            changes = grant_matrix.plan(db.session, actor(), role, desired)
        except PermissionDenied:
            return self.inaccessible_callback("matrix_preview")
        except DomainError as exc:
            flash(translated(exc), "error")
            return redirect(url_for(".matrix_view", role=role or None))
        if not changes:
            flash(gettext("没有修改。"), "info")
            return redirect(url_for(".matrix_view", role=role))
        return self._page("admin/grant_preview.html", role=role, changes=changes,
                          desired=desired, expected=request.form.get("expected") or "")

    @expose("/matrix/apply/", methods=("POST",))
    def matrix_apply(self) -> Any:
        role = request.form.get("role") or ""
        desired = self._desired()
        done: list[Any] = []
        if self.run_service(lambda s, a: done.append(grant_matrix.apply_role(
                s, a, role, desired, request.form.get("expected") or None))):
            count = len(done[0])
            flash(gettext("已修改%(role)s的 %(count)s 项权限，下一次请求起生效。", count=count,
                          role=_role_labels().get(role, role)), "success")
        return redirect(url_for(".matrix_view", role=role or None))


_role_labels = common.role_labels


def register(admin: Any) -> None:
    add_view(admin, GrantView, Grant, _l("授权"), _l("安全"), endpoint="grant")
