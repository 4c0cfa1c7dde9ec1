"""审计日志: read-only for everyone (R-AUD-3); holders of audit.view read and export it."""

from __future__ import annotations

from typing import Any

from flask_admin.contrib.sqla import filters as sqla_filters
from flask_babel import lazy_gettext as _l

from admin_views import common
from admin_views.base import ScopedModelView, add_view
from models import AuditEntry


class AuditEntryView(ScopedModelView):
    column_list = ("seq", "at", "actor_name", "action", "target_type", "target_id", "outcome",
                   "remote_addr")
    column_details_list = ("seq", "at", "actor_name", "actor_id", "action", "target_type",
                           "target_id", "outcome", "before", "after", "detail", "remote_addr",
                           "request_id")
    column_export_list = ("seq", "at", "actor_name", "action", "target_type", "target_id",
                          "outcome", "before", "after", "detail", "remote_addr", "request_id")
    column_default_sort = ("seq", True)
    column_searchable_list = ("actor_name", "action", "target_id", "detail")
    column_filters = (
        sqla_filters.FilterLike(AuditEntry.actor_name, _l("操作人")),
        sqla_filters.FilterLike(AuditEntry.action, _l("操作")),
        sqla_filters.FilterEqual(AuditEntry.target_type, _l("对象类型")),
        sqla_filters.FilterEqual(AuditEntry.target_id, _l("对象编号")),
        common.choice_filter(AuditEntry.outcome, _l("结果"), common.OUTCOME),
        sqla_filters.DateTimeBetweenFilter(AuditEntry.at, _l("时间")),
    )
    column_choices = {"outcome": common.OUTCOME}
    column_labels = {"seq": _l("序号"), "at": _l("时间"), "actor_name": _l("操作人"),
                     "actor_id": _l("操作人编号"), "action": _l("操作"),
                     "target_type": _l("对象类型"), "target_id": _l("对象编号"),
                     "outcome": _l("结果"), "before": _l("变更前"), "after": _l("变更后"),
                     "detail": _l("说明"), "remote_addr": _l("来源地址"),
                     "request_id": _l("请求编号")}
    page_size = 50
    page_size_options = (20, 50, 100)


def register(admin: Any) -> None:
    add_view(admin, AuditEntryView, AuditEntry, _l("审计日志"), _l("安全"), endpoint="auditentry")
