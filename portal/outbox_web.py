"""The web and command-line edges of the outbox (portal/services/outbox.py):

- ``send_pending(app)``: the sender with the configured channels and texts rendered in each
  recipient's language (used by ``tick`` and ``send-notifications``);
- ``/notifications/<id>/open``: the link every outgoing message carries; it signs the person
  in if needed, marks the notification read and opens the record if they may still see it;
- ``/account/notifications``: each person chooses which groups of events also reach them by
  e-mail, 企业微信 or 钉钉.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user, login_required

from models import Notification
from portal.channels import channels_from_config
from portal.extensions import db
from portal.services import notifications, outbox

# Flask-Admin endpoint of a record's page, by model name (the rest: the lowercase name).
_ENDPOINTS = {"ConfidentialFile": "file"}


def record_url(model: type, record_id: int) -> str | None:
    endpoint = _ENDPOINTS.get(model.__name__, model.__name__.lower())
    try:
        return url_for(f"{endpoint}.details_view", id=record_id)
    except Exception:
        return None


def render_for(note: Notification, language: str) -> tuple[str, str]:
    """(subject, text) of a notification in ``language``: the translated title only."""
    lang = language if language in current_app.config["LANGUAGES"] else \
        current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(lang):
        text = notifications.render(note, gettext)
        subject = gettext("Customer archive: %(title)s", title=text[:80])
    return subject, text


def send_pending(app: Flask, **kwargs: Any) -> outbox.SendReport:
    channels = channels_from_config(app.config)
    base = app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
    return outbox.send_due(db.session, channels, render_for, base,
                           domain=app.config.get("MAIL_DOMAIN") or "customer-archive", **kwargs)


def init_app(app: Flask) -> None:

    @app.route("/notifications/<int:notification_id>/open")
    @login_required
    def open_notification(notification_id: int):
        note = db.session.get(Notification, notification_id)
        if note is None or note.user_id != current_user.id:
            abort(404)
        notifications.mark_read(db.session, current_user, [note.id])
        link = notifications.targets(db.session, current_user, [note]).get(note.id)
        url = record_url(*link) if link else None
        if url is None:
            flash(gettext("The record of this notification is no longer available to you."),
                  "info")
            return redirect(url_for("admin.index"))
        return redirect(url)

    @app.route("/account/notifications", methods=["GET", "POST"])
    @login_required
    def notification_channels():
        configured = channels_from_config(app.config)
        if request.method == "POST":
            chosen = []
            for value in request.form.getlist("choice"):
                channel, _, group = value.partition(":")
                chosen.append((channel, group))
            try:
                outbox.set_preferences(db.session, current_user, chosen)
            except Exception as exc:
                db.session.rollback()
                from portal.services.errors import DomainError

                if not isinstance(exc, DomainError):
                    raise
                flash(exc.translated(), "error")
                return redirect(url_for("notification_channels")), 303
            db.session.commit()
            flash(gettext("Your notification channels were saved."), "success")
            return redirect(url_for("notification_channels"))
        return render_template(
            "notification_channels.html",
            prefs=outbox.preferences(db.session, current_user),
            groups=outbox.EVENT_GROUPS, channels=outbox.CHANNELS,
            labels=outbox.CHANNEL_LABELS, configured=set(configured),
            email=current_user.email)
