"""更正申请 (R-CUST-8): the list of correction requests in scope, the request form opened from a
dealt or closed customer's page, and the department manager's consent / refusal page. Writes go
to ``portal.services.customers.corrections``."""

from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from admin_views import common, display
from admin_views.base import ScopedModelView, actor, add_view
from admin_views.menu_names import MENU_CUSTOMERS
from models import CorrectionRequest, Customer
from portal import policy
from portal.extensions import db, orm_session
from portal.services.customers import corrections
from portal.services.unit import form_version

STATUS = [("pending", _l("待审批")), ("approved", _l("已同意")), ("refused", _l("已驳回"))]
FIELD_LABELS = {"name": _l("客户名称"), "phone": _l("电话"), "credit_code": _l("统一社会信用代码/身份证号"),
                "kind": _l("客户类别"), "special_category": _l("特殊类别"), "source": _l("来源")}


class CorrectionForm(FlaskForm):
    name = StringField(_l("客户名称"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=32)])
    credit_code = StringField(_l("统一社会信用代码/身份证号"), validators=[Optional(), Length(max=32)])
    kind = SelectField(_l("客户类别"), choices=common.CUSTOMER_KIND)
    special_category = StringField(_l("特殊类别"), validators=[Optional(), Length(max=32)])
    source = SelectField(_l("来源"), choices=common.CUSTOMER_SOURCE)
    reason = TextAreaField(_l("更正理由"), validators=[DataRequired(), Length(max=300)])


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("意见"), validators=[Optional(), Length(max=300)])


def _changes_formatter(view: Any, context: Any, model: Any, name: str) -> Markup:
    """The asked-for values, field by field (contact fields only for who may read them)."""
    values = json.loads(model.changes or "{}")
    hidden = set() if policy.group_visible(actor(), "customer_contact", model.customer) \
        else set(policy.FIELD_GROUPS[Customer]["customer_contact"])
    labels = dict(common.CUSTOMER_KIND) | dict(common.CUSTOMER_SOURCE)
    parts = [f"{escape(FIELD_LABELS.get(k, k))}：{escape(labels.get(v, v) if v else '—')}"
             for k, v in values.items() if k not in hidden]
    return Markup("<br>".join(parts))


_STATUS_BADGE = display.choice_badge(
    STATUS, {"pending": "warning", "approved": "success", "refused": "danger"})


class CorrectionRequestView(ScopedModelView):
    """更正申请: requests of archives in scope; the department manager consents or refuses."""

    details_template = "admin/portal_details.html"
    can_export = False
    column_list = ("id", "customer", "changes", "requested_by", "requested_at", "status",
                   "decided_by", "decided_at")
    column_details_list = ("id", "customer", "changes", "reason", "requested_by", "requested_at",
                           "status", "decided_by", "decided_at", "decision_comment")
    column_default_sort = ("id", True)
    column_choices = {"status": STATUS}
    column_filters = (common.choice_filter(CorrectionRequest.status, _l("状态"), STATUS),)
    column_formatters = {"changes": _changes_formatter, "status": _STATUS_BADGE}
    column_formatters_detail = {"changes": _changes_formatter, "status": _STATUS_BADGE}
    column_labels = {"id": _l("编号"), "customer": _l("客户"), "changes": _l("更正内容"),
                     "reason": _l("更正理由"), "requested_by": _l("申请人"),
                     "requested_at": _l("申请时间"), "status": _l("状态"),
                     "decided_by": _l("审批人"), "decided_at": _l("审批时间"),
                     "decision_comment": _l("意见")}
    endpoint_verbs = {"decide_view": ("customer.approve_correction",),
                      "request_view": ("customer.change",)}

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.details_template and "model" in kwargs:
            req = kwargs["model"]
            links = []
            if corrections.may_decide(actor(), req):
                links.append((self.get_url(".decide_view", id=req.id, approve=1), _l("同意更正")))
                links.append((self.get_url(".decide_view", id=req.id, approve=0), _l("驳回")))
            kwargs["action_links"] = links
        return super().render(template, **kwargs)

    def _back(self, customer_id: int) -> str:
        return self.get_url("customer.details_view", id=customer_id)

    @expose("/request/", methods=("GET", "POST"))
    def request_view(self) -> Any:
        """申请更正原始资料: opened from a dealt or closed customer's page."""
        customer = db.session.get(Customer, self.parse_pk(request.args.get("id")) or 0)
        if customer is None or not policy.can(actor(), "customer.change", customer):
            abort(404)
        form = CorrectionForm(obj=customer) if request.method == "GET" else CorrectionForm()
        if request.method == "POST" and form.validate():
            current = {k: getattr(customer, k) or "" for k in corrections.ORIGINAL_FIELDS}
            data = {k: getattr(form, k).data for k in corrections.ORIGINAL_FIELDS
                    if (getattr(form, k).data or "") != current[k]}
            if self.guarded(lambda: corrections.request_correction(
                    orm_session(), actor(), customer.id, data, form.reason.data)):
                flash(gettext("更正申请已提交，等待部门经理审批。"), "success")
                return redirect(self._back(customer.id))
        return self.render("admin/portal_form.html", form=form, rows=[customer],
                           title=_l("申请更正原始资料"), submit=_l("提交申请"), ids=None,
                           return_url=self._back(customer.id))

    @expose("/decide/", methods=("GET", "POST"))
    def decide_view(self) -> Any:
        req = self.get_one(request.args.get("id"))
        approve = request.args.get("approve") == "1"
        form = DecisionForm()
        if request.method == "POST" and form.validate() and self.guarded(
                lambda: corrections.decide_correction(
                    orm_session(), actor(), req.id, approve, form.comment.data or None,
                    expected_version=form_version(request.form.get("version")))):
            flash(gettext("已同意，更正已生效，原值保留在历史中。") if approve
                  else gettext("已驳回，档案未改变。"), "success")
            return redirect(self.get_url(".details_view", id=req.id))
        return self.render("admin/portal_form.html", form=form, rows=[req],
                           title=_l("同意更正") if approve else _l("驳回更正"),
                           submit=_l("同意") if approve else _l("驳回"), ids=None,
                           version=req.version,
                           return_url=self.get_url(".details_view", id=req.id))


def register(admin: Any) -> None:
    add_view(admin, CorrectionRequestView, CorrectionRequest, _l("更正申请"), MENU_CUSTOMERS,
             endpoint="correctionrequest")
