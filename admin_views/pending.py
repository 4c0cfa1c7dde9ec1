"""待确认操作 (pending confirmations): two-person actions on administrators' accounts
(R-ROLE-2). The three administrators see every request; a second one confirms (the action is
carried out then) or refuses it; the requester may withdraw it."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import StringField
from wtforms.validators import Length, Optional

from admin_views import common
from admin_views.base import ScopedModelView, actor, add_view
from models import PendingAction, User
from portal import clock
from portal.extensions import db
from portal.services import two_person

KIND_LABELS = {"user.reset_password": _l("重置管理员密码"), "user.deactivate": _l("停用管理员账号"),
               "user.reactivate": _l("恢复管理员账号"), "user.reset_two_factor": _l("重置双因素")}


def _checked(p: PendingAction) -> bool:
    """R-ROLE-6: a second-factor reset is decided only in a session signed in with two
    factors (refused and audited otherwise)."""
    from portal import two_factor_web
    from portal.extensions import orm_session
    from portal.services import two_factor

    two_factor.check_reset_door(orm_session(), actor(), p.kind,
                                two_factor_web.is_two_factor_session())
    return True


STATE_LABELS = {"pending": (_l("待确认"), "warning"), "confirmed": (_l("已确认执行"), "success"),
                "refused": (_l("已拒绝"), "danger"), "cancelled": (_l("已撤回"), "secondary"),
                "expired": (_l("已过期"), "secondary")}
STATUS_CHOICES = [(k, v[0]) for k, v in STATE_LABELS.items() if k != "expired"]


class NoteForm(FlaskForm):
    note = StringField(_l("备注"), validators=[Optional(), Length(max=500)])


def _kind(view: Any, context: Any, model: PendingAction, name: str) -> str:
    return str(KIND_LABELS.get(model.kind, model.kind))


def _target(view: Any, context: Any, model: PendingAction, name: str) -> str:
    if model.target_type == "User":
        user = db.session.get(User, model.target_id)
        return str(user) if user else str(model.target_id)
    return f"{model.target_type} {model.target_id}"


def _state(view: Any, context: Any, model: PendingAction, name: str) -> Markup:
    label, colour = STATE_LABELS[two_person.state(model, clock.now())]
    return Markup(f'<span class="badge badge-{colour}">{escape(str(label))}</span>')


class PendingActionView(ScopedModelView):
    details_template = "admin/portal_details.html"
    can_export = False
    column_list = ("id", "kind", "target", "requested_by", "requested_at", "expires_at",
                   "status", "decided_by")
    column_details_list = ("id", "kind", "target", "reason", "requested_by", "requested_at",
                           "expires_at", "status", "decided_by", "decided_at", "decision_note")
    column_default_sort = ("id", True)
    column_formatters = {"kind": _kind, "target": _target, "status": _state}
    computed_columns = {"target": None}
    column_filters = (common.choice_filter(PendingAction.status, _l("状态"), STATUS_CHOICES),)
    column_labels = {"id": _l("编号"), "kind": _l("操作"), "target": _l("账号"),
                     "reason": _l("事由"), "requested_by": _l("申请人"),
                     "requested_at": _l("申请时间"), "expires_at": _l("有效期至"),
                     "status": _l("状态"), "decided_by": _l("确认人"),
                     "decided_at": _l("确认时间"), "decision_note": _l("备注")}
    endpoint_verbs = {"confirm_view": ("two_person.confirm",),
                      "refuse_view": ("two_person.view",)}

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.details_template and "model" in kwargs:
            p = kwargs["model"]
            user = actor()
            links = []
            if two_person.is_pending(p):
                if p.requested_by_id != user.id:
                    links.append((self.get_url(".confirm_view", id=p.id), _l("确认执行")))
                    links.append((self.get_url(".refuse_view", id=p.id), _l("拒绝执行")))
                else:
                    links.append((self.get_url(".refuse_view", id=p.id), _l("撤回")))
            kwargs["action_links"] = links
        return super().render(template, **kwargs)

    def _one(self) -> PendingAction:
        p = self.get_one(request.args.get("id"))
        if p is None:
            abort(404)
        return p

    def _decide(self, p: PendingAction, call: Any, done: str) -> Any:
        if not self.guarded(call):
            return None
        flash(done, "success")
        return redirect(self.get_url(".details_view", id=p.id))

    @expose("/confirm/", methods=("GET", "POST"))
    def confirm_view(self) -> Any:
        p = self._one()
        form = NoteForm()
        if request.method == "POST" and form.validate():
            answer = self._decide(p, lambda: _checked(p) and two_person.confirm_action(
                db.session, actor(), p.id), gettext("已确认，操作已执行。"))
            if answer is not None:
                return answer
        return self._page(form, p, _l("确认执行"), _l("确认执行"))

    @expose("/refuse/", methods=("GET", "POST"))
    def refuse_view(self) -> Any:
        p = self._one()
        form = NoteForm()
        if request.method == "POST" and form.validate():
            answer = self._decide(p, lambda: _checked(p) and two_person.refuse_action(
                db.session, actor(), p.id, form.note.data or ""),
                gettext("已处理，操作不会执行。"))
            if answer is not None:
                return answer
        return self._page(form, p, _l("拒绝或撤回"), _l("提交"))

    def _page(self, form: Any, p: PendingAction, title: Any, submit: Any) -> Any:
        label = f"{_kind(self, None, p, 'kind')}: {_target(self, None, p, 'target')} — {p.reason}"
        return self.render("admin/portal_form.html", form=form, rows=[label], title=title,
                           submit=submit, ids=None,
                           return_url=self.get_url(".details_view", id=p.id))


def register(admin: Any) -> None:
    add_view(admin, PendingActionView, PendingAction, _l("待确认操作"), _l("组织与账号"),
             endpoint="pendingaction")


