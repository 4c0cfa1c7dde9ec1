"""账号 (users): the system administrator creates, edits, deactivates accounts and resets
passwords; the security administrator assigns roles and clearances (三员分立, R-ROLE-2)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from admin_views import common
from admin_views.base import ScopedModelView, actor, add_view
from models import Branch, Department, User
from portal import policy
from portal.extensions import db, orm_session
from portal.services import two_person
from portal.services import users as user_service
from portal.services.errors import DomainError, PermissionDenied
from portal.services.unit import form_versions, row_versions, seen_version

ROLE_CHOICES = common.ROLE_CHOICES


def _roles(view: Any, context: Any, model: User, name: str) -> str:
    return "、".join(common.role_name(r) for r in sorted(model.roles))


class ReasonForm(FlaskForm):
    reason = StringField(_l("原因"), validators=[DataRequired(), Length(max=300)])


class PasswordForm(FlaskForm):
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(), Length(max=200)])


class RoleForm(FlaskForm):
    op = SelectField(_l("操作"), choices=[("grant", _l("授予角色")), ("revoke", _l("撤销角色")),
                                          ("clearance", _l("设置涉密等级"))])
    role = SelectField(_l("角色"), choices=ROLE_CHOICES)
    clearance = SelectField(_l("涉密等级"), coerce=int, choices=common.LEVEL)


class UserView(ScopedModelView):
    column_list = ("username", "full_name", "department", "branch", "roles", "is_active",
                   "on_leave", "clearance", "last_login_at")
    column_details_list = ("username", "full_name", "email", "phone", "department", "branch",
                           "roles", "is_active", "on_leave", "clearance", "language",
                           "failed_logins", "locked_until", "last_login_at", "created_at")
    column_export_list = ("username", "full_name", "email", "phone", "department", "branch",
                          "roles", "is_active", "on_leave", "clearance")
    column_searchable_list = ("username", "full_name")
    column_filters = (
        common.ScopedFilterEqual(User.department_id, _l("部门"), Department),
        common.ScopedFilterEqual(User.branch_id, _l("门店/展厅"), Branch),
        common.choice_filter(User.is_active, _l("在职"), [("1", _l("是")), ("0", _l("否"))]),
    )
    column_formatters = {"roles": _roles}
    column_choices = {"clearance": common.LEVEL, "language": common.LANGUAGE}
    computed_columns = {"roles": None}
    column_labels = dict(common.COMMON_LABELS, **{
        "username": _l("用户名"), "full_name": _l("姓名"), "email": _l("邮箱"),
        "roles": _l("角色"), "is_active": _l("在职"), "on_leave": _l("长期休假"),
        "clearance": _l("涉密等级"), "language": _l("界面语言"), "failed_logins": _l("登录失败次数"),
        "locked_until": _l("锁定至"), "last_login_at": _l("最近登录"), "password": _l("初始密码"),
    })
    form_create_only = ("username", "password")
    form_columns = ("full_name", "email", "phone", "department", "branch", "language")
    form_extra_fields = {"password": PasswordField(_l("初始密码"), validators=[DataRequired()])}
    form_choices = {"language": common.LANGUAGE}
    create_service = user_service.create_user
    update_service = user_service.update_user
    action_verbs = {"deactivate": "user.deactivate"}
    endpoint_verbs = {"deactivate_view": ("user.deactivate",),
                      "reactivate_view": ("user.deactivate",),
                      "password_view": ("user.reset_password",),
                      "two_factor_view": ("user.reset_two_factor",),
                      "roles_view": ("grant.change", "user.set_clearance")}

    def get_edit_form(self) -> Any:
        extra = self.form_extra_fields
        self.form_extra_fields = None
        try:
            return super().get_edit_form()
        finally:
            self.form_extra_fields = extra

    @action("deactivate", _l("停用账号"))
    def action_deactivate(self, ids: list[str]) -> Any:
        return redirect(self.get_url(".deactivate_view", ids=",".join(ids)))

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.details_template and "model" in kwargs:
            model = kwargs["model"]
            links = []
            deactivate = ("deactivate_view", _l("停用账号")) if model.is_active \
                else ("reactivate_view", _l("恢复账号"))
            for endpoint, label, act in (("password_view", _l("重置密码"), "user.reset_password"),
                                         ("two_factor_view", _l("重置双因素"),
                                          "user.reset_two_factor"),
                                         (*deactivate, "user.deactivate"),
                                         ("roles_view", _l("角色与涉密等级"), "grant.change"),
                                         ("roles_view", _l("角色与涉密等级"),
                                          "user.set_clearance")):
                url = self.get_url(f".{endpoint}", ids=model.id)
                if self.supports(endpoint) and policy.can(actor(), act, model) and \
                        all(u != url for u, _label in links):
                    links.append((url, label))
            kwargs["action_links"] = links
        return super().render(template, **kwargs)

    def _page(self, form: Any, rows: list[Any], title: Any, submit: Any,
              note: Any = None, versions: str | None = None) -> Any:
        return self.render("admin/portal_form.html", form=form, rows=rows, title=title,
                           submit=submit, ids=",".join(self.selected_ids()),
                           return_url=self.get_url(".index_view"), note=note,
                           versions=versions)

    @expose("/deactivate/", methods=("GET", "POST"))
    def deactivate_view(self) -> Any:
        ids = self.selected_ids()
        rows, _refused = self.scoped_rows(ids, "user.deactivate")
        if not rows:
            abort(404)
        form = ReasonForm()
        if request.method == "POST" and form.validate():
            fn = user_service.deactivate_user
            seen = form_versions(request.form.get("versions"))
            self.each_row(ids, "user.deactivate", lambda row: self._direct_or_request(
                "user.deactivate", row, lambda: fn(orm_session(), actor(), row.id,
                                                   form.reason.data,
                                                   expected_version=seen_version(seen, row)),
                form.reason.data))
            return redirect(self.get_url(".index_view"))
        return self._page(form, rows, _l("停用账号"), _l("停用"),
                          note=self._two_person_note("user.deactivate", rows),
                          versions=row_versions(rows))

    @expose("/reactivate/", methods=("GET", "POST"))
    def reactivate_view(self) -> Any:
        user = self._one("user.deactivate")
        form = ReasonForm()
        if request.method == "POST" and form.validate():
            fn = user_service.reactivate_user
            seen = form_versions(request.form.get("versions"))
            if self._direct_or_request("user.reactivate", user, lambda: fn(
                    orm_session(), actor(), user.id, form.reason.data,
                    expected_version=seen_version(seen, user)), form.reason.data):
                return redirect(self.get_url(".details_view", id=user.id))
        return self._page(form, [user], _l("恢复账号"), _l("恢复"),
                          note=self._two_person_note("user.reactivate", [user]),
                          versions=row_versions([user]))

    def _two_person_note(self, kind: str, rows: list[User]) -> Any:
        if any(two_person.needed(kind, r) for r in rows):
            return gettext("此账号持有管理员角色（三员）：提交后需另一位管理员确认才会执行，"
                           "三位管理员都会收到通知。")
        return None

    def _direct_or_request(self, kind: str, user: User, direct: Any, reason: str,
                           params: dict | None = None) -> bool:
        """An administrator's account goes through a two-person request (R-ROLE-2); any
        other account is changed at once. Returns whether it went through."""
        try:
            if two_person.needed(kind, user):
                two_person.request_action(db.session, actor(), kind, user.id, params, reason)
                flash(gettext("已提交，等待另一位管理员确认。"), "success")
            else:
                direct()
                flash(gettext("已保存。"), "success")
            return True
        except PermissionDenied:
            abort(403)
        except DomainError as exc:
            db.session.rollback()
            self._fail(exc)
            return False

    def _one(self, verb: str) -> User:
        ids = self.selected_ids()
        if len(ids) != 1:
            abort(404)
        rows, _refused = self.scoped_rows(ids, verb)
        if not rows:
            abort(404)
        return rows[0]

    @expose("/password/", methods=("GET", "POST"))
    def password_view(self) -> Any:
        user = self._one("user.reset_password")
        form = PasswordForm()
        if request.method == "POST" and form.validate():
            fn = user_service.reset_password
            if self._direct_or_request(
                    "user.reset_password", user,
                    lambda: fn(orm_session(), actor(), user, form.new_password.data),
                    gettext("重置密码"), {"new_password": form.new_password.data}):
                return redirect(self.get_url(".details_view", id=user.id))
        return self._page(form, [user], _l("重置密码"), _l("重置"),
                          note=self._two_person_note("user.reset_password", [user]))

    @expose("/two-factor/", methods=("GET", "POST"))
    def two_factor_view(self) -> Any:
        """R-ROLE-6 / R-ROLE-2: a lost second factor is reset by two administrators; the
        holder then sets it up again at the next sign-in."""
        from portal import two_factor_web
        from portal.extensions import orm_session
        from portal.services import two_factor

        user = self._one("user.reset_two_factor")
        form = ReasonForm()
        if request.method == "POST" and form.validate():
            try:
                two_factor.check_reset_door(orm_session(), actor(), two_factor.RESET_KIND,
                                            two_factor_web.is_two_factor_session())
                two_person.request_action(orm_session(), actor(), two_factor.RESET_KIND,
                                          user.id, {}, form.reason.data)
            except PermissionDenied:
                abort(403)
            except DomainError as exc:
                db.session.rollback()
                self._fail(exc)
            else:
                flash(gettext("已提交，等待另一位管理员确认。"), "success")
                return redirect(self.get_url(".details_view", id=user.id))
        return self._page(form, [user], _l("重置双因素"), _l("提交"),
                          note=gettext("重置后此用户须重新设置双因素登录；需另一位管理员确认才会"
                                       "执行，三位管理员都会收到通知。"))

    @expose("/roles/", methods=("GET", "POST"))
    def roles_view(self) -> Any:
        user = self._one("user.view")
        form = RoleForm()
        form.clearance.data = form.clearance.data if request.method == "POST" else user.clearance
        if request.method == "POST" and form.validate():
            op = form.op.data
            if op == "clearance":
                ok = self.run_service(user_service.set_clearance, user,
                                      form.clearance.data)
            elif op == "grant":
                ok = self.run_service(user_service.grant_role, user, form.role.data)
            else:
                ok = self.run_service(user_service.revoke_role, user, form.role.data)
            if ok:
                flash(gettext("已保存。"), "success")
                return redirect(self.get_url(".details_view", id=user.id))
        held = db.session.scalars(select(User).where(User.id == user.id)).one()
        title = f"{gettext('角色与涉密等级')}: {held} — {_roles(self, None, held, 'roles') or '-'}"
        return self._page(form, [], title, _l("保存"))


def register(admin: Any) -> None:
    add_view(admin, UserView, User, _l("账号"), _l("组织与账号"), endpoint="user")
