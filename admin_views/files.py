"""保密文件: the file list (only files the user may read), the classification register of the
security administrator (``/admin/file/register/``: metadata only, never content), and copy
requests (复制审批).

Every page calls ``portal.services.files``: uploads (level select limited to the uploader's
clearance), details views (audited), copy requests and decisions, knowledge scope, and — for
holders of ``file.classify`` only — reclassification and extension of the secrecy period.
Content leaves only through ``/files/<id>/download`` (``portal.files_web``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_admin.contrib.sqla import filters as sqla_filters
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from admin_views import common
from admin_views.base import ScopedModelView, actor, add_view, record_denied
from admin_views.file_copies import COPY_STATUS, ConfirmForm, CopyRequestView  # noqa: F401 (old path)
from models import ConfidentialFile, CopyRequest, Customer, User
from models.enums import Level
from portal import policy, settings
from portal.extensions import db, orm_session
from portal.services import files, list_presets
from portal.services.unit import form_version

LEVEL_LABELS = dict(common.LEVEL)
FILE_LABELS = dict(common.COMMON_LABELS, **{
    "title": _l("文件名称"), "level": _l("密级"), "original_name": _l("原文件名"),
    "content_type": _l("文件类型"), "size_bytes": _l("大小（字节）"), "sha256": _l("校验值"),
    "uploaded_by": _l("上传人"), "uploaded_at": _l("上传时间"),
    "secrecy_until": _l("保密期限至"), "declassified_at": _l("解密时间"),
    "responsible_manager": _l("责任经理"),
})


def _level_formatter(view: Any, context: Any, model: Any, name: str) -> str:
    level = model.level
    label = str(LEVEL_LABELS.get(level, level))
    if files.is_declassified(model):
        effective = files.effective_level(model)
        return f"{label} → {LEVEL_LABELS[effective]}（{gettext('已过保密期限')}）"
    return label


class UploadForm(FlaskForm):
    title = StringField(_l("文件名称"), validators=[Optional(), Length(max=200)])
    level = SelectField(_l("密级"), coerce=int,
                        # InputRequired: 0 (公开) is a valid choice, DataRequired calls it empty
                        validators=[InputRequired(message=_l("请选择密级"))])
    customer_id = SelectField(_l("客户"), coerce=str, validators=[Optional()])
    secrecy_until = DateField(_l("保密期限至"), validators=[Optional()])
    file = FileField(_l("文件"), validators=[FileRequired()])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("事由"), validators=[DataRequired(), Length(max=2000)])


class ReclassifyForm(FlaskForm):
    level = SelectField(_l("新密级"), coerce=int, choices=common.LEVEL)
    reason = TextAreaField(_l("理由"), validators=[DataRequired(), Length(max=2000)])


class ExtendForm(FlaskForm):
    until = DateField(_l("保密期限延至"), validators=[DataRequired()])
    reason = TextAreaField(_l("理由"), validators=[DataRequired(), Length(max=2000)])


class ScopeForm(FlaskForm):
    user_id = SelectField(_l("知悉人"), coerce=int)


class RemoveMemberForm(FlaskForm):
    user_id = SelectField(_l("知悉人"), coerce=int)
    reason = TextAreaField(_l("理由"), validators=[DataRequired(), Length(max=300)])


class ManagerForm(FlaskForm):
    manager_id = SelectField(_l("新责任经理"), coerce=int)
    reason = TextAreaField(_l("理由"), validators=[DataRequired(), Length(max=300)])


class _FileActions:
    """Pages shared by the file list and the classification register."""

    def _file(self: Any, pk: Any) -> ConfidentialFile:
        return self.get_one(pk)

    def _page(self: Any, form: Any, f: Any, title: Any, submit: Any) -> Any:
        return self.render("admin/portal_form.html", form=form, rows=[f] if f else [],
                           title=title, submit=submit, ids=None,
                           version=getattr(f, "version", None),
                           return_url=self._return(f))

    def _return(self: Any, f: Any) -> str:
        if f is None:
            return self.get_url(".index_view")
        if not policy.can(actor(), "file.view", f):  # classified, handled from the register
            return self.get_url(".register_view")
        return self.get_url(".details_view", id=f.id)

    def _run(self: Any, call: Any) -> bool:
        return self.guarded(call)

    @expose("/reclassify/", methods=("GET", "POST"))
    def reclassify_view(self: Any) -> Any:
        f = self._file(request.args.get("id"))
        form = ReclassifyForm(level=f.level)
        if request.method == "POST" and form.validate() and self._run(
                lambda: files.reclassify(db.session, actor(), f.id, form.level.data,
                                         form.reason.data,
                                         expected_version=form_version(request.form.get(
                                             "version")))):
            flash(gettext("密级已变更。"), "success")
            return redirect(self._return(f))
        return self._page(form, f, _l("变更密级"), _l("保存"))

    @expose("/extend/", methods=("GET", "POST"))
    def extend_view(self: Any) -> Any:
        f = self._file(request.args.get("id"))
        form = ExtendForm()
        if request.method == "POST" and form.validate() and self._run(
                lambda: files.extend_secrecy(db.session, actor(), f.id, form.until.data,
                                             form.reason.data,
                                             expected_version=form_version(request.form.get(
                                                 "version")))):
            flash(gettext("保密期限已延长。"), "success")
            return redirect(self._return(f))
        return self._page(form, f, _l("延长保密期限"), _l("保存"))

    def classify_links(self: Any, f: Any) -> list[tuple[str, Any]]:
        if not policy.can(actor(), "file.classify", f):
            return []
        links = [(self.get_url(".reclassify_view", id=f.id), _l("变更密级"))]
        if f.level >= Level.SECRET:
            links.append((self.get_url(".extend_view", id=f.id), _l("延长保密期限")))
        return links


class ConfidentialFileView(_FileActions, ScopedModelView):
    """The files the user may read (R-FILE-1): list, search, details (audited), upload."""

    list_template = "admin/file_list.html"
    details_template = "admin/portal_details.html"
    column_list = ("title", "level", "customer", "department", "original_name", "size_bytes",
                   "uploaded_by", "uploaded_at", "secrecy_until")
    column_details_list = ("title", "level", "customer", "department", "responsible_manager",
                           "original_name", "content_type", "size_bytes", "sha256",
                           "uploaded_by", "uploaded_at", "secrecy_until", "declassified_at")
    column_export_list = ("title", "level", "customer", "department", "original_name",
                          "size_bytes", "uploaded_by", "uploaded_at", "secrecy_until")
    column_searchable_list = ("title", "original_name")
    column_filters = (common.choice_filter(ConfidentialFile.level, _l("密级"), common.LEVEL),
                      sqla_filters.DateTimeBetweenFilter(ConfidentialFile.uploaded_at,
                                                         _l("上传时间")),
                      sqla_filters.DateBetweenFilter(ConfidentialFile.secrecy_until,
                                                     _l("保密期限至")))
    column_default_sort = ("id", True)
    presets = {"declassified": (_l("已过保密期限"), lambda user: list_presets.file_preset_sql(
        orm_session(), user, "declassified"))}
    column_labels = FILE_LABELS
    column_formatters = {"level": _level_formatter}
    column_formatters_detail = {"level": _level_formatter}
    endpoint_verbs = {
        "upload_view": ("file.upload",),
        "request_copy_view": ("file.download",),
        "scope_view": ("file.in_chain", "file.manage_scope", "file.name_top_secret"),
        "scope_remove_view": ("file.in_chain", "file.manage_scope", "file.name_top_secret"),
        "manager_view": ("file.manage_scope", "file.name_top_secret"),
        "reclassify_view": ("file.classify",),
        "extend_view": ("file.classify",),
        "register_view": ("file.classify",),
    }

    CLASSIFY_ENDPOINTS = ("reclassify_view", "extend_view")

    def _row_verb(self) -> str:
        """Reclassification pages load any file the security administrator may classify
        (metadata only; the content stays behind ``can_read_file``)."""
        endpoint = (request.endpoint or "").rpartition(".")[2] if request else ""
        if endpoint in self.CLASSIFY_ENDPOINTS:
            return "file.classify"
        return super()._row_verb()

    @expose("/register/", methods=("GET", "POST"))
    def register_view(self) -> Any:
        """密级管理: every file's classification metadata for holders of ``file.classify``
        — title, level, period — never the content."""
        user = actor()
        stmt = policy.scope(select(ConfidentialFile), user, ConfidentialFile, "file.classify")
        term = (request.values.get("q") or "").strip()[:100]
        if term:
            stmt = stmt.where(ConfidentialFile.title.contains(term))
        level = request.values.get("level", "")
        if level.isdigit():
            stmt = stmt.where(ConfidentialFile.level == int(level))
        rows = db.session.scalars(stmt.order_by(ConfidentialFile.id.desc()).limit(200)).all()
        from portal import audit

        audit.record(db.session, user, "file.view_register", "ConfidentialFile",
                     detail=f"{len(rows)} rows" + (f", search {term!r}" if term else ""))
        db.session.commit()
        return self.render("admin/file_register.html", rows=rows, term=term, level=level,
                           levels=common.LEVEL, level_label=lambda f: _level_formatter(
                               self, None, f, "level"),
                           links=self.classify_links,
                           return_url=self.get_url(".index_view"))

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.details_template and "model" in kwargs:
            f = kwargs["model"]
            files.view_file(db.session, actor(), f.id)  # R-FILE-6: the view is audited
            kwargs["action_links"] = self.file_links(f)
        if template == self.list_template:
            kwargs["upload_url"] = self.get_url(".upload_view") \
                if policy.can(actor(), "file.upload") else None
            kwargs["register_url"] = self.get_url(".register_view") \
                if policy.can(actor(), "file.classify") else None
        return super().render(template, **kwargs)

    def file_links(self, f: ConfidentialFile) -> list[tuple[str, Any]]:
        user = actor()
        links: list[tuple[str, Any]] = []
        mode = files.download_mode(user, f)
        if mode == files.NEEDS_COPY_APPROVAL:
            links.append((self.get_url(".request_copy_view", id=f.id), _l("申请复制/下载")))
        elif mode == files.DIRECT:
            links.append((url_for("files.download", file_id=f.id), _l("下载")))
        if files.may_name_scope(user, f):
            links.append((self.get_url(".scope_view", id=f.id), _l("增加知悉人")))
        if f.scope_members and files.may_remove_members(user, f):
            links.append((self.get_url(".scope_remove_view", id=f.id), _l("移出知悉人")))
        if files.may_change_manager(user, f):
            links.append((self.get_url(".manager_view", id=f.id), _l("更换责任经理")))
        return links + self.classify_links(f)

    @expose("/upload/", methods=("GET", "POST"))
    def upload_view(self) -> Any:
        user = actor()
        form = UploadForm()
        clearance = int(user.clearance or 0)
        form.level.choices = [(v, label) for v, label in common.LEVEL if v <= clearance]
        customers = db.session.scalars(
            policy.scope(select(Customer), user, Customer, "file.upload")
            .order_by(Customer.name).limit(500)).all()
        form.customer_id.choices = [("", gettext("（无）"))] + [(str(c.id), str(c))
                                                               for c in customers]
        if request.method == "POST" and form.validate():
            upload = form.file.data
            limit = int(float(settings.get(db.session, "file.max_upload_mb"))
                        * 1024 * 1024)
            content = upload.read(limit + 1)
            data = {"title": form.title.data, "level": form.level.data,
                    "customer_id": form.customer_id.data or None,
                    "secrecy_until": form.secrecy_until.data}
            created: list[ConfidentialFile] = []
            if self._run(lambda: created.append(files.upload_file(
                    db.session, user, data, content, upload.filename or ""))):
                flash(gettext("文件已上传。"), "success")
                return redirect(self.get_url(".details_view", id=created[0].id))
        return self._page(form, None, _l("上传文件"), _l("上传"))

    @expose("/request-copy/", methods=("GET", "POST"))
    def request_copy_view(self) -> Any:
        f = self._file(request.args.get("id"))
        form = ReasonForm()
        if request.method == "POST" and form.validate() and self._run(
                lambda: files.request_copy(db.session, actor(), f.id, form.reason.data)):
            flash(gettext("复制申请已提交，等待审批。"), "success")
            return redirect(url_for("copyrequest.index_view"))
        return self._page(form, f, _l("申请复制/下载"), _l("提交申请"))

    @expose("/scope/", methods=("GET", "POST"))
    def scope_view(self) -> Any:
        f = self._file(request.args.get("id"))
        user = actor()
        if not files.may_name_scope(user, f):
            record_denied("file.manage_scope", f)
            abort(403)
        level = files.effective_level(f)
        members = {m.user_id for m in f.scope_members}
        candidates = db.session.scalars(
            policy.scope(select(User), user, User).where(
                User.is_active.is_(True), User.clearance >= level).order_by(User.username)
            .limit(500)).all()
        form = ScopeForm()
        form.user_id.choices = [(u.id, str(u)) for u in candidates if u.id not in members]
        if request.method == "POST" and form.validate() and self._run(
                lambda: files.add_scope_member(
                    db.session, user, f.id, form.user_id.data,
                    expected_version=form_version(request.form.get("version")))):
            flash(gettext("已加入知悉范围。"), "success")
            return redirect(self._return(f))
        return self._page(form, f, _l("增加知悉人"), _l("加入"))

    @expose("/scope/remove/", methods=("GET", "POST"))
    def scope_remove_view(self) -> Any:
        """R-FILE-2: take a person out of the knowledge scope, picked by name, with a reason."""
        f = self._file(request.args.get("id"))
        user = actor()
        if not files.may_remove_members(user, f):
            record_denied("file.manage_scope", f)
            abort(403)
        form = RemoveMemberForm()
        form.user_id.choices = [(m.user_id, str(m.user)) for m in f.scope_members]
        if request.method == "POST" and form.validate() and self._run(
                lambda: files.remove_scope_member(
                    orm_session(), user, f.id, form.user_id.data, form.reason.data,
                    expected_version=form_version(request.form.get("version")))):
            flash(gettext("已移出知悉范围。"), "success")
            return redirect(self._return(f))
        return self._page(form, f, _l("移出知悉人"), _l("移出"))

    @expose("/manager/", methods=("GET", "POST"))
    def manager_view(self) -> Any:
        """R-FILE-2: the general manager or the responsible manager names another one."""
        f = self._file(request.args.get("id"))
        user = actor()
        if not files.may_change_manager(user, f):
            record_denied("file.manage_scope", f)
            abort(403)
        form = ManagerForm()
        form.manager_id.choices = [(u.id, str(u))
                                   for u in files.manager_candidates(orm_session(), f)
                                   if u.id != f.responsible_manager_id]
        if request.method == "POST" and form.validate() and self._run(
                lambda: files.change_responsible_manager(
                    orm_session(), user, f.id, form.manager_id.data, form.reason.data,
                    expected_version=form_version(request.form.get("version")))):
            flash(gettext("责任经理已更换。"), "success")
            return redirect(self._return(f))
        return self._page(form, f, _l("更换责任经理"), _l("保存"))


def register(admin: Any) -> None:
    add_view(admin, ConfidentialFileView, ConfidentialFile, _l("保密文件"), _l("文件"),
             endpoint="file")
    add_view(admin, CopyRequestView, CopyRequest, _l("复制审批"), _l("文件"),
             endpoint="copyrequest")
