"""审计日志: read-only for everyone (R-AUD-3); holders of audit.view read and export it.

The list is written for people (``portal.services.audit_log``): names, actions in words,
records linked where the reader may open them, company time, field changes with labels and
translated values. The row list with raw columns stays for export and details."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views import common
from admin_views.base import ScopedModelView, actor, add_view, translated
from admin_views.fields import company_time
from models import AuditEntry
from portal import setting_specs
from portal.extensions import db
from portal.services import audit_log
from portal.services.errors import DomainError

OUTCOME_TONES = {"ok": "success", "denied": "danger", "error": "warning"}


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
    # R-AUD-3: before/after values masked by the reader's field visibility (one function)
    column_formatters = {
        "before": lambda v, c, m, n: audit_log.masked_snapshot(actor(), m.target_type, m.before),
        "after": lambda v, c, m, n: audit_log.masked_snapshot(actor(), m.target_type, m.after)}
    column_formatters_export = column_formatters
    column_labels = {"seq": _l("序号"), "at": _l("时间"), "actor_name": _l("操作人"),
                     "actor_id": _l("操作人编号"), "action": _l("操作"),
                     "target_type": _l("对象类型"), "target_id": _l("对象编号"),
                     "outcome": _l("结果"), "before": _l("变更前"), "after": _l("变更后"),
                     "detail": _l("说明"), "remote_addr": _l("来源地址"),
                     "request_id": _l("请求编号")}
    page_size = 50
    page_size_options = (20, 50, 100)
    endpoint_verbs = {"log_view": ("view",), "verify_view": ("view",)}
    list_template = "admin/audit_rows.html"

    @expose("/")
    def index_view(self) -> Any:
        """The menu leads to the log for people; ``?rows=1`` (or any list parameter) shows
        the raw rows, kept for export and search by code."""
        if not request.args:
            return redirect(url_for(".log_view"))
        return super().index_view()

    @expose("/log/")
    def log_view(self) -> Any:
        """The log for people: filters on top, one card row per entry."""
        try:
            filters = audit_log.Filters.parse(request.args)
        except DomainError as exc:
            flash(translated(exc), "error")
            filters = audit_log.Filters()
        rows, more = audit_log.search(db.session, actor(), filters)
        status = audit_log.chain_status(db.session, actor())
        args = {k: v for k, v in request.args.items() if k != "page" and v}
        return self.render(
            "admin/audit_log.html", rows=rows, more=more, filters=filters, status=status,
            groups=audit_log.GROUP_LABELS, types=audit_log.TYPE_LABELS,
            outcomes=common.OUTCOME, tones=OUTCOME_TONES, args=args,
            link=self._link, field_label=self._field_label, value_text=self._value_text,
            target_text=self._target_text)

    @expose("/verify/", methods=("POST",))
    def verify_view(self) -> Any:
        results: list[Any] = []
        if self.run_service(lambda s, a: results.append(audit_log.verify_now(s, a))):
            report = results[0]
            if report.ok:
                flash(gettext("审计链完整：已校验 %(count)s 条记录。", count=report.verified),
                      "success")
            else:
                flash(gettext("审计链已被破坏：第 %(seq)s 条记录起校验失败。",
                              seq=report.broken_at), "error")
        return redirect(url_for(".log_view"))

    # ------------------------------------------------------------ presentation helpers
    def _view_for(self, model: type | None) -> Any:
        if model is None:
            return None
        for view in self.admin._views:
            if isinstance(view, ScopedModelView) and view.model is model:
                return view
        return None

    def _link(self, row: audit_log.Row) -> str | None:
        if not row.can_open or row.target is None:
            return None
        view = self._view_for(type(row.target))
        if view is None or not view.supports("details_view"):
            return None
        return url_for(f"{view.endpoint}.details_view", id=row.target.id)

    def _field_label(self, type_name: str | None, name: str) -> Any:
        model = audit_log.MODELS.get(type_name or "")
        view = self._view_for(model)
        labels = dict(common.COMMON_LABELS)
        if view is not None:
            labels.update(view.column_labels or {})
        if type_name == "Role":  # grant.matrix_change: "area.action" → its words
            from portal import vocabulary

            return gettext(vocabulary.ACTION_LABELS.get(name, name))
        if name in labels:
            return labels[name]
        if name.endswith("_id") and name[:-3] in labels:
            return labels[name[:-3]]
        return FIELD_WORDS.get(name, name)

    def _value_text(self, type_name: str | None, name: str, value: Any) -> Any:
        if value is None or value == "":
            return "—"
        if value == audit_log.MASK:
            return gettext("（无权查看）")
        if type_name == "Role":
            from portal import vocabulary

            return gettext(vocabulary.SCOPE_LABELS.get(str(value), str(value)))
        view = self._view_for(audit_log.MODELS.get(type_name or ""))
        choices = dict((view.column_choices or {}).get(name, [])) if view is not None else {}
        if name == "kind" and type_name == "CalendarDay":
            choices = dict(common.DAY_KIND)
        if not choices:
            choices = TYPE_VALUE_WORDS.get((type_name or "", name)) or VALUE_WORDS.get(name, {})
        if str(value) in {str(k) for k in choices}:
            return next(v for k, v in choices.items() if str(k) == str(value))
        if isinstance(value, bool):
            return gettext("是") if value else gettext("否")
        if isinstance(value, list | dict):
            return ", ".join(str(v) for v in (value if isinstance(value, list)
                                              else value.values()))
        moment = _stored_moment(value)
        return company_time(moment) if moment is not None else str(value)

    def _target_text(self, row: audit_log.Row) -> Any:
        e = row.entry
        if e.target_type == "Setting" and row.target_name:
            spec = setting_specs.spec_for(row.target_name)
            return gettext(spec.label) if spec else row.target_name
        if e.target_type == "Role" and row.target_name:
            from admin_views.common import role_labels as _role_labels

            return _role_labels().get(row.target_name, row.target_name)
        return row.target_name


def _stored_moment(value: Any) -> datetime | None:
    """A datetime kept in a snapshot as ISO text (portal.audit stores them so), else None;
    naive values are UTC like every stored datetime."""
    if not isinstance(value, str) or len(value) < 16 or value[10:11] != "T":
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Field names the area views do not label (stored in snapshots of services).
FIELD_WORDS: dict[str, Any] = {
    "kind": _l("类型"), "value": _l("取值"), "scope": _l("范围"), "role": _l("角色"),
    "area": _l("领域"), "year": _l("年份"), "holidays": _l("节假日天数"),
    "workdays": _l("调休上班日天数"), "changed": _l("变化天数"), "verified": _l("已校验条数"),
    "ok": _l("完整"), "broken_at": _l("破坏位置"), "reason": _l("原因"),
    "effective_level": _l("现行密级"), "request": _l("申请编号"), "changes": _l("更正内容"),
    "user": _l("人员"), "user_id": _l("人员"),
    # joint events (R-CUST-10)
    "date": _l("日期"), "session": _l("场次"), "venue": _l("地点"),
    "departments": _l("参加部门"), "coordinator": _l("协调助理"), "department": _l("部门"),
    "list_day": _l("名单日"), "confirmed": _l("已敲定"), "refused": _l("他部已敲定（冲突）"),
    "lost": _l("逾期提交，归他部"), "winner": _l("归属部门"), "ruled_out": _l("裁定归他部"),
    "customer": _l("客户"), "attended": _l("到场"), "amount": _l("成交金额"),
    "credited": _l("敲定人"),
    # archive loans (R-CUST-9)
    "days": _l("借阅天数"), "ends_at": _l("到期时间"),
}
# Values of those fields that are words (shown in the reader's language).
VALUE_WORDS: dict[str, dict[str, Any]] = {
    "session": {"afternoon": _l("下午场"), "evening": _l("晚场")},
}
# Values that are words only for one record type: (type, field) → {value: label}.
TYPE_VALUE_WORDS: dict[tuple[str, str], dict[str, Any]] = {
    ("ArchiveLoan", "status"): {
        "requested": _l("待审批"), "approved": _l("已批准"), "refused": _l("已驳回"),
        "returned": _l("已归还"), "revoked": _l("已收回"),
    },
}


def register(admin: Any) -> None:
    add_view(admin, AuditEntryView, AuditEntry, _l("审计日志"), _l("安全"), endpoint="auditentry")
