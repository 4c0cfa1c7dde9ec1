"""客户档案: the customer list, details with contacts, owner history and follow-ups, and the
reassign / follow-up actions. Writes go to ``portal.services.customers``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import and_, select
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from admin_views import common, display
from admin_views.base import (
    MASK,
    ScopedModelView,
    actor,
    add_view,
    company_time,
    record_denied,
    service,
)
from admin_views.context import note_credit_read
from models import Branch, Customer, User
from portal import policy
from portal.extensions import db, orm_session
from portal.services import credit_status
from portal.services import customers as customer_rules
from portal.services.customers import corrections
from portal.services.errors import DomainError, NotFound, PermissionDenied
from portal.services.unit import form_version, form_versions, row_versions, seen_version

SERVICES = "portal.services.customers"
CREDIT_SERVICES = "portal.services.credit"


def _mine(user: Any) -> Any:
    return Customer.owner_id == user.id


def _follow_up_due(user: Any) -> Any:
    """待回访客户: the service's predicate (R-CUST-4, counted from the owner-change baseline)."""
    return customer_rules.follow_up_due_sql(orm_session())


def _void(user: Any) -> Any:
    """废卡 / 可重新分配: the service's predicate — void derived from the follow-up cadence
    (R-CUST-4, never the stored status) or ownership expired (R-CUST-2)."""
    return customer_rules.void_or_expired_sql(orm_session())


class ReassignForm(FlaskForm):
    new_owner = SelectField(_l("新归属人"), coerce=int, validators=[DataRequired()])
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(max=300)])


class FollowUpForm(FlaskForm):
    kind = SelectField(_l("方式"), choices=common.FOLLOW_UP_KIND, validators=[DataRequired()])
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=2000)])
    intent = SelectField(_l("意向级别"), choices=[("", _l("（不变）")), *common.INTENT],
                         validators=[Optional()])
    planned_next_on = DateField(
        _l("下次回访日期"), validators=[Optional()],
        description=_l("与客户约定的下次回访日期，不能晚于制度规定的回访期限；留空则按制度期限。"))


class ContactForm(FlaskForm):
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=100)])
    title = StringField(_l("职务"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=32)])
    email = StringField(_l("邮箱"), validators=[Optional(), Length(max=200)])
    is_primary = BooleanField(_l("主要联系人"))


class ConfirmForm(FlaskForm):
    """No parameters: the page shows the archive and a confirm button (成交, 认领)."""


class CloseForm(FlaskForm):
    reason = StringField(_l("关闭原因"), validators=[DataRequired(), Length(max=300)])


TRANSACTION_KIND = (("order", _l("赊销订单（增加应收）")), ("payment", _l("回款（减少应收）")),
                    ("prepayment", _l("预付款（供应商，须填到货期限）")),
                    ("delivery", _l("到货（冲减预付款）")))


class TransactionForm(FlaskForm):
    kind = SelectField(_l("交易类型"), choices=TRANSACTION_KIND, validators=[DataRequired()])
    amount = DecimalField(_l("金额（元）"), places=2,
                          validators=[InputRequired(), NumberRange(min=0.01)])
    reference = StringField(_l("单据号"), validators=[Optional(), Length(max=64)])
    # R-CRED-10: a prepayment to a supplier is due on its delivery deadline (到货期限); the
    # service refuses one without it, and any other kind with it
    delivery_deadline = DateField(_l("到货期限（仅预付款）"), validators=[Optional()])


class OverLimitForm(FlaskForm):
    amount = DecimalField(_l("可超出额度（元）"), places=2,
                          validators=[InputRequired(), NumberRange(min=0.01)])
    reason = StringField(_l("超额理由"), validators=[DataRequired(), Length(max=300)])
    valid_days = IntegerField(_l("有效天数"), default=30,
                              validators=[InputRequired(), NumberRange(min=1, max=366)])


# Row pages that change the archive itself: their form carries the version the user saw.
VERSIONED_ROW_PAGES = frozenset({"deal_view", "claim_view", "close_view"})


def _seen() -> int:
    """The version the posted form says the user saw (``NO_VERSION`` when it has none)."""
    return form_version(request.form.get("version"))


def _claimable(user: Any) -> Any:
    """Archives of the user's branch a salesperson may claim: unowned or ownership expired
    (R-CUST-2). The claim page lists them, although they are outside the user's own scope."""
    from portal.services.customers import claimable_sql

    return and_(Customer.branch_id == user.branch_id, claimable_sql(db.session))


