"""待办 / inbox: the bell with the unread count on every portal page, and the inbox page
(unread / all, mark read, one click to the record). Everything comes from
``portal.services.notifications``; a notification links to its record only when the reader may
open it (the service checks through the policy), so a link never leads to a refusal."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views.base import actor, record_denied, translated
from models import Notification
from portal import policy
from portal.extensions import db
from portal.services import notifications
from portal.services.errors import DomainError

PAGE_SIZE = 50


def record_url(admin: Any, model: type, record_id: int) -> str | None:
    """The portal page of one record: the details page of the model's view."""
    for view in admin._views:
        if getattr(view, "model", None) is model:
            return url_for(f"{view.endpoint}.details_view", id=record_id)
    return None


def bell() -> dict[str, Any] | None:
    """The navbar bell: unread count and the inbox URL (None: the user has no inbox)."""
    user = actor()
    if user is None or not policy.can(user, "token.view", Notification):
        return None
    return {"count": notifications.unread_count(db.session, user),
            "url": url_for("inbox.index_view")}


class InboxView(BaseView):
    """The inbox page; reading needs ``token.view`` (own rows), marking read ``token.change``."""

    def is_visible(self) -> bool:
        return False  # reached through the bell

    def is_accessible(self) -> bool:
        user = actor()
        return user is not None and policy.can(user, "token.view", Notification)

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if actor() is None:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        record_denied("token.view", "inbox")
        return abort(403)

    @expose("/")
    def index_view(self) -> Any:
        user = actor()
        show = "all" if request.args.get("show") == "all" else "unread"
        try:
            page = max(0, int(request.args.get("page", 0)))
        except ValueError:
            page = 0
        notes = notifications.inbox(db.session, user, unread_only=show == "unread",
                                    limit=PAGE_SIZE + 1, offset=page * PAGE_SIZE)
        more = len(notes) > PAGE_SIZE
        notes = notes[:PAGE_SIZE]
        links = notifications.targets(db.session, user, notes)
        rows = [{"n": n, "text": notifications.render(n, gettext),
                 "open": url_for(".open_view", id=n.id) if n.id in links else None}
                for n in notes]
        return self.render("admin/inbox.html", rows=rows, show=show, page=page, more=more,
                           unread=notifications.unread_count(db.session, user),
                           can_mark=policy.can(user, "token.change", Notification))

    @expose("/read", methods=["POST"])
    def mark_read(self) -> Any:
        user = actor()
        ids = None if request.form.get("all") else request.form.getlist("id")
        try:
            count = notifications.mark_read(db.session, user, ids)
        except DomainError as exc:
            if exc.code == "forbidden":
                abort(403)
            flash(translated(exc), "error")
            return redirect(url_for(".index_view"))
        flash(gettext("已标为已读：%(n)s 条。", n=count), "success")
        return redirect(url_for(".index_view", show=request.form.get("show") or None))

    @expose("/open")
    def open_view(self) -> Any:
        """Mark one notification read and go to its record (one click from the inbox)."""
        user = actor()
        try:
            nid = int(request.args.get("id", ""))
        except ValueError:
            abort(404)
        note = db.session.scalar(notifications.inbox_stmt(user).where(Notification.id == nid))
        if note is None:
            abort(404)
        link = notifications.targets(db.session, user, [note]).get(note.id)
        # auditors read their inbox but change nothing, not even the read marks (R-ROLE-3)
        if policy.can(user, "token.change", Notification):
            try:
                notifications.mark_read(db.session, user, [note.id])
            except DomainError as exc:
                if exc.code == "forbidden":
                    abort(403)
                raise
        url = record_url(self.admin, *link) if link else None
        if url is None:
            flash(gettext("该通知没有可打开的记录。"), "info")
            return redirect(url_for(".index_view"))
        return redirect(url)


def register(admin: Any) -> None:
    admin.add_view(InboxView(name=_l("待办"), endpoint="inbox", url="inbox"))

    @admin.app.context_processor
    def _bell() -> dict[str, Any]:
        return {"inbox_bell": bell}
