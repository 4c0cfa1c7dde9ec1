"""客户信用: evaluations (客户信用评定表) and credit lines (授信) with the propose → review →
approve chain, all through ``portal.services.credit``."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Optional

from admin_views import common, display
from admin_views.base import ScopedModelView, actor, add_view
from admin_views.workflow import Operation, WorkflowMixin
from models import CreditEvaluation, CreditLine
from portal.extensions import db, orm_session
from portal.services import credit as credit_service
from portal.services import credit_read, credit_status

ANSWERS = ("years_of_cooperation", "bad_debt_2y", "promise_keeping", "debt_disputes",
           "capital_strength", "operating_condition", "serious_decline", "illegal_operation",
           "ordered_to_stop", "accounts_frozen_risk", "avg_monthly_shipments",
           "avg_monthly_receipts", "receipts_meet_standard", "collateral_value")


def _review_due(user: Any) -> Any:
    """The customer's latest evaluation is older than the review interval (R-CRED-7)."""
    return credit_read.evaluation_review_due_sql(orm_session())


def _pending(user: Any) -> Any:
    return credit_service.awaiting_decision_sql()


CREDIT_LABELS = dict(common.COMMON_LABELS, **{
    "rating": _l("信用等级"), "rating_reason": _l("评定依据"), "evaluated_by": _l("评定人"),
    "evaluated_at": _l("评定时间"), "years_of_cooperation": _l("合作年限"),
    "bad_debt_2y": _l("两年内坏账"), "promise_keeping": _l("履约情况"),
    "debt_disputes": _l("债务纠纷"), "capital_strength": _l("资金实力"),
    "operating_condition": _l("经营状况"), "serious_decline": _l("经营严重下滑"),
    "illegal_operation": _l("违法经营"), "ordered_to_stop": _l("被责令停业"),
    "accounts_frozen_risk": _l("账户冻结风险"), "avg_monthly_shipments": _l("月均发货额"),
    "avg_monthly_receipts": _l("月均回款额"), "receipts_meet_standard": _l("回款达标"),
    "collateral_value": _l("抵押担保"), "limit_amount": _l("信用额度"),
    "term_days": _l("回款期限（天）"), "is_raise": _l("提额"), "raise_reason": _l("提额理由"),
    "proposed_by": _l("提出人"), "proposed_at": _l("提出时间"), "reviewed_by": _l("审核人"),
    "reviewed_at": _l("审核时间"), "approved_by": _l("审批人"), "approved_at": _l("审批时间"),
    "valid_from": _l("生效日期"), "valid_until": _l("失效日期"), "evaluation": _l("信用评定"),
})


class _CustomerChildView(ScopedModelView):
    """The create verbs of this area take ``(session, actor, customer_id, data)``."""

    def call_create(self, fn: Any, data: dict[str, Any]) -> Any:
        customer_id = data.pop("customer_id", None)
        return fn(db.session, actor(), customer_id, data)


class CreditEvaluationView(_CustomerChildView):
    column_list = ("customer", "rating", "evaluated_at", "evaluated_by")
    column_details_list = ("customer", "rating", "rating_reason", *ANSWERS, "evaluated_by",
                           "evaluated_at")
    column_export_list = ("customer", "rating", "rating_reason", *ANSWERS, "evaluated_at")
    column_default_sort = ("evaluated_at", True)
    column_filters = (common.choice_filter(CreditEvaluation.rating, _l("信用等级"),
                                           common.RATING),)
    column_choices = {"promise_keeping": common.QUALITY3, "operating_condition": common.QUALITY3,
                      "capital_strength": common.CAPITAL}
    column_labels = CREDIT_LABELS
    form_columns = ("customer", *ANSWERS)
    form_choices = {"promise_keeping": common.QUALITY3, "operating_condition": common.QUALITY3,
                    "capital_strength": common.CAPITAL}
    form_ajax_refs = {"customer": {"fields": ("name", "code"), "page_size": 10}}
    create_service = credit_service.evaluate
    endpoint_verbs = {"create_view": ("credit.evaluate",), "ajax_lookup": ("credit.evaluate",)}
    presets = {"review_due": (_l("到期待复评的信用评定"), _review_due)}


_LINE_BADGE = display.choice_badge(common.LINE_STATUS_SHOWN, display.LINE_STATUS_TONES)


def _shown_status_badge(view: Any, context: Any, model: Any, name: str) -> Any:
    """The status as people see it: an approved line may be lapsed or suspended (R-CRED-4)."""
    shown = credit_status.shown_status(orm_session(), model)
    return _LINE_BADGE(view, context, SimpleNamespace(status=shown), "status")


