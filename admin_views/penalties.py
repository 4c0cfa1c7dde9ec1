"""处罚通知单 (R-COMP-11): the notices drafted when a substantiated complaint is closed; the
general manager confirms or waives them (with a reason) from the details page; the monthly
list of confirmed notices for HR (CSV). Everything through ``portal.services.penalties``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, request
from flask_admin import expose
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired

from admin_views import common
from admin_views.base import ScopedModelView, actor, add_view, translated
from admin_views.reports import export_response
from admin_views.workflow import Operation, WorkflowMixin
from models import PenaltyNotice
from portal.extensions import db
from portal.services import penalties, report_access
from portal.services.errors import DomainError, PermissionDenied
from portal.services.receivables import money

STATUS = [("draft", _l("待总经理确认")), ("confirmed", _l("已确认")), ("waived", _l("已免除"))]


def _draft(user: Any) -> Any:
    return penalties.draft_sql()


class PenaltyNoticeView(WorkflowMixin, ScopedModelView):
    column_list = ("complaint", "department", "total_amount", "status", "drafted_at",
                   "decided_by", "decided_at")
    column_details_list = ("complaint", "department", "lines", "total_amount", "status",
                           "drafted_at", "decided_by", "decided_at", "waiver_reason")
    column_export_list = column_list
    column_default_sort = ("drafted_at", True)
    column_filters = (common.choice_filter(PenaltyNotice.status, _l("状态"), STATUS),)
    column_choices = {"status": STATUS}
    column_labels = dict(common.COMMON_LABELS, **{
        "complaint": _l("投诉编号"), "department": _l("责任部门"), "lines": _l("处罚明细"),
        "total_amount": _l("处罚金额合计"), "status": _l("状态"), "drafted_at": _l("拟定时间"),
        "decided_by": _l("决定人"), "decided_at": _l("决定时间"),
        "waiver_reason": _l("免除理由")})
    column_formatters = {
        "lines": lambda v, c, m, n: "；".join(
            f"{x.user.full_name} {penalties.GROUND_LABELS[x.ground].split(' / ')[0]} "
            f"{money(x.amount)}" for x in m.lines),
    }
    operations = (
        Operation("confirm", _l("确认处罚"), "complaint.confirm_penalty",
                  penalties.confirm_penalty, {}, {}, "success"),
        Operation("waive", _l("免除处罚"), "complaint.confirm_penalty",
                  penalties.waive_penalty,
                  {"reason": TextAreaField(_l("免除理由"), validators=[DataRequired()])}, {},
                  "warning"),
    )
    endpoint_verbs = {"workflow_view": ("complaint.confirm_penalty",),
                      "hr_view": ("penalty.view",)}
    presets = {"draft": (_l("待确认的处罚通知单"), _draft)}

    def allowed_transitions(self, obj: Any) -> set[str] | None:
        return {"confirm", "waive"} if penalties.is_draft(obj) else set()

    def supports(self, endpoint: str) -> bool:
        if endpoint == "hr_view":
            return True
        return super().supports(endpoint)

    @expose("/hr/")
    def hr_view(self) -> Any:
        """The month's confirmed penalties for HR (page and CSV)."""
        month = request.args.get("month") or report_access.default_month("penalties")
        rows: list[dict[str, Any]] | None = None
        try:
            rows = penalties.hr_list(db.session, actor(),
                                     report_access.month_arg("penalties", month))
        except PermissionDenied:
            abort(403)
        except DomainError as exc:
            flash(translated(exc), "error")
        report = penalties.hr_report(month, rows or [])
        fmt = request.args.get("format")
        if fmt and rows is not None:
            return export_response("penalties", report, fmt, f"penalties-{month}")
        return self.render("admin/penalties_hr.html", report=report, month=month,
                           money=money, can_export=report_access.may_export(actor(),
                                                                            "penalties"))


def register(admin: Any) -> None:
    add_view(admin, PenaltyNoticeView, PenaltyNotice, _l("处罚通知单"), _l("客户投诉"),
             endpoint="penaltynotice")
