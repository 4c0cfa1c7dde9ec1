"""档案借阅 (R-CUST-9) in the portal: the borrowing register (my loans, requests waiting for my
decision, loans in force — presets of one scoped list), the request form (借阅档案: the archive
named by its exact code, full name or phone), and the loan's page with its decision buttons
(opened from the 待办). Writes go to ``portal.services.archive_loans``."""

from __future__ import annotations

from typing import Any

from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup
from sqlalchemy.orm import joinedload
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from admin_views import display
from admin_views.base import ScopedModelView, actor, add_view
from admin_views.menu_names import MENU_CUSTOMERS
from models import ArchiveLoan
from portal import policy, settings
from portal.extensions import orm_session
from portal.services import archive_loans
from portal.services.unit import form_version

STATE = [("requested", _l("待审批")), ("active", _l("借阅中")), ("expired", _l("已到期")),
         ("refused", _l("已驳回")), ("returned", _l("已归还")), ("revoked", _l("已收回"))]
TONES = {"requested": "warning", "active": "success", "expired": "secondary",
         "refused": "danger", "returned": "info", "revoked": "dark"}


class RequestForm(FlaskForm):
    archive = StringField(_l("档案编号 / 客户完整名称 / 电话"),
                          validators=[DataRequired(), Length(max=100)],
                          description=_l("须与档案完全一致；找不到或有多份符合时只会告诉您这一点。"))
    reason = TextAreaField(_l("借阅理由"), validators=[DataRequired(), Length(max=300)])
    days = IntegerField(_l("借阅工作日数"), default=1,
                        validators=[Optional(), NumberRange(min=1, max=30)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("理由"), validators=[Optional(), Length(max=300)])


def _state(view: Any, context: Any, model: Any, name: str) -> Any:
    value = archive_loans.state_of(model)
    return display.badge(dict(STATE).get(value, value), TONES.get(value, "light"),
                         f"status-{value}")


def _archive(view: Any, context: Any, model: Any, name: str) -> Any:
    """The archive asked for: code and name (what the borrower typed found); a link while the
    reader may open it."""
    c = model.customer
    text = f"{c.code} {c.name}"
    if policy.can(actor(), "customer.view", c):
        return Markup('<a href="{}">{}</a>').format(
            url_for("customer.details_view", id=c.id), text)
    return text


def _reads(view: Any, context: Any, model: Any, name: str) -> Any:
    """Reads during the loan (audited), counted once for the whole page."""
    counts = g.get("archive_loan_reads")
    if counts is None or model.id not in counts:
        rows = [r for r in (context.resolve("data") or []) if hasattr(r, "id")] \
            if context is not None else []
        counts = archive_loans.reads_of(orm_session(), [r.id for r in rows] or [model.id])
        g.archive_loan_reads = counts
    return counts.get(model.id, 0)


def _person(view: Any, context: Any, model: Any, name: str) -> str:
    person = getattr(model, name)
    return display.person_label(person) if person is not None else ""


def _mine(user: Any) -> Any:
    return ArchiveLoan.borrower_id == user.id


def _waiting(user: Any) -> Any:
    return ArchiveLoan.id.in_(archive_loans.waiting_for(user)
                              .with_only_columns(ArchiveLoan.id).order_by(None))


def _in_force(user: Any) -> Any:
    return archive_loans.in_force_sql()


class ArchiveLoanView(ScopedModelView):
    """借阅登记簿: loans of archives in the reader's scope and their own."""

    details_template = "admin/archive_loan_details.html"
    list_template = "admin/archive_loan_list.html"
    column_list = ("id", "archive", "borrower", "reason", "state", "decided_by", "ends_at",
                   "reads")
    column_details_list = ("id", "archive", "borrower", "reason", "requested_days",
                           "requested_at", "state", "decided_by", "decided_at",
                           "decision_reason", "starts_at", "ends_at", "returned_at", "ended_by",
                           "end_reason", "reads")
    column_export_list = ("id", "archive", "borrower", "reason", "requested_days", "state",
                          "decided_by", "starts_at", "ends_at", "reads")
    computed_columns = {"archive": None, "state": None, "reads": None}
    column_default_sort = ("id", True)
    column_formatters = {"archive": _archive, "state": _state, "reads": _reads,
                         "borrower": _person, "decided_by": _person, "ended_by": _person}
    column_formatters_detail = column_formatters
    column_formatters_export = {
        "archive": lambda v, c, m, n: f"{m.customer.code} {m.customer.name}",
        "state": lambda v, c, m, n: str(dict(STATE).get(archive_loans.state_of(m), "")),
        "reads": _reads, "borrower": _person, "decided_by": _person}
    column_labels = {"id": _l("编号"), "archive": _l("借阅档案"), "borrower": _l("借阅人"),
                     "reason": _l("借阅理由"), "requested_days": _l("借阅工作日数"),
                     "requested_at": _l("申请时间"), "state": _l("状态"),
                     "decided_by": _l("审批人"), "decided_at": _l("审批时间"),
                     "decision_reason": _l("审批意见"), "starts_at": _l("借阅起"),
                     "ends_at": _l("借阅止"), "returned_at": _l("归还/收回时间"),
                     "ended_by": _l("归还/收回人"), "end_reason": _l("收回理由"),
                     "reads": _l("查阅次数")}
    presets = {"mine": (_l("我的借阅"), _mine), "waiting": (_l("待我审批"), _waiting),
               "active": (_l("借阅中"), _in_force)}
    endpoint_verbs = {"request_view": ("archive_loan.request",),
                      "decide_view": ("archive_loan.approve",),
                      "revoke_view": ("archive_loan.approve",),
                      "return_view": ("archive_loan.request",)}

    def get_query(self) -> Any:
        return super().get_query().options(joinedload(ArchiveLoan.customer),
                                           joinedload(ArchiveLoan.borrower),
                                           joinedload(ArchiveLoan.decided_by))

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.details_template and "model" in kwargs:
            loan = kwargs["model"]
            user = actor()
            kwargs["may_decide"] = archive_loans.may_decide(user, loan)
            kwargs["may_return"] = archive_loans.may_return(user, loan)
            kwargs["may_revoke"] = archive_loans.may_revoke(user, loan)
            kwargs["open_url"] = url_for("customer.details_view", id=loan.customer_id) \
                if policy.can(user, "customer.view", loan.customer) else None
            kwargs["reason_form"] = ReasonForm()
        if template == self.list_template:
            active = self.active_preset()
            kwargs["loan_tabs"] = [(self.get_url(".index_view"), _l("借阅登记簿"), active is None)] + [
                (self.get_url(".index_view", preset=name), label, active == name)
                for name, (label, _fn) in self.presets.items()]
            if policy.can(actor(), "archive_loan.request"):
                kwargs["loan_request_url"] = self.get_url(".request_view")
        return super().render(template, **kwargs)

    def _details(self, loan_id: int) -> Any:
        return redirect(self.get_url(".details_view", id=loan_id))

    @expose("/request/", methods=("GET", "POST"))
    def request_view(self) -> Any:
        """借阅档案: name the archive exactly, give a reason and the working days."""
        form = RequestForm()
        if request.method == "GET":
            form.archive.data = (request.args.get("q") or "")[:100]
        limit = int(settings.get(orm_session(), "customer.loan_max_working_days"))
        form.days.description = gettext("默认 1 个工作日，最长 %(max)s 个工作日。", max=limit)
        created: list[Any] = []
        if request.method == "POST" and form.validate() and self.guarded(
                lambda: created.append(archive_loans.request_access(
                    orm_session(), actor(), form.archive.data, form.reason.data,
                    form.days.data))):
            flash(gettext("借阅申请已提交，等待档案所属部门经理审批（已进入其待办）。"), "success")
            return self._details(created[0].id)
        return self.render("admin/portal_form.html", form=form, rows=None,
                           title=_l("申请借阅档案"), submit=_l("提交申请"), ids=None,
                           note=_l("借阅只读，到期自动结束；借阅期间的每次查阅都会记录。"),
                           return_url=self.get_url(".index_view", preset="mine"))

    @expose("/decide/", methods=("POST",))
    def decide_view(self) -> Any:
        """批准 (one click) or 驳回 (with a reason) from the loan's page."""
        loan = self.get_one(request.form.get("id"))
        approve = request.form.get("approve") == "1"
        form = ReasonForm()
        if form.validate() and self.guarded(lambda: archive_loans.decide_access(
                orm_session(), actor(), loan.id, approve, form.reason.data or None,
                expected_version=form_version(request.form.get("version")))):
            flash(gettext("已批准借阅。借阅人和档案归属人已收到通知。") if approve
                  else gettext("已驳回借阅申请。"), "success")
        return self._details(loan.id)

    @expose("/return/", methods=("POST",))
    def return_view(self) -> Any:
        loan = self.get_one(request.form.get("id"))
        if self.guarded(lambda: archive_loans.return_loan(
                orm_session(), actor(), loan.id,
                expected_version=form_version(request.form.get("version")))):
            flash(gettext("已归还档案。"), "success")
        return self._details(loan.id)

    @expose("/revoke/", methods=("POST",))
    def revoke_view(self) -> Any:
        loan = self.get_one(request.form.get("id"))
        form = ReasonForm()
        if form.validate() and self.guarded(lambda: archive_loans.revoke_loan(
                orm_session(), actor(), loan.id, form.reason.data,
                expected_version=form_version(request.form.get("version")))):
            flash(gettext("已收回借阅。"), "success")
        return self._details(loan.id)


def register(admin: Any) -> None:
    add_view(admin, ArchiveLoanView, ArchiveLoan, _l("档案借阅"), MENU_CUSTOMERS,
             endpoint="archiveloan")
