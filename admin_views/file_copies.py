"""复制审批 (copy requests, R-FILE-3): own requests, and those the user may decide; the
requester downloads the one-time copy from their request (``portal.services.files``)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import Length, Optional

from admin_views import common
from admin_views.base import ScopedModelView, actor, record_denied
from models import CopyRequest
from portal.extensions import db, orm_session
from portal.services import files, timeline
from portal.services.errors import DomainError, NotFound, PermissionDenied
from portal.services.unit import form_version

COPY_STATUS = [("pending", _l("待审批")), ("approved", _l("已批准")), ("rejected", _l("已驳回")),
               ("used", _l("已使用"))]


class ConfirmForm(FlaskForm):
    note = StringField(_l("备注"), validators=[Optional(), Length(max=500)])


COPY_STEPS = {"pending": _l("申请复制"), "approved": _l("批准"), "rejected": _l("驳回"),
              "used": _l("已下载复制件")}


class CopyRequestView(ScopedModelView):
    """复制审批: own requests, and those the user may decide. Approving does not show a
    token: the requester downloads the one-time copy from their request."""

    details_template = "admin/portal_details.html"
    can_export = False
    column_list = ("id", "file", "requested_by", "requested_at", "status", "decided_by",
                   "decided_at", "expires_at", "used_at")
    column_details_list = ("id", "file", "requested_by", "requested_at", "reason", "status",
                           "decided_by", "decided_at", "expires_at", "used_at")
    column_default_sort = ("id", True)
    column_choices = {"status": COPY_STATUS}
    column_filters = (common.choice_filter(CopyRequest.status, _l("状态"), COPY_STATUS),)
    column_labels = {"id": _l("编号"), "file": _l("文件"), "requested_by": _l("申请人"),
                     "requested_at": _l("申请时间"), "reason": _l("事由"), "status": _l("状态"),
                     "decided_by": _l("审批人"), "decided_at": _l("审批时间"),
                     "expires_at": _l("下载有效期至"), "used_at": _l("下载时间")}
    endpoint_verbs = {"decide_view": ("file.approve_copy", "file.approve_copy_top"),
                      "collect_view": ("file.download",)}

    def get_query(self) -> Any:
        return db.session.query(CopyRequest).filter(files.copy_requests_condition(actor()))

    def get_count_query(self) -> Any:
        from sqlalchemy import func

        return db.session.query(func.count("*")).select_from(CopyRequest).filter(
            files.copy_requests_condition(actor()))

    def get_one(self, id: Any) -> Any:
        pk = self.parse_pk(id)
        if pk is None:
            abort(404)
        obj = db.session.scalar(select(CopyRequest).where(
            CopyRequest.id == pk, files.copy_requests_condition(actor())))
        if obj is None:
            if db.session.get(CopyRequest, pk) is not None:
                record_denied("file.view", ("CopyRequest", pk), "admin: row outside scope")
            abort(404)
        return obj

    def render(self, template: str, **kwargs: Any) -> Any:
        if template == self.details_template and "model" in kwargs:
            req = kwargs["model"]
            user = actor()
            links = []
            if files.may_decide(user, req):
                links.append((self.get_url(".decide_view", id=req.id, approve=1), _l("批准")))
                links.append((self.get_url(".decide_view", id=req.id, approve=0), _l("驳回")))
            if files.may_collect(user, req):
                links.append((self.get_url(".collect_view", id=req.id), _l("下载复制件")))
            kwargs["action_links"] = links
            kwargs["timeline_events"] = timeline.copy_request_events(orm_session(), req)
            kwargs["step_labels"] = COPY_STEPS
        return super().render(template, **kwargs)

    def _page(self, form: Any, req: Any, title: Any, submit: Any, tone: str = "primary"
              ) -> Any:
        """A decision page: the request (file, requester, reason), the form, the timeline."""
        rows = []
        for name in ("file", "requested_by", "requested_at", "reason", "status"):
            value = self._get_list_value(None, req, name, self.column_formatters,
                                         self.column_type_formatters_detail)
            if value not in (None, ""):
                rows.append((self.get_column_name(name), value))
        return self.render("admin/workflow_form.html", form=form, title=title,
                           record_title=str(req), submit=submit, tone=tone,
                           context_rows=rows, other_ops=[], version=req.version,
                           events=timeline.copy_request_events(orm_session(), req),
                           step_labels=COPY_STEPS,
                           return_url=self.get_url(".details_view", id=req.id))

    @expose("/decide/", methods=("GET", "POST"))
    def decide_view(self) -> Any:
        req = self.get_one(request.args.get("id"))
        approve = request.args.get("approve") == "1"
        form = ConfirmForm()
        if request.method == "POST" and form.validate():
            try:
                files.decide_copy(db.session, actor(), req.id, approve,
                                  note=form.note.data or None,
                                  expected_version=form_version(request.form.get("version")))
            except (PermissionDenied, NotFound):
                abort(404)
            except DomainError as exc:
                db.session.rollback()
                self._fail(exc)
            else:
                flash(gettext("已批准：申请人可在本页下载一次性复制件。") if approve
                      else gettext("已驳回。"), "success")
                return redirect(self.get_url(".details_view", id=req.id))
        return self._page(form, req, _l("批准复制") if approve else _l("驳回复制"),
                          _l("批准") if approve else _l("驳回"),
                          "success" if approve else "danger")

    @expose("/collect/", methods=("GET", "POST"))
    def collect_view(self) -> Any:
        req = self.get_one(request.args.get("id"))
        form = ConfirmForm()
        if request.method == "POST" and form.validate():
            try:
                token = files.collect_copy(db.session, actor(), req.id)
            except NotFound:
                abort(404)
            except DomainError as exc:
                db.session.rollback()
                self._fail(exc)
            else:
                return redirect(url_for("files.download", file_id=req.file_id, token=token))
        return self._page(form, req, _l("下载复制件（一次性）"), _l("下载"))
