"""客户档案: the customer list, details with contacts, owner history and follow-ups, and the
reassign / follow-up actions. Writes go to ``portal.services.customers``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, has_request_context, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from admin_views import common, display
from admin_views.base import (
    MASK,
    ScopedModelView,
    actor,
    add_view,
    company_time,
)
from admin_views.context import note_credit_read
from admin_views.customer_forms import (  # noqa: F401 (old import path)
    TRANSACTION_KIND,
    CloseForm,
    ConfirmForm,
    ContactForm,
    FollowUpForm,
    OverLimitForm,
    ReassignForm,
    TransactionForm,
)
from admin_views.customer_rows import (  # noqa: F401
    ROW_PAGES,
    CustomerRowPages,
    _claimable,
)
from admin_views.menu_names import MENU_CUSTOMERS
from models import Branch, Customer, User
from portal import policy
from portal.extensions import db, orm_session
from portal.services import archive_loans, credit_status, list_presets
from portal.services import customers as customer_rules
from portal.services.customers import corrections
from portal.services.unit import form_versions, row_versions, seen_version


def _mine(user: Any) -> Any:
    return Customer.owner_id == user.id


def _preset(name: str) -> Any:
    """The list preset ``name`` of ``portal.services.list_presets`` (the same rows as GraphQL's
    ``filter.preset``)."""
    return lambda user: list_presets.customer_preset_sql(orm_session(), user, name)


class CustomerView(CustomerRowPages, ScopedModelView):
    details_template = "admin/customer_details.html"
    list_template = "admin/customer_list.html"
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

    def _apply_search(self, query: Any, count_query: Any, joins: Any, count_joins: Any,
                      search: str) -> Any:
        """The service's condition (``customers.search_condition``, the same as GraphQL
        ``filter.search``): name or code prefix, normalised and indexed; phone or credit code
        only where the user may read contacts."""
        text = (search or "").strip()
        if text:
            condition = customer_rules.search_condition(actor(), text)
            query = query.filter(condition)
            if count_query is not None:
                count_query = count_query.filter(condition)
        return query, count_query, joins, count_joins

    def search_placeholder(self) -> str | None:
        if has_request_context() and "phone" in self._model_visible():
            return str(_l("客户名称或编码开头、电话、统一社会信用代码"))
        return str(_l("客户名称或编码开头"))
    column_filters = (
        common.ScopedFilterEqual(Customer.owner_id, _l("归属人"), User),
        common.ScopedFilterEqual(Customer.branch_id, _l("门店/展厅"), Branch),
        common.choice_filter(Customer.importance, _l("重要级别"), common.IMPORTANCE),
        common.EffectiveStatusFilter(Customer.status, _l("状态"), common.CUSTOMER_STATUS),
        common.choice_filter(Customer.intent, _l("意向级别"), common.INTENT),
        common.choice_filter(Customer.kind, _l("客户类型"), common.CUSTOMER_KIND),
    )
    column_default_sort = ("id", True)
    column_choices = {"kind": common.CUSTOMER_KIND, "source": common.CUSTOMER_SOURCE,
                      "intent": common.INTENT, "status": common.CUSTOMER_STATUS}
    column_formatters_export: dict[str, Any] = {}  # exports stay plain values
    column_formatters = {
        "name": display.details_link,
        "status": display.customer_status(common.CUSTOMER_STATUS),
        "intent": display.choice_badge(common.INTENT, display.INTENT_TONES),
        "ownership_expires_at": display.ownership_validity,
    }
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
    # 老带新 (R-CUST-3): the referrer is picked by name when registering; the service gives
    # the archive to whoever originally received the referrer.
    form_create_only = ("referrer",)
    form_ajax_refs = {"referrer": {"fields": ("name", "code"), "page_size": 10}}
    form_choices = {"kind": common.CUSTOMER_KIND, "source": common.CUSTOMER_SOURCE,
                    "importance": common.IMPORTANCE, "intent": common.INTENT}
    editable_list_columns = ("importance", "intent")
    create_service = customer_rules.create_customer
    update_service = customer_rules.update_customer
    action_verbs = {"reassign": "customer.reassign", "follow_up": "customer.follow_up"}
    endpoint_verbs = {"reassign_view": ("customer.reassign",),
                      "ajax_lookup": ("customer.add",),
                      "follow_up_view": ("customer.follow_up",),
                      **{name: (page[1],) for name, page in ROW_PAGES.items()}}
    presets = {"mine": (_l("我的客户"), _mine),
               "follow_up_due": (_l("待回访客户"), _preset("follow_up_due")),
               # the home page links here as "void"
               "void": (_l("废卡 / 可重新分配"), _preset("void_or_expired")),
               "ownership_expiring": (_l("建档即将到期"), _preset("ownership_expiring")),
               "service_lapsed": (_l("服务不到位"), _preset("service_lapsed")),
               "over_limit": (_l("超额度客户"), _preset("over_limit"))}

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
            for endpoint, page in ROW_PAGES.items():
                if self.row_page_allowed(endpoint, model):
                    links.append((self.get_url(f".{endpoint}", id=model.id), page[2]))
            if corrections.is_settled(model) and policy.can(actor(), "customer.change", model):
                # R-CUST-8: original fields of a dealt or closed archive, with consent
                links.append((url_for("correctionrequest.request_view", id=model.id),
                              _l("申请更正原始资料")))
            kwargs["action_links"] = links
            kwargs["follow_up_kinds"] = dict(common.FOLLOW_UP_KIND)
            kwargs["header_rows"] = self.header_rows(model)
            kwargs["related"] = self.related_records(model)
            kwargs["complaint_status_labels"] = dict(common.COMPLAINT_STATUS)
            kwargs["line_status_labels"] = dict(common.LINE_STATUS_SHOWN)
            kwargs["line_status_tones"] = display.LINE_STATUS_TONES
            kwargs["line_states"] = credit_status.line_states(
                orm_session(), [line.id for line in kwargs["related"].get("credit_lines", [])])
            kwargs["money"] = display.money
            kwargs["can_edit_row"] = policy.can(actor(), "customer.change", model)
            lent = archive_loans.loan_in_force(actor(), model.id)
            if lent is not None:  # R-CUST-9: read through a loan
                kwargs["loan_notice"] = gettext(
                    "借阅中（借阅 #%(loan)s）：只读，至 %(until)s 自动结束；每次查阅都会记录。",
                    loan=lent[0], until=company_time(lent[1]))
        if template == self.list_template and policy.can(actor(), "archive_loan.request"):
            # R-CUST-9: an archive outside the scope is borrowed by naming it exactly
            kwargs["loan_request_url"] = url_for(
                "archiveloan.request_view", q=(request.args.get("search") or "")[:100] or None)
        return super().render(template, **kwargs)

    def header_rows(self, model: Customer) -> list[tuple[Any, Any]]:
        """The customer page's header card: status, owner, validity, intent, importance,
        balance and limit (each only when visible to the user, empty ones left out)."""
        formatters = self.column_formatters
        rows: list[tuple[Any, Any]] = []
        for name in ("status", "intent", "importance", "owner", "branch",
                     "ownership_expires_at", "outstanding_balance"):
            if not self.row_field_visible(model, name):
                continue
            if name == "owner":
                value: Any = display.person_label(model.owner) if model.owner else ""
            else:
                value = self._get_list_value(None, model, name, formatters,
                                             self.column_type_formatters_detail)
            if value not in (None, "", MASK):
                rows.append((self.get_column_name(name), value))
        if policy.can(actor(), "credit.view", model):
            from portal.services import credit as credit_service

            line = credit_service.line_in_force(orm_session(), model.id)
            if line is not None:
                rows.append((_l("信用额度"), display.money(line.limit_amount)))
                note_credit_read([line])
        return rows

    def related_records(self, model: Customer) -> dict[str, list[Any]]:
        """The tabs' records, each through the policy (what the user may see)."""
        from models import Complaint, ConfidentialFile, CreditLine

        user = actor()
        found: dict[str, list[Any]] = {}
        for key, related, order in (("complaints", Complaint, Complaint.registered_at),
                                    ("credit_lines", CreditLine, CreditLine.proposed_at),
                                    ("files", ConfidentialFile, ConfidentialFile.uploaded_at)):
            if not policy.can(user, "view", related):
                continue
            stmt = policy.scope(select(related).where(related.customer_id == model.id), user,
                                related, "view").order_by(order.desc()).limit(50)
            found[key] = list(db.session.scalars(stmt))
        note_credit_read(found.get("credit_lines"))  # the 授信 tab shows their limits
        return found

    def _form_page(self, form: Any, rows: list[Any], title: Any, submit: Any,
                   versions: str | None = None) -> Any:
        return self.render("admin/portal_form.html", form=form, rows=rows, title=title,
                           submit=submit, ids=",".join(self.selected_ids()),
                           versions=versions, return_url=self._back_to(rows))

    def _back_to(self, rows: list[Any]) -> str:
        """After an action on one customer: back to that customer; on several: the list."""
        if len(rows) == 1:
            return self.get_url(".details_view", id=rows[0].id)
        return self.get_url(".index_view")

    @expose("/follow-up/", methods=("GET", "POST"))
    def follow_up_view(self) -> Any:
        ids = self.selected_ids()
        rows, _refused = self.scoped_rows(ids, "customer.follow_up")
        if not rows:
            abort(404)
        form = FollowUpForm()
        if request.method == "POST" and form.validate():
            intent = form.intent.data or None
            seen = form_versions(request.form.get("versions"))

            def record(row: Any) -> None:
                # the intent is a change of the archive: with the version the user saw, and
                # first, so that a refused change records no follow-up either
                if intent and intent != row.intent:
                    customer_rules.update_customer(orm_session(), actor(), row.id,
                                                   {"intent": intent},
                                                   expected_version=seen_version(seen, row))
                customer_rules.record_follow_up(
                    orm_session(), actor(), row.id, form.kind.data,
                    notes=form.notes.data or None, planned_next_on=form.planned_next_on.data)

            if len(rows) == 1:
                row = rows[0]
                if self.guarded(lambda: record(row)):
                    due = customer_rules.follow_up_due
                    db.session.refresh(row)
                    planned = customer_rules.planned_follow_up_on(row)
                    if planned is not None:
                        flash(gettext("回访已记录。约定下次回访：%(date)s；制度期限：%(due)s。",
                                      date=planned.isoformat(),
                                      due=company_time(due(row))), "success")
                    else:
                        flash(gettext("回访已记录。下次回访截止：%(due)s。",
                                      due=company_time(due(row))), "success")
                    return redirect(self._back_to(rows))
                return self._form_page(form, rows, _l("记录回访"), _l("保存"),
                                       versions=row_versions(rows))
            self.each_row(ids, "customer.follow_up", record)
            return redirect(self.get_url(".index_view"))
        return self._form_page(form, rows, _l("记录回访"), _l("保存"),
                               versions=row_versions(rows))

    @expose("/reassign/", methods=("GET", "POST"))
    def reassign_view(self) -> Any:
        ids = self.selected_ids()
        rows, _refused = self.scoped_rows(ids, "customer.reassign")
        if not rows:
            abort(404)
        form = ReassignForm()
        # the branches' salespeople in scope; every department's for lapsed archives (R-CUST-5)
        candidates = customer_rules.reassign_candidates(orm_session(), actor(), rows)
        # people by name and branch; the current owner of a single archive is not offered
        current = {rows[0].owner_id} if len(rows) == 1 else set()
        form.new_owner.choices = [(u.id, display.person_label(u)) for u in candidates
                                  if u.id not in current]
        if request.method == "POST" and form.validate():
            seen = form_versions(request.form.get("versions"))
            self.each_row(ids, "customer.reassign", lambda row: customer_rules.reassign_owner(
                orm_session(), actor(), row.id, form.new_owner.data, form.reason.data,
                expected_version=seen_version(seen, row)))
            return redirect(self._back_to(rows))
        return self._form_page(form, rows, _l("客户移交"), _l("移交"),
                               versions=row_versions(rows))


def register(admin: Any) -> None:
    add_view(admin, CustomerView, Customer, _l("客户档案"), MENU_CUSTOMERS, endpoint="customer")
