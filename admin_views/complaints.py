"""客户投诉: register, then the workflow buttons (assign, investigate, propose, approve, reply,
close, reject, extend, remind), each calling ``portal.services.complaints``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, has_request_context, request, url_for
from flask_admin.contrib.sqla.fields import QuerySelectField
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from wtforms import DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional

from admin_views import common, display
from admin_views.base import ScopedModelView, actor, add_view, translated
from admin_views.menu_names import MENU_CUSTOMERS
from admin_views.workflow import Operation, WorkflowMixin
from models import Complaint, Department, User
from portal import policy
from portal.extensions import db, orm_session
from portal.services import complaint_escalation, complaint_slices, list_presets
from portal.services import complaints as complaint_service
from portal.services.errors import ValidationFailed


def _handover_candidates() -> list[User]:
    """Salespeople to hand a customer to (R-COMP-7); the verb keeps other departments only."""
    return complaint_escalation.handover_candidates(orm_session())


def _departments() -> list[Department]:
    from sqlalchemy import select


    return list(db.session.scalars(select(Department).order_by(Department.code)))


def _staff() -> list[User]:
    from sqlalchemy import select


    return list(db.session.scalars(select(User).where(User.is_active.is_(True),
                                                      User.department_id.is_not(None))
                                   .order_by(User.department_id, User.full_name)))


def _person_label(user: User) -> str:
    dept = user.department.name if user.department else ""
    return f"{user.full_name}（{dept}）" if dept else user.full_name


def _preset(name: str) -> Any:
    """The list preset ``name`` of ``portal.services.list_presets`` (GraphQL's
    ``filter.preset`` selects the same rows)."""
    return lambda user: list_presets.complaint_preset_sql(orm_session(), user, name)


_SLICE_DIMENSIONS = {"type": _l("类别"), "cause": _l("原因"), "severity": _l("严重程度"),
                     "status": _l("状态"), "department": _l("责任部门")}


def _slice_label(chosen: complaint_slices.Slice) -> str:
    """"2026-10 结案 · 原因：质量" in the reader's language."""
    from portal.services.reports import LABELS

    msgid = LABELS.get(chosen.dimension, {}).get(chosen.value)
    value = gettext(msgid) if msgid else chosen.value
    basis = _l("当月结案") if chosen.basis == "closed" else _l("当月登记")
    return (f"{chosen.year:04d}-{chosen.month:02d} {basis} · "
            f"{_SLICE_DIMENSIONS[chosen.dimension]}{_l('：')}{value}")


def _op(name: str, label: Any, action: str, fields: dict[str, Any] | None = None,
        tone: str = "primary", function: Callable[..., Any] | None = None) -> Operation:
    """A workflow button calling ``complaints.<name>`` (or ``function``) under the policy action
    ``complaint.<action>``; a misspelt verb fails at import."""
    return Operation(name, label, f"complaint.{action}",
                     function or getattr(complaint_service, name), fields or {}, tone=tone)