# One-row pages of the details page: endpoint → (service verb, policy action, label, submit).
ROW_PAGES: dict[str, tuple[str, str, Any, Any]] = {
    "contact_view": (f"{SERVICES}:add_contact", "customer_contact.change", _l("添加联系人"),
                     _l("添加")),
    "deal_view": (f"{SERVICES}:record_deal", "customer.change", _l("登记成交"),
                  _l("确认成交")),
    "claim_view": (f"{SERVICES}:claim_customer", "customer.claim", _l("认领客户"),
                   _l("认领")),
    "close_view": (f"{SERVICES}:close_customer", "customer.close", _l("关闭客户档案"),
                   _l("关闭档案")),
    "transaction_view": (f"{CREDIT_SERVICES}:record_transaction", "credit.record_transaction",
                         _l("登记交易"), _l("登记")),
    "over_limit_view": (f"{CREDIT_SERVICES}:approve_over_limit", "credit.approve_over_limit",
                        _l("批准超额度"), _l("批准")),
}


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
    create_service = f"{SERVICES}:create_customer"
    update_service = f"{SERVICES}:update_customer"
    action_verbs = {"reassign": "customer.reassign", "follow_up": "customer.follow_up"}
    endpoint_verbs = {"reassign_view": ("customer.reassign",),
                      "ajax_lookup": ("customer.add",),
                      "follow_up_view": ("customer.follow_up",),
                      **{name: (page[1],) for name, page in ROW_PAGES.items()}}
    presets = {"mine": (_l("我的客户"), _mine),
               "follow_up_due": (_l("待回访客户"), _follow_up_due),
               "void": (_l("废卡 / 可重新分配"), _void)}

    def supports(self, endpoint: str) -> bool:
        if endpoint == "reassign_view":
            return service(f"{SERVICES}:reassign_owner") is not None
        if endpoint == "follow_up_view":
            return service(f"{SERVICES}:record_follow_up") is not None
        if endpoint in ROW_PAGES:
            return service(ROW_PAGES[endpoint][0]) is not None
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
            fn = service(f"{SERVICES}:record_follow_up")
            update = service(f"{SERVICES}:update_customer")
            intent = form.intent.data or None

            def record(row: Any) -> None:
                fn(db.session, actor(), row.id, form.kind.data, notes=form.notes.data or None,
                   planned_next_on=form.planned_next_on.data)
                if intent and intent != row.intent and update is not None:
                    update(db.session, actor(), row.id, {"intent": intent})

            if len(rows) == 1:
                row = rows[0]
                if self.guarded(lambda: record(row)):
                    due = service(f"{SERVICES}:follow_up_due")
                    db.session.refresh(row)
                    planned = customer_rules.planned_follow_up_on(row)
                    if planned is not None:
                        flash(gettext("回访已记录。约定下次回访：%(date)s；制度期限：%(due)s。",
                                      date=planned.isoformat(),
                                      due=company_time(due(row)) if due else "—"), "success")
                    else:
                        flash(gettext("回访已记录。下次回访截止：%(due)s。",
                                      due=company_time(due(row)) if due else "—"), "success")
                    return redirect(self._back_to(rows))
                return self._form_page(form, rows, _l("记录回访"), _l("保存"))
            self.each_row(ids, "customer.follow_up", record)
            return redirect(self.get_url(".index_view"))
        return self._form_page(form, rows, _l("记录回访"), _l("保存"))

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
            fn = service(f"{SERVICES}:reassign_owner")
            seen = form_versions(request.form.get("versions"))
            self.each_row(ids, "customer.reassign", lambda row: fn(
                db.session, actor(), row.id, form.new_owner.data, form.reason.data,
                expected_version=seen_version(seen, row)))
            return redirect(self._back_to(rows))
        return self._form_page(form, rows, _l("客户移交"), _l("移交"),
                               versions=row_versions(rows))

    # ------------------------------------------------------------ one-row pages (ROW_PAGES)
    def _row_policy(self, endpoint: str, obj: Any) -> bool:
        """The policy check the service makes for this row (a claim is checked on the archive
        as it would be once owned by the claimant, as ``claim_customer`` does)."""
        user = actor()
        action = ROW_PAGES[endpoint][1]
        if endpoint == "claim_view":
            if user.branch_id != obj.branch_id or obj.owner_id == user.id:
                return False
            obj = Customer(owner_id=user.id, branch_id=obj.branch_id,
                           department_id=obj.department_id)
        return policy.can(user, action, obj)

    def row_page_allowed(self, endpoint: str, obj: Any) -> bool:
        """Whether the details page offers the button: a service behind it, the policy allows
        it for this row, and the archive's state makes it meaningful."""
        if not self.supports(endpoint) or not self._row_policy(endpoint, obj):
            return False
        is_open = obj.status != "closed" and obj.closed_at is None
        if endpoint in ("contact_view", "close_view"):
            return is_open
        if endpoint == "deal_view":
            return is_open and obj.deal_at is None
        if endpoint == "claim_view":
            from portal.services.customers import ownership_expired

            return is_open and (obj.owner_id is None or ownership_expired(obj))
        return True

    def _row_for(self, endpoint: str) -> Any:
        """The archive of ``?id=``: through the row scope of the page's action; a claim also
        reaches the claimable archives of the user's branch (outside their own scope)."""
        action = ROW_PAGES[endpoint][1]
        if endpoint != "claim_view":
            return self.get_one_for(request.args.get("id"), action)
        pk = self.parse_pk(request.args.get("id"))
        if pk is None:
            abort(404)
        user = actor()
        obj = db.session.scalar(policy.scope(select(Customer), user, Customer, "customer.view")
                                .where(Customer.id == pk))
        if obj is None:
            obj = db.session.scalar(select(Customer).where(Customer.id == pk, _claimable(user)))
        if obj is None:
            if db.session.get(Customer, pk) is not None:
                record_denied(action, ("Customer", pk), "admin: row outside scope")
            abort(404)
        return obj

    def _row_page(self, endpoint: str, form: Any, call: Any, done: str) -> Any:
        """GET: the form for one archive; POST: ``call(session, actor, customer_id)`` through
        the service. A refusal by the policy answers 403 (audited once); a domain error
        re-renders the form with the translated message, nothing changed."""
        function, action, title, submit = ROW_PAGES[endpoint]
        obj = self._row_for(endpoint)
        if not self._row_policy(endpoint, obj):
            record_denied(action, obj, f"admin {request.method} {request.path}"[:500])
            abort(403)
        if request.method == "POST" and form.validate():
            fn = service(function)
            try:
                call(fn, db.session, actor(), obj.id)
            except PermissionDenied:
                abort(403)  # audited by the service's @verb
            except NotFound:
                abort(404)
            except DomainError as exc:
                db.session.rollback()
                self._fail(exc, form)
            else:
                flash(done, "success")
                return redirect(self.get_url(".details_view", id=obj.id))
        return self.render("admin/portal_form.html", form=form, rows=[obj], title=title,
                           submit=submit, ids=None,
                           version=obj.version if endpoint in VERSIONED_ROW_PAGES else None,
                           return_url=self.get_url(".details_view", id=obj.id))

    @expose("/contact/", methods=("GET", "POST"))
    def contact_view(self) -> Any:
        form = ContactForm()

        def call(fn: Any, session: Any, user: Any, pk: int) -> Any:
            data = {k: (form[k].data or "").strip() or None
                    for k in ("name", "title", "phone", "email")}
            data["is_primary"] = bool(form.is_primary.data)
            return fn(session, user, pk, data)

        return self._row_page("contact_view", form, call, gettext("已添加联系人。"))

    @expose("/deal/", methods=("GET", "POST"))
    def deal_view(self) -> Any:
        return self._row_page("deal_view", ConfirmForm(),
                              lambda fn, s, u, pk: fn(s, u, pk, expected_version=_seen()),
                              gettext("已登记成交。"))

    def claimable_rows(self, user: Any) -> list[Customer]:
        """The claimable archives of the user's branch (outside their own scope: a salesperson
        finds here what they may claim), newest first, at most 200: the claim page's list and
        the home page's count."""
        rows = db.session.scalars(select(Customer).where(_claimable(user))
                                  .order_by(Customer.id.desc()).limit(200))
        return [r for r in rows if self.row_page_allowed("claim_view", r)]

    @expose("/claim/", methods=("GET", "POST"))
    def claim_view(self) -> Any:
        if request.method == "GET" and not request.args.get("id"):
            rows = self.claimable_rows(actor())
            return self.render("admin/customer_claim_list.html", rows=rows,
                               title=ROW_PAGES["claim_view"][2],
                               return_url=self.get_url(".index_view"))
        return self._row_page("claim_view", ConfirmForm(),
                              lambda fn, s, u, pk: fn(s, u, pk, expected_version=_seen()),
                              gettext("已认领该客户档案。"))

    @expose("/close/", methods=("GET", "POST"))
    def close_view(self) -> Any:
        form = CloseForm()
        return self._row_page("close_view", form,
                              lambda fn, s, u, pk: fn(s, u, pk, form.reason.data.strip(),
                                                      expected_version=_seen()),
                              gettext("客户档案已关闭。"))

    @expose("/transaction/", methods=("GET", "POST"))
    def transaction_view(self) -> Any:
        form = TransactionForm()
        return self._row_page(
            "transaction_view", form,
            lambda fn, s, u, pk: fn(s, u, pk, form.kind.data, form.amount.data,
                                    reference=(form.reference.data or "").strip() or None,
                                    delivery_deadline=form.delivery_deadline.data),
            gettext("已登记交易。"))

    @expose("/over-limit/", methods=("GET", "POST"))
    def over_limit_view(self) -> Any:
        form = OverLimitForm()
        return self._row_page(
            "over_limit_view", form,
            lambda fn, s, u, pk: fn(s, u, pk, form.amount.data, form.reason.data.strip(),
                                    form.valid_days.data),
            gettext("已批准超额度。"))


def register(admin: Any) -> None:
    add_view(admin, CustomerView, Customer, _l("客户档案"), _l("客户"), endpoint="customer")
