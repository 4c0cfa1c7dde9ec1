"""通知发送队列 (system administrator): the messages that leave the building, with the dead
letters (死信) a person must look at, and "send again" for failed or dead ones."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from admin_views import common
from admin_views.base import LIST_TYPE_FORMATTERS, ScopedModelView, add_view
from admin_views.display import choice_badge
from models import OutboxMessage, User
from portal.extensions import db
from portal.services import outbox

OUTBOX_STATUS = [("pending", _l("待发送")), ("sending", _l("发送中")), ("sent", _l("已发送")),
                 ("failed", _l("失败待重试")), ("dead", _l("死信"))]
OUTBOX_TONES = {"pending": "info", "sending": "primary", "sent": "success", "failed": "warning",
                "dead": "danger"}
CHANNEL = [("email", _l("电子邮件")), ("wecom", _l("企业微信")), ("dingtalk", _l("钉钉"))]


def _recipient(view: Any, context: Any, model: OutboxMessage, name: str) -> Any:
    user = db.session.get(User, model.user_id)
    return f"{user.full_name}（{user.username}）" if user else model.user_id


def _retry_button(view: Any, context: Any, model: OutboxMessage, name: str) -> Any:
    if not outbox.may_requeue(model) or not view.can_edit_queue:
        return ""
    return Markup(
        '<form method="post" action="{}" class="d-inline">'
        '<input type="hidden" name="csrf_token" value="{}">'
        '<input type="hidden" name="id" value="{}">'
        '<button class="btn btn-sm btn-outline-primary" type="submit">{}</button></form>'
    ).format(view.get_url(".requeue_view"), view.csrf_token(), model.id, gettext("重新发送"))


def _next_attempt(view: Any, context: Any, model: OutboxMessage, name: str) -> Any:
    """Only a message still to be tried has a next attempt."""
    if not outbox.awaits_attempt(model):
        return "—"
    fmt = LIST_TYPE_FORMATTERS.get(type(model.next_attempt_at))
    return fmt(view, model.next_attempt_at, name) if fmt else model.next_attempt_at


class OutboxView(ScopedModelView):
    column_list = ("created_at", "user_id", "channel", "status", "attempts", "next_attempt_at",
                   "last_error", "retry")
    column_details_list = ("created_at", "user_id", "channel", "status", "attempts",
                           "next_attempt_at", "sent_at", "last_error", "notification_id")
    column_default_sort = ("id", True)
    column_filters = (common.choice_filter(OutboxMessage.status, _l("状态"), OUTBOX_STATUS),
                      common.choice_filter(OutboxMessage.channel, _l("渠道"), CHANNEL))
    column_choices = {"status": OUTBOX_STATUS, "channel": CHANNEL}
    column_formatters = {"status": choice_badge(OUTBOX_STATUS, OUTBOX_TONES),
                         "user_id": _recipient, "retry": _retry_button,
                         "next_attempt_at": _next_attempt}
    computed_columns = {"retry": None}
    column_labels = {"created_at": _l("时间"), "user_id": _l("收件人"), "channel": _l("渠道"),
                     "status": _l("状态"), "attempts": _l("尝试次数"),
                     "next_attempt_at": _l("下次尝试"), "last_error": _l("最近错误"),
                     "sent_at": _l("发送时间"), "notification_id": _l("通知编号"),
                     "retry": _l("操作")}
    column_sortable_list = ("created_at", "status", "attempts", "next_attempt_at")
    page_size = 50
    endpoint_verbs = {"requeue_view": ("change",)}

    @property
    def can_edit_queue(self) -> bool:
        return self._capability("requeue_view")

    def csrf_token(self) -> str:
        from flask_wtf.csrf import generate_csrf

        return generate_csrf()

    @expose("/requeue/", methods=("POST",))
    def requeue_view(self) -> Any:
        raw = request.form.get("id", "")
        if not raw.isdigit() or len(raw) > 18:
            flash(gettext("请选择要重新发送的消息。"), "error")
            return redirect(self.get_url(".index_view"))
        n = outbox.requeue(db.session, [int(raw)])
        db.session.commit()
        if n:
            flash(gettext("消息已重新排队，将在下次发送时投递。"), "success")
        else:
            flash(gettext("该消息不是失败或死信状态，无需重新发送。"), "info")
        return redirect(self.get_url(".index_view"))


def register(admin: Any) -> None:
    add_view(admin, OutboxView, OutboxMessage, _l("通知发送队列"), _l("系统设置"),
             endpoint="outbox")