class ComplaintView(WorkflowMixin, ScopedModelView):
    column_list = ("number", "customer", "type", "cause", "severity", "status", "registered_at",
                   "deadline_at", "handler", "received_by")
    column_details_list = ("number", "customer", "channel", "type", "cause", "severity",
                           "major_reason", "description", "accused_user", "received_by",
                           "handler", "responsible_department", "status", "registered_at",
                           "deadline_at", "extended", "extension_reason", "resolution",
                           "compensation_amount", "rejection_reason", "satisfaction",
                           "closed_at")
    column_export_list = ("number", "customer", "channel", "type", "cause", "severity",
                          "status", "registered_at", "deadline_at", "handler", "description",
                          "resolution", "compensation_amount", "satisfaction", "closed_at")
    column_searchable_list = ("number",)

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any,
                      search: str) -> Any:
        """By complaint number or by the customer's name, code or phone (the service's
        condition, the same as GraphQL ``filter.search``)."""
        from portal.services.search import complaint_search

        text = (search or "").strip()
        if text:
            condition = complaint_search(actor(), text)
            query = query.filter(condition)
            if count_query is not None:
                count_query = count_query.filter(condition)
        return query, count_query, joins, count_joins

    def search_placeholder(self) -> str | None:
        return str(_l("投诉编号、客户名称、编码或电话"))
    column_default_sort = ("registered_at", True)
    column_filters = (
        common.choice_filter(Complaint.status, _l("状态"), common.COMPLAINT_STATUS),
        common.choice_filter(Complaint.type, _l("类别"), common.COMPLAINT_TYPE),
        common.choice_filter(Complaint.severity, _l("严重程度"), common.SEVERITY),
        common.choice_filter(Complaint.cause, _l("原因"), common.COMPLAINT_CAUSE),
        common.ScopedFilterEqual(Complaint.handler_id, _l("处理人"), User),
        common.ScopedFilterEqual(Complaint.responsible_department_id, _l("责任部门"),
                                 Department),
    )
    column_choices = {"channel": common.COMPLAINT_CHANNEL, "type": common.COMPLAINT_TYPE,
                      "cause": common.COMPLAINT_CAUSE, "severity": common.SEVERITY,
                      "status": common.COMPLAINT_STATUS}
    column_formatters_export: dict[str, Any] = {}  # exports stay plain values
    column_formatters = {
        "number": display.details_link,
        "status": display.choice_badge(common.COMPLAINT_STATUS, display.COMPLAINT_STATUS_TONES),
        "deadline_at": display.complaint_deadline,
    }
    column_labels = dict(common.COMMON_LABELS, **{
        "number": _l("投诉编号"), "channel": _l("渠道"), "type": _l("类别"),
        "cause": _l("原因"), "severity": _l("严重程度"), "major_reason": _l("重大原因"),
        "description": _l("投诉内容"), "accused_user": _l("被投诉人"),
        "received_by": _l("首问责任人"), "handler": _l("处理人"),
        "responsible_department": _l("责任部门"), "registered_at": _l("登记时间"),
        "deadline_at": _l("处理时限"), "extended": _l("已延期"),
        "extension_reason": _l("延期原因"), "resolution": _l("处理方案"),
        "compensation_amount": _l("赔偿 / 补偿"), "rejection_reason": _l("不予受理原因"),
        "satisfaction": _l("满意度回访"), "closed_at": _l("结案时间"),
    })
    form_columns = ("customer", "channel", "type", "cause", "severity", "major_reason",
                    "description", "accused_user", "responsible_department")
    form_choices = {"channel": common.COMPLAINT_CHANNEL, "type": common.COMPLAINT_TYPE,
                    "cause": common.COMPLAINT_CAUSE, "severity": common.SEVERITY}
    form_ajax_refs = {"customer": {"fields": ("name", "code"), "page_size": 10}}
    create_service = complaint_service.register_complaint
    operations = (
        _op("assign", _l("分派"), "assign",
            {"handler_id": SelectField(_l("处理人"), coerce=int, validators=[DataRequired()],
                                       render_kw={"data-role": "select2"})}),
        _op("start_investigation", _l("开始调查"), "handle"),
        _op("propose_resolution", _l("提出处理方案"), "handle",
            {"resolution": TextAreaField(_l("处理方案"), validators=[DataRequired()]),
             "compensation_amount": DecimalField(_l("赔偿 / 补偿"), default=0,
                                                 validators=[Optional(), NumberRange(min=0)])}),
        _op("approve", _l("批准方案"), "approve",
            {"note": TextAreaField(_l("审批意见"), validators=[Optional()])}, tone="success"),
        Operation("return_resolution", _l("退回重新调查"), "complaint.approve",
                  complaint_service.approve,
                  {"note": TextAreaField(_l("退回原因"), validators=[DataRequired()])},
                  {"accept": False}, "warning"),
        _op("reply", _l("答复客户"), "handle"),
        _op("close", _l("结案"), "close",
            {"satisfaction": SelectField(_l("满意度回访"), coerce=int,
                                         choices=[(i, str(i)) for i in range(5, 0, -1)]),
             # R-COMP-11: whose fault it was (the service requires it for a 投诉)
             "fault_department_id": QuerySelectField(
                 _l("责任部门"), query_factory=_departments, get_label="name",
                 allow_blank=True, blank_text="—", validators=[Optional()]),
             "fault_team": StringField(_l("责任班组"), validators=[Optional()]),
             "fault_user_id": QuerySelectField(
                 _l("责任人"), query_factory=_staff, get_label=_person_label,
                 allow_blank=True, blank_text="—", validators=[Optional()]),
             "fault_cause": SelectField(_l("责任原因"), choices=[
                 ("", "—"), ("quality", _l("品质原因")), ("non_quality", _l("非品质原因"))],
                 validators=[Optional()])},
            tone="success"),
        _op("reject", _l("不予受理"), "reject",
            {"reason": TextAreaField(_l("原因"), validators=[DataRequired()])}, tone="danger"),
        _op("extend", _l("申请延期"), "extend",
            {"reason": StringField(_l("原因"), validators=[DataRequired()]),
             "working_days": IntegerField(_l("延长工作日"), validators=[
                 DataRequired(), NumberRange(min=1, max=30)])}, tone="warning"),
        _op("remind", _l("催办"), "remind",
            {"note": StringField(_l("催办说明"), validators=[Optional()])}, tone="warning"),
        Operation("regrade_major", _l("升级为重大投诉"), "complaint.assign",
                  complaint_escalation.regrade_major,
                  {"reason": TextAreaField(_l("重大原因"), validators=[DataRequired()])},
                  tone="danger"),
        Operation("hand_to_other_department", _l("移交其他部门"), "complaint.approve",
                  complaint_escalation.hand_to_other_department,
                  {"new_owner_id": QuerySelectField(
                      _l("新归属人"), query_factory=_handover_candidates,
                      get_label=_person_label, validators=[DataRequired()]),
                   "reason": TextAreaField(_l("原因"), validators=[DataRequired()])},
                  tone="warning"),
    )
    endpoint_verbs = {"workflow_view": tuple(sorted({o.action for o in operations}))}
    presets = {"open": (_l("处理中的投诉"), _preset("open")),
               "overdue": (_l("超时投诉"), _preset("overdue"))}

    def prepare_form(self, o: Operation, form: Any, obj: Any) -> None:
        if o.name == "assign":
            form.handler_id.choices = [
                (u.id, display.person_label(u))
                for u in complaint_service.handler_candidates(orm_session(), obj)]

    # ------------------------------------------------------------ report click-through
    list_template = "admin/complaint_list.html"

    def report_slice(self) -> complaint_slices.Slice | None:
        """The monthly-report bar this list was opened from (R-COMP-8), if any."""
        if not has_request_context():
            return None
        try:
            return complaint_slices.parse_slice(request.args)
        except ValidationFailed:
            return None

    def _with_preset(self, stmt: Any) -> Any:
        stmt = super()._with_preset(stmt)
        chosen = self.report_slice()
        if chosen is not None and self._row_verb() in ("view", "export"):
            stmt = stmt.where(complaint_slices.slice_condition(chosen))
        return stmt

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.list_template and has_request_context():
            try:
                chosen = complaint_slices.parse_slice(request.args)
            except ValidationFailed as exc:
                flash(translated(exc), "error")
                chosen = None
            if chosen is not None:
                kwargs["report_slice_label"] = _slice_label(chosen)
                kwargs["report_slice_clear"] = url_for(".index_view")
        return super().render(template, **kwargs)

    decision_columns = ("customer", "type", "severity", "major_reason", "description",
                        "accused_user", "handler", "deadline_at", "resolution",
                        "compensation_amount", "status")
    step_labels = dict(common.COMPLAINT_STATUS)

    def extra_context(self, obj: Any) -> list[tuple[Any, Any]]:
        """Who proposed the resolution being decided."""

        proposer = complaint_service.proposer(orm_session(), obj)
        return [(_l("方案提出人"), display.person_label(proposer))] if proposer else []

    def available_ops(self, obj: Any) -> list[Operation]:
        """Approving needs every approval the resolution calls for (major: the general
        manager, R-COMP-3; compensation above the threshold, R-COMP-10): no button that
        would only answer 403."""
        ops = super().available_ops(obj)
        if any(o.action == "complaint.approve" for o in ops):
            needed = complaint_service.approval_actions(orm_session(), obj)
            if not all(policy.can(actor(), a, obj) for a in needed):
                ops = [o for o in ops if o.action != "complaint.approve"]
        return ops

    def allowed_transitions(self, obj: Any) -> set[str] | None:
        fn = complaint_service.allowed_operations
        if fn is None:
            return None
        result = fn(obj)
        if result is None:
            return None
        allowed = {str(getattr(r, "value", r)) for r in result}
        if "approve" in allowed:  # the approver may also send the resolution back
            allowed.add("return_resolution")
        return allowed


def register(admin: Any) -> None:
    add_view(admin, ComplaintView, Complaint, _l("客户投诉"), MENU_CUSTOMERS, endpoint="complaint")