class CreditLineView(WorkflowMixin, _CustomerChildView):
    column_list = ("customer", "kind", "limit_amount", "term_days", "status", "proposed_by",
                   "proposed_at", "valid_until")
    column_details_list = ("customer", "evaluation", "kind", "limit_amount", "term_days",
                           "collateral_value", "status", "is_raise", "raise_reason",
                           "proposed_by", "proposed_at", "reviewed_by", "reviewed_at",
                           "approved_by", "approved_at", "valid_from", "valid_until")
    column_export_list = ("customer", "kind", "limit_amount", "term_days", "collateral_value",
                          "status", "proposed_at", "approved_at", "valid_from", "valid_until")
    column_default_sort = ("proposed_at", True)
    column_filters = (
        common.choice_filter(CreditLine.status, _l("状态"), common.LINE_STATUS),
        common.choice_filter(CreditLine.kind, _l("类型"), common.LINE_KIND),
    )
    column_choices = {"kind": common.LINE_KIND, "status": common.LINE_STATUS}
    column_formatters_export: dict[str, Any] = {}  # exports stay plain values
    column_formatters = {"status": _shown_status_badge}
    column_formatters_detail = {"status": _shown_status_badge}
    column_labels = CREDIT_LABELS
    # "提额" (is_raise) is decided by the service (a limit above the one in force), not ticked
    form_columns = ("customer", "kind", "limit_amount", "term_days", "collateral_value",
                    "raise_reason")
    form_choices = {"kind": common.LINE_KIND}
    form_ajax_refs = {"customer": {"fields": ("name", "code"), "page_size": 10}}
    create_service = credit_service.propose_line
    _note = {"note": StringField(_l("意见"), validators=[Optional()])}
    operations = (
        Operation("review_accept", _l("审核通过"), "credit.review", credit_service.review_line,
                  dict(_note), {"accept": True}, "success"),
        Operation("review_reject", _l("审核驳回"), "credit.review", credit_service.review_line,
                  dict(_note), {"accept": False}, "danger"),
        Operation("approve_accept", _l("批准"), "credit.approve", credit_service.approve_line,
                  dict(_note), {"accept": True}, "success"),
        Operation("approve_reject", _l("不批准"), "credit.approve", credit_service.approve_line,
                  dict(_note), {"accept": False}, "danger"),
    )
    endpoint_verbs = {"create_view": ("credit.propose",), "ajax_lookup": ("credit.propose",),
                      "workflow_view": ("credit.review", "credit.approve")}
    presets = {"pending": (_l("待审核 / 审批的授信"), _pending),
               # R-CRED-4: the derived statuses, through the service's one expression
               "suspended": (_l("已暂停的授信"),
                             lambda user: credit_status.shown_as_sql([credit_status.SUSPENDED])),
               "lapsed": (_l("已失效的授信"),
                          lambda user: credit_status.shown_as_sql([credit_status.LAPSED]))}

    decision_columns = ("customer", "kind", "limit_amount", "term_days", "collateral_value",
                        "is_raise", "raise_reason", "proposed_by", "proposed_at", "reviewed_by",
                        "status")
    step_labels = {"propose": _l("提出"), "review": _l("审核通过"), "approve": _l("批准"),
                   "reject": _l("驳回")}

    def extra_context(self, obj: Any) -> list[tuple[Any, Any]]:
        """The evaluation the caps come from (R-CRED-4): rating and its reasons, the monthly
        amount the limit may not exceed, the collateral evaluated."""

        ev = obj.evaluation or credit_service.latest_evaluation(orm_session(), obj.customer_id)
        if ev is None:
            return [(_l("信用等级"), _l("无信用评定"))]
        rows: list[tuple[Any, Any]] = [
            (_l("信用等级"), display.badge(ev.rating, {"A": "success", "B": "warning",
                                                     "C": "danger"}.get(ev.rating, "light"))),
            (_l("评定理由"), ev.rating_reason),
            (_l("额度上限依据（月均发货与回款较小者）"),
             display.money(credit_service.monthly_amount(ev))),
        ]
        if ev.collateral_value:
            rows.append((_l("评定的抵押担保"), display.money(ev.collateral_value)))
        return rows

    def allowed_transitions(self, obj: Any) -> set[str] | None:
        step = credit_service.next_step(obj)
        return {o.name for o in self.operations if step and o.action == f"credit.{step}"}


def register(admin: Any) -> None:
    add_view(admin, CreditEvaluationView, CreditEvaluation, _l("信用评定"), _l("客户信用"),
             endpoint="creditevaluation")
    add_view(admin, CreditLineView, CreditLine, _l("授信"), _l("客户信用"), endpoint="creditline")
