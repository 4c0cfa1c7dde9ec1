"""接待记录 (来人来电登记): register and update through ``portal.services.reception``."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from wtforms import BooleanField

from admin_views import common, display
from admin_views.base import ScopedModelView, actor, add_view
from admin_views.context import request_state
from admin_views.menu_names import MENU_CUSTOMERS
from models import Branch, ReceptionRecord, RotationSlot, User
from portal import policy
from portal.extensions import db, orm_session
from portal.services import reception as reception_service
from portal.services import reception_lookup
from portal.services.errors import DomainError


def _today(user: Any) -> Any:
    return reception_service.arrived_today_sql()


class ReceptionRecordView(ScopedModelView):
    column_list = ("arrived_at", "kind", "visitor_class", "visitor_name", "visitor_company",
                   "visitor_phone", "branch", "received_by", "assigned_to", "customer",
                   "outcome")
    column_details_list = ("arrived_at", "departed_at", "kind", "visitor_class", "venue",
                           "visitor_name", "visitor_company", "visitor_phone", "purpose",
                           "branch", "received_by", "assigned_to", "designated_staff",
                           "customer", "is_returning", "used_rotation_turn", "outcome")
    column_export_list = ("arrived_at", "departed_at", "kind", "visitor_class", "venue",
                          "visitor_name", "visitor_company", "visitor_phone", "purpose",
                          "branch", "received_by", "assigned_to", "customer", "outcome")
    column_searchable_list = ("visitor_name", "visitor_phone", "visitor_company")
    column_default_sort = ("arrived_at", True)
    column_filters = (
        common.ScopedFilterEqual(ReceptionRecord.branch_id, _l("门店/展厅"), Branch),
        common.ScopedFilterEqual(ReceptionRecord.assigned_to_id, _l("接待人"), User),
        common.choice_filter(ReceptionRecord.kind, _l("来访 / 来电"), common.RECEPTION_KIND),
        common.choice_filter(ReceptionRecord.outcome, _l("结果"), common.RECEPTION_OUTCOME),
    )
    column_choices = {"kind": common.RECEPTION_KIND, "visitor_class": common.VISITOR_CLASS,
                      "venue": common.VENUE, "outcome": common.RECEPTION_OUTCOME}
    column_formatters_export: dict[str, Any] = {}  # exports stay plain values
    column_formatters = {"outcome": display.choice_badge(common.RECEPTION_OUTCOME,
                                                         display.RECEPTION_OUTCOME_TONES)}
    column_labels = dict(common.COMMON_LABELS, **{
        "arrived_at": _l("到达时间"), "departed_at": _l("离开时间"), "kind": _l("来访 / 来电"),
        "visitor_class": _l("来客类别"), "venue": _l("接待地点"), "visitor_name": _l("来客姓名"),
        "visitor_company": _l("来客单位"), "visitor_phone": _l("来客电话"),
        "purpose": _l("来意"), "received_by": _l("登记人"), "assigned_to": _l("接待人"),
        "designated_staff": _l("指定接待人"), "is_returning": _l("老客户"),
        "used_rotation_turn": _l("轮流接待"), "outcome": _l("结果"),
    })
    # Who was asked for, the archive link and visit/call are facts of the registration:
    # update_reception refuses them, so only the create form has them.
    form_create_only = ("kind", "designated_staff", "customer")
    form_columns = ("visitor_class", "venue", "visitor_name", "visitor_company",
                    "visitor_phone", "purpose", "departed_at", "outcome")
    form_choices = {"kind": common.RECEPTION_KIND, "visitor_class": common.VISITOR_CLASS,
                    "venue": common.VENUE, "outcome": common.RECEPTION_OUTCOME}
    form_ajax_refs = {"customer": {"fields": ("name", "code"), "page_size": 10}}
    create_service = reception_service.register_reception
    update_service = reception_service.update_reception
    presets = {"today": (_l("今日接待"), _today)}
    endpoint_verbs = {"rotation_view": ("reception.manage_rotation",),
                      "lookup_view": ("customer.lookup",)}
    # the typed visitor details a look-up hands to the walk-in form
    PREFILL = ("visitor_name", "visitor_phone", "visitor_company")

    @expose("/lookup/")
    def lookup_view(self) -> Any:
        """前台查询老客户 (R-ROLE-1): an exact look-up by full name or phone; the matches (code,
        name, owner) link to the walk-in form with the archive preselected."""
        user = actor()
        if not policy.can(user, "customer.lookup"):
            abort(403)
        text = (request.args.get("q") or "").strip()
        matches: list[Any] | None = None
        if text:
            found: list[Any] = []
            if self.run_service(lambda s, a: found.extend(reception_lookup.lookup(s, a, text))):
                matches = found
        is_phone = bool(text) and reception_lookup.asked_kind(text) == "phone"
        typed = {"visitor_phone": text} if is_phone else {"visitor_name": text}
        return self.render("admin/reception_lookup.html", q=text, matches=matches,
                           new_url=lambda cid=None: self.get_url(
                               ".create_view", customer=cid, pick=_pick_token(user, cid),
                               **(typed if text else {})))

    # ---------------------------------------------------------------- the walk-in form
    create_template = "admin/reception_create.html"

    def linked_archive(self) -> Any:
        """The archive the walk-in form was opened with (``?customer=``), as the look-up
        answered it: ``None`` when there is none; ``False`` when the link cannot be
        confirmed. Whoever may not browse archives (the front desk) gets it only through a
        link its own look-up page made (signed, ``PICK_MAX_AGE``): typing another id in the
        address bar shows and links nothing (no way round the audited, rate-limited look-up).
        """
        state = request_state()
        if "linked_archive" in state:
            return state["linked_archive"]
        raw = request.args.get("customer", "")
        found: Any = None
        if raw:
            found = False
            user = actor()
            may_browse = policy.can(user, "customer.view")
            if raw.isdigit() and (may_browse or _pick_valid(user, int(raw),
                                                              request.args.get("pick"))):
                holder: list[Any] = []
                try:
                    holder.append(reception_lookup.preselected(orm_session(), user, int(raw)))
                except DomainError:
                    db.session.rollback()
                found = holder[0] if holder else False
        state["linked_archive"] = found
        return found

    def get_create_form(self) -> Any:
        """The walk-in form also offers to register a new visitor's prospect archive with the
        visit (R-ROLE-1: the front desk's only way to register a new customer)."""
        form_class = super().get_create_form()
        form_class.create_customer = BooleanField(
            _l("同时建立潜在客户档案"),
            description=_l("新来客：以接待的销售员为归属人建立客户档案（重复的档案会被拒绝）。"))
        return form_class

    def create_form(self, obj: Any = None) -> Any:
        """The walk-in form. Whoever may not browse archives (the front desk) picks none here:
        the archive comes from the look-up (``?customer=``), and the service checks it may be
        linked. Typed visitor details from the look-up are filled in."""
        form = super().create_form(obj)
        if "customer" in form and not policy.can(actor(), "customer.view"):
            del form["customer"]
        if "create_customer" in form and self.linked_archive():
            del form["create_customer"]  # a returning visitor: the archive exists
        if request.method == "GET":
            for name in self.PREFILL:
                value = (request.args.get(name) or "").strip()[:100]
                if value and name in form:
                    form[name].data = value
        return form

    def form_data(self, form: Any, creating: bool, obj: Any = None) -> dict[str, Any]:
        data = super().form_data(form, creating, obj)
        if creating and "create_customer" in form and form["create_customer"].data:
            data["create_customer"] = True
        if creating and "customer" not in form:
            linked = self.linked_archive()
            if linked:
                data["customer_id"] = linked.id
                data.pop("create_customer", None)  # a returning visitor: no new archive
        return data

    @expose("/rotation/", methods=("GET", "POST"))
    def rotation_view(self) -> Any:
        """今日轮流接待 (R-RECV-1): who is next, who is busy or out; mark out / back, register
        an approved go-out (supervisor)."""
        user = actor()
        if not policy.can(user, "reception.manage_rotation"):
            abort(403)
        branches = [b for b in db.session.scalars(select(Branch).order_by(Branch.name))
                    if policy.can(user, "reception.manage_rotation",
                                  RotationSlot(branch_id=b.id, user_id=0))]
        if not branches:  # allowed, but no showroom in the user's scope
            flash(gettext("您的范围内没有门店/展厅。"), "info")
            return self.render("admin/rotation.html", places=[], branch=None, branches=[],
                               may_approve=False)
        raw = request.values.get("branch")
        branch = next((b for b in branches if str(b.id) == raw), None) or next(
            (b for b in branches if b.id == user.branch_id), branches[0])
        if request.method == "POST":
            op = request.form.get("op")
            if op not in ("go_out", "away", "back"):
                abort(400)
            if self.run_service(reception_service.set_availability, branch.id,
                                request.form.get("user_id"), op == "back",
                                approved_go_out=op == "go_out"):
                flash(gettext("轮流接待已更新。"), "success")
            return redirect(self.get_url(".rotation_view", branch=branch.id))
        places: list[Any] = []
        self.run_service(lambda s, u, b: places.extend(reception_service.rotation_today(s, u, b)),
                         branch.id)
        may_approve = policy.can(user, "reception.approve_go_out",
                                 RotationSlot(branch_id=branch.id, user_id=0))
        return self.render("admin/rotation.html", places=places, branch=branch,
                           branches=branches, may_approve=may_approve)

    def create_model(self, form: Any) -> Any:
        """After saving, say who serves the visitor and who takes the next walk-in (R-RECV-1:
        the front desk always sees who is next). A link that cannot be confirmed registers
        nothing: the person looks the archive up again."""
        if self.linked_archive() is False:
            flash(gettext("无法确认要关联的客户档案，请重新查询老客户后再登记。"), "error")
            return False
        record = super().create_model(form)
        if record:
            flash(who_serves_message(record), "success")
        return record


PICK_MAX_AGE = 3600  # seconds a look-up answer's link to the walk-in form stays valid


def _picks() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="reception-lookup-pick")


