"""授权 (grants) editor for the security administrator (R-ROLE-5): role → area → action →
scope. Changes are audited and apply from the next request."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from admin_views import common
from admin_views.base import ScopedModelView, add_view
from models import Grant
from models.enums import Role
from portal import policy

SERVICES = "portal.services.grants"

ROLE_CHOICES = [(r.value, f"{policy.ROLE_LABELS[r][1]} ({r.value})") for r in Role]
ACTION_CHOICES = [(f"{area}.{verb}", f"{area}.{verb}") for area, verbs in policy.AREAS.items()
                  for verb in verbs]


class GrantView(ScopedModelView):
    column_list = ("role", "area", "action", "scope")
    column_export_list = ("role", "area", "action", "scope")
    column_default_sort = [("role", False), ("area", False), ("action", False)]
    column_searchable_list = ("area", "action")
    column_filters = (
        common.choice_filter(Grant.role, _l("角色"), ROLE_CHOICES),
        common.choice_filter(Grant.scope, _l("范围"), common.SCOPE),
        common.choice_filter(Grant.area, _l("领域"), [(a, a) for a in policy.AREAS]),
    )
    column_choices = {"role": ROLE_CHOICES, "scope": common.SCOPE}
    column_labels = {"role": _l("角色"), "area": _l("领域"), "action": _l("操作"),
                     "scope": _l("范围")}
    form_create_only = ("role", "action")
    permitted_sensitive_fields = ("role",)
    form_columns = ("scope",)
    form_choices = {"role": ROLE_CHOICES, "action": ACTION_CHOICES, "scope": common.SCOPE}
    create_service = f"{SERVICES}:add_grant"
    update_service = f"{SERVICES}:change_scope"
    delete_service = f"{SERVICES}:remove_grant"
    # grants have view/change only: adding and removing one is a change of the grant table.
    endpoint_verbs = {"create_view": ("change",), "delete_view": ("change",)}


def register(admin: Any) -> None:
    add_view(admin, GrantView, Grant, _l("授权"), _l("安全"), endpoint="grant")
