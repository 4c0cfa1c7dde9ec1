"""R-ROLE-6 portal session limits, enforced on the server: a session idle for
``session.idle_minutes`` (default 30) or older than ``session.max_hours`` (default 12) ends,
whatever the cookie says. The session stores when it began and when it was last used
(wall-clock seconds from ``wall_clock``, which tests replace: the business clock
``portal.clock`` is frozen and moved by tests and jobs to simulate working days, which must not
sign anybody out). Pages carry both figures for the
warning script (``portal/static/session_timeout.js``); its "stay signed in" posts to
``/account/keepalive``."""

from __future__ import annotations

import time

from flask import Flask, flash, jsonify, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from models.org import User
from portal import audit, settings
from portal.extensions import db, orm_session

SEEN = "_seen_at"
SINCE = "_signed_in_at"


def wall_clock() -> float:
    """Seconds since the epoch (replaced in tests to control the session's clock)."""
    return time.time()


def start(now: float | None = None) -> None:
    """Called at sign-in: the session's lifetime starts now."""
    stamp = wall_clock() if now is None else now
    session[SINCE] = stamp
    session[SEEN] = stamp


def limits() -> tuple[int, int]:
    """(idle seconds, absolute lifetime seconds) in force."""
    s = orm_session()
    return (int(settings.get(s, "session.idle_minutes")) * 60,
            int(settings.get(s, "session.max_hours")) * 3600)


def expired_reason(now: float) -> str | None:
    idle, lifetime = limits()
    seen = session.get(SEEN)
    since = session.get(SINCE)
    if seen is None or since is None:
        return "no session start"  # a cookie from before this control: sign in again
    if now - float(since) >= lifetime:
        return "absolute lifetime"
    if now - float(seen) >= idle:
        return "idle"
    return None


def init_app(app: Flask) -> None:
    @app.before_request
    def _end_stale_session():
        if not current_user.is_authenticated:
            return None
        if request.endpoint == "static":
            return None
        now = wall_clock()
        reason = expired_reason(now)
        if reason is None:
            session[SEEN] = now
            return None
        user = db.session.get(User, current_user.id)
        audit.record(db.session, user, "auth.session_timeout", user, detail=reason)
        db.session.commit()
        lang = session.get("lang")
        logout_user()
        session.clear()
        if lang:
            session["lang"] = lang
        if request.path.startswith("/graphql"):
            return {"errors": [{"message": "session ended: sign in again"}]}, 401
        if request.endpoint == "session_keepalive":
            return jsonify(ok=False), 401
        flash(_("Your session ended after a period without activity or after its maximum "
                "length. Please sign in again."), "warning")
        return redirect(url_for("login"))

    @app.route("/account/keepalive", methods=["POST"])
    @login_required
    def session_keepalive():
        """The warning's "stay signed in": the request itself renewed the idle time."""
        idle, _lifetime = limits()
        return jsonify(ok=True, idle_seconds=idle)

    @app.context_processor
    def _session_limits() -> dict:
        if not current_user.is_authenticated or SEEN not in session:
            return {}
        idle, lifetime = limits()
        left = int(float(session[SINCE]) + lifetime - wall_clock())
        return {"session_idle_seconds": idle, "session_left_seconds": max(left, 0)}
