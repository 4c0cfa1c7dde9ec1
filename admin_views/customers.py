"""客户档案: the customer list, details with contacts, owner history and follow-ups, and the
reassign / follow-up actions. Writes go to ``portal.services.customers``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import and_, or_, select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from admin_views import common
from admin_views.base import ScopedModelView, actor, add_view, service
from models import Branch, Customer, FollowUp, User
from portal import clock, policy
from portal.extensions import db

SERVICES = "portal.services.customers"


def _mine(user: Any) -> Any:
    return Customer.owner_id == user.id


def _follow_up_due(user: Any) -> Any:
    """Open customers whose next follow-up is due: the latest follow-up's due date has
    passed, or none was recorded within the first-follow-up window (R-CUST-4)."""
    from portal import settings

    now = clock.now()
    first_days = settings.get(db.session, "customer.first_follow_up_days")
    latest_due = (select(FollowUp.next_due_at).where(FollowUp.customer_id == Customer.id)
                  .order_by(FollowUp.happened_at.desc()).limit(1).scalar_subquery())
    has_any = select(FollowUp.id).where(FollowUp.customer_id == Customer.id).exists()
    return and_(Customer.status.in_(("prospect", "active")),
                or_(latest_due <= now,
                    and_(~has_any, Customer.registered_at <= now - timedelta(days=first_days))))


def _void(user: Any) -> Any:
    """废卡 or ownership expired without a deal (R-CUST-2, R-CUST-4): may be reassigned."""
    now = clock.now()
    return or_(Customer.status == "void",
               and_(Customer.status == "prospect", Customer.deal_at.is_(None),
                    Customer.ownership_expires_at.is_not(None),
                    Customer.ownership_expires_at < now))


class ReassignForm(FlaskForm):
    new_owner = SelectField(_l("新归属人"), coerce=int, validators=[DataRequired()])
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(max=300)])


class FollowUpForm(FlaskForm):
    kind = SelectField(_l("方式"), choices=common.FOLLOW_UP_KIND, validators=[DataRequired()])
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=2000)])


class CustomerView(ScopedModelView):
    details_template = "admin/customer_details.html"
    column_list = ("code", "name", "kind", "phone", "importance", "intent", "status", "owner",
                   "branch", "registered_at", "ownership_expires_at")
    column_details_list = ("code", "name", "kind", "special_category", "phone", "credit_code",
                           "address", "website", "source", "importance", "intent", "status",
                           "owner", "branch", "department", "referrer", "registered_at",
                           "first_contact_at", "ownership_expires_at", "deal_at",
                           "last_service_at", "outstanding_balance", "transaction_summary",
                           "notes", "closed_at")
    column_export_list = ("code", "name", "kind", "phone", "credit_code", "address", "source",
                          "importance", "intent", "status", "owner", "branch", "department",
                          "registered_at", "deal_at", "outstanding_balance", "notes")
    column_searchable_list = ("name", "phone", "code", "credit_code")
    column_filters = (
        common.ScopedFilterEqual(Customer.owner_id, _l("归属人"), User),
        common.ScopedFilterEqual(Customer.branch_id, _l("门店/展厅"), Branch),
        common.choice_filter(Customer.importance, _l("重要级别"), common.IMPORTANCE),
        common.choice_filter(Customer.status, _l("状态"), common.CUSTOMER_STATUS),
        common.choice_filter(Customer.intent, _l("意向级别"), common.INTENT),
        common.choice_filter(Customer.kind, _l("客户类型"), common.CUSTOMER_KIND),
    )
    column_default_sort = ("id", True)
    column_choices = {"kind": common.CUSTOMER_KIND, "source": common.CUSTOMER_SOURCE,
                      "intent": common.INTENT, "status": common.CUSTOMER_STATUS}
    column_labels = dict(common.COMMON_LABELS, **{
        "code": _l("客户编号"), "name": _l("客户名称"), "kind": _l("客户类型"),
        "special_category": _l("特殊类别"), "credit_code": _l("统一社会信用代码"),
        "address": _l("地址"), "website": _l("网址"), "source": _l("来源"),
        "importance": _l("重要级别"), "intent": _l("意向级别"), "referrer": _l("推荐人"),
        "registered_at": _l("建档时间"), "first_contact_at": _l("首次接触"),
        "ownership_expires_at": _l("建档有效期至"), "deal_at": _l("成交时间"),
        "last_service_at": _l("最近服务"), "outstanding_balance": _l("应收余额"),
        "transaction_summary": _l("交易概况"), "closed_at": _l("关闭时间"),
    })
    form_columns = ("name", "kind", "special_category", "phone", "credit_code", "address",
                    "website", "source", "importance", "intent", "notes")
    form_choices = {"kind": common.CUSTOMER_KIND, "source": common.CUSTOMER_SOURCE,
                    "importance": common.IMPORTANCE, "intent": common.INTENT}
    editable_list_columns = ("importance", "intent")
    create_service = f"{SERVICES}:create_customer"
    update_service = f"{SERVICES}:update_customer"
    action_verbs = {"reassign": "customer.reassign", "follow_up": "customer.follow_up"}
    endpoint_verbs = {"reassign_view": ("customer.reassign",),
                      "follow_up_view": ("customer.follow_up",)}
    presets = {"mine": (_l("我的客户"), _mine),
               "follow_up_due": (_l("待回访客户"), _follow_up_due),
               "void": (_l("废卡 / 可重新分配"), _void)}

    def supports(self, endpoint: str) -> bool:
        if endpoint == "reassign_view":
            return service(f"{SERVICES}:reassign_owner") is not None
        if endpoint == "follow_up_view":
            return service(f"{SERVICES}:record_follow_up") is not None
        return super().supports(endpoint)

    def is_action_allowed(self, name: str) -> bool:
        endpoint = {"reassign": "reassign_view", "follow_up": "follow_up_view"}.get(name)
        if endpoint and not self.supports(endpoint):
            return False
        return super().is_action_allowed(name)

    @action("follow_up", _l("记录回访"))
    def action_follow_up(self, ids: list[str]) -> Any:
        return redirect(self.get_url(".follow_up_view", ids=",".join(ids), url=request.url))

    @action("reassign", _l("客户移交"))
    def action_reassign(self, ids: list[str]) -> Any:
        return redirect(self.get_url(".reassign_view", ids=",".join(ids), url=request.url))

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.details_template and "model" in kwargs:
            model = kwargs["model"]
            links = []
            if self.is_action_allowed("follow_up") and policy.can(
                    actor(), "customer.follow_up", model):
                links.append((self.get_url(".follow_up_view", ids=model.id), _l("记录回访")))
            if self.is_action_allowed("reassign") and policy.can(
                    actor(), "customer.reassign", model):
                links.append((self.get_url(".reassign_view", ids=model.id), _l("客户移交")))
            kwargs["action_links"] = links
            kwargs["follow_up_kinds"] = dict(common.FOLLOW_UP_KIND)
        return super().render(template, **kwargs)

    def _form_page(self, form: Any, rows: list[Any], title: Any, submit: Any) -> Any:
        return self.render("admin/portal_form.html", form=form, rows=rows, title=title,
                           submit=submit, ids=",".join(self.selected_ids()),
                           return_url=self.get_url(".index_view"))

    @expose("/follow-up/", methods=("GET", "POST"))
    def follow_up_view(self) -> Any:
        ids = self.selected_ids()
        rows, _refused = self.scoped_rows(ids, "customer.follow_up")
        if not rows:
            abort(404)
        form = FollowUpForm()
        if request.method == "POST" and form.validate():
            fn = service(f"{SERVICES}:record_follow_up")
            self.each_row(ids, "customer.follow_up", lambda row: fn(
                db.session, actor(), row.id, form.kind.data, notes=form.notes.data or None))
            return redirect(self.get_url(".index_view"))
        return self._form_page(form, rows, _l("记录回访"), _l("保存"))

    @expose("/reassign/", methods=("GET", "POST"))
    def reassign_view(self) -> Any:
        ids = self.selected_ids()
        rows, _refused = self.scoped_rows(ids, "customer.reassign")
        if not rows:
            abort(404)
        form = ReassignForm()
        branch_ids = {r.branch_id for r in rows}
        candidates: list[User] = []
        for branch_id in sorted(branch_ids):
            stmt = policy.scope(policy.owner_candidates_stmt(branch_id), actor(), User)
            candidates += list(db.session.scalars(stmt))
        form.new_owner.choices = [(u.id, str(u)) for u in candidates]
        if request.method == "POST" and form.validate():
            fn = service(f"{SERVICES}:reassign_owner")
            self.each_row(ids, "customer.reassign", lambda row: fn(
                db.session, actor(), row.id, form.new_owner.data, form.reason.data))
            return redirect(self.get_url(".index_view"))
        return self._form_page(form, rows, _l("客户移交"), _l("移交"))


def register(admin: Any) -> None:
    add_view(admin, CustomerView, Customer, _l("客户档案"), _l("客户"), endpoint="customer")