def _pick_token(user: Any, customer_id: Any) -> str | None:
    """What the look-up page's link carries: this person was answered this archive."""
    if customer_id is None or user is None:
        return None
    return _picks().dumps([int(user.id), int(customer_id)])


def _pick_valid(user: Any, customer_id: int, token: str | None) -> bool:
    if not token or user is None:
        return False
    try:
        who, which = _picks().loads(token, max_age=PICK_MAX_AGE)
    except (BadSignature, ValueError, TypeError):
        return False
    return (who, which) == (int(user.id), customer_id)


def who_serves_message(record: ReceptionRecord) -> str:
    from portal.services import worklist

    user = actor()
    rot = worklist.rotation(db.session, user, record.branch_id) if user else None
    nxt = rot.next_user.full_name if rot and rot.next_user else gettext("暂无")
    if record.assigned_to_id is None:
        return gettext("已登记 %(visitor)s，暂无人接待，请安排接待。下一位接待：%(next)s",
                       visitor=record.visitor_name, next=nxt)
    staff = db.session.get(User, record.assigned_to_id)
    return gettext("已登记 %(visitor)s，由 %(staff)s 接待。下一位接待：%(next)s",
                   visitor=record.visitor_name, staff=staff.full_name, next=nxt)


def register(admin: Any) -> None:
    add_view(admin, ReceptionRecordView, ReceptionRecord, _l("接待记录"), MENU_CUSTOMERS,
             endpoint="receptionrecord")
