"""规则设置 and 工作日历 (system administrator): through portal.services.configuration."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from admin_views import common
from admin_views.base import ScopedModelView, actor, add_view
from models import CalendarDay, Setting
from portal import settings as portal_settings
from portal.extensions import db

SERVICES = "portal.services.configuration"


class SettingView(ScopedModelView):
    column_list = ("key", "value", "description", "updated_at")
    column_details_list = ("key", "value", "description", "updated_at", "updated_by_id")
    column_export_list = ("key", "value", "description", "updated_at")
    column_searchable_list = ("key",)
    column_default_sort = "key"
    column_labels = {"key": _l("设置项"), "value": _l("取值"), "description": _l("说明"),
                     "updated_at": _l("更新时间"), "updated_by_id": _l("更新人")}
    form_create_only = ("key",)
    form_columns = ("value", "description")
    form_choices = {"key": [(k, k) for k in sorted(portal_settings.DEFAULTS)]}
    create_service = f"{SERVICES}:update_setting"
    update_service = f"{SERVICES}:update_setting"
    delete_service = f"{SERVICES}:reset_setting"

    def call_create(self, fn: Any, data: dict[str, Any]) -> Any:
        return fn(db.session, actor(), data.get("key") or "", data)


class CalendarDayView(ScopedModelView):
    column_list = ("day", "kind", "name")
    column_export_list = ("day", "kind", "name")
    column_default_sort = ("day", True)
    column_choices = {"kind": common.DAY_KIND}
    column_filters = (common.choice_filter(CalendarDay.kind, _l("类型"), common.DAY_KIND),)
    column_labels = {"day": _l("日期"), "kind": _l("类型"), "name": _l("名称")}
    form_create_only = ("day",)
    form_columns = ("kind", "name")
    form_choices = {"kind": common.DAY_KIND}
    create_service = f"{SERVICES}:add_calendar_day"
    update_service = f"{SERVICES}:update_calendar_day"
    delete_service = f"{SERVICES}:delete_calendar_day"


def register(admin: Any) -> None:
    add_view(admin, SettingView, Setting, _l("规则设置"), _l("系统设置"), endpoint="setting")
    add_view(admin, CalendarDayView, CalendarDay, _l("工作日历"), _l("系统设置"),
             endpoint="calendarday")
