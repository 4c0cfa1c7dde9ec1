"""Per-request plumbing shared by both front doors: the audit context, the health endpoint,
and clean answers when the database is unreachable."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import gettext
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError

from portal import audit
from portal.extensions import db, login_manager
from portal.services.errors import N_

log = logging.getLogger(__name__)


ERROR_TEXTS = {
    403: (N_("You do not have permission to open this page"),
          N_("Your role does not allow this page or action. If you need it for your work, "
             "ask your supervisor or the system administrator.")),
    404: (N_("Page not found"),
          N_("The page or record does not exist, or it is not in your scope.")),
    500: (N_("Something went wrong"),
          N_("The error was logged. Try again; if it happens again, tell the system "
             "administrator the request number below.")),
}


def error_page(code: int) -> str:
    """403/404/500 in the portal's frame (menu, language, user) for a signed-in user, in their
    language; the plain public page for anyone else (or if the frame itself fails)."""
    heading, text = ERROR_TEXTS[code]
    if current_user and current_user.is_authenticated:
        try:
            admin = current_app.extensions["admin"][0]
            return admin.index_view.render("admin/error.html", code=code,
                                           heading=gettext(heading), text=gettext(text),
                                           request_id=g.get("request_id") if code == 500 else None)
        except Exception:
            log.exception("portal error page failed; answering the plain one")
            db.session.rollback()
    return render_template("error.html", code=code, message=None, heading=gettext(heading),
                           text=gettext(text))


def request_id_from(header: str | None) -> str:
    """The caller's request id when it is a short token, else a fresh one (R-AUD-1: every
    audit entry carries it, so it is set before any hook that may write an entry)."""
    import re
    import uuid

    if header and re.fullmatch(r"[A-Za-z0-9._-]{1,64}", header):
        return header
    return uuid.uuid4().hex[:16]


def init_request_context(app: Flask) -> None:
    """Registered before every other hook: the request id and remote address exist before
    anything (login checks, idle timeouts, lockouts) can write an audit entry."""
    @app.before_request
    def _audit_context() -> None:
        g.request_id = request_id_from(request.headers.get("X-Request-Id"))
        audit.request_context.set({
            "request_id": g.get("request_id"),
            "remote_addr": (request.remote_addr or "")[:64],
        })


def init_app(app: Flask) -> None:
    audit.set_key(app.config["AUDIT_HMAC_KEY"] or "")
    from portal.services import secret_box

    secret_box.set_key(app.config.get("TWO_FACTOR_KEY") or app.config["SECRET_KEY"] or "")

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):
        log.error("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        db.session.rollback()
        db.engine.dispose()
        # Render as anonymous: resolving the logged-in user (templates, locale) would query
        # the unreachable database again and turn this 503 into a 500.
        g._login_user = login_manager.anonymous_user()
        if request.path.startswith("/graphql"):
            return jsonify(errors=[{"message": "Service temporarily unavailable."}]), 503
        return render_template("error.html", code=503,
                               message="The database is unavailable. Try again shortly."), 503

    @app.errorhandler(DataError)
    def _data_refused(exc: DataError):
        """Input the database refuses as data (a NUL byte, a number out of range, a value too
        long for its column): the client's mistake, 400, not a server error."""
        log.warning("database refused input (request %s): %s", g.get("request_id"),
                    str(exc.orig).splitlines()[0] if exc.orig else exc)
        db.session.rollback()
        if request.path.startswith("/graphql"):
            return jsonify(errors=[{"message": "Invalid input."}]), 400
        return render_template("error.html", code=400, message="Invalid input."), 400

    @app.errorhandler(CSRFError)
    def _csrf_refused(exc: CSRFError):
        """A POST without a valid CSRF token: 400, nothing done, one 'denied' audit entry."""
        db.session.rollback()
        who = current_user if current_user.is_authenticated else None
        audit.record(db.session, who, "auth.csrf", "request", outcome="denied",
                     detail=f"{request.method} {request.path}: {exc.description}"[:500])
        db.session.commit()
        return render_template("error.html", code=400,
                               message="The form expired or did not come from this site. "
                                       "Reload the page and try again."), 400

    @app.errorhandler(403)
    def _forbidden(exc):
        if request.path.startswith("/graphql"):
            return jsonify(errors=[{"message": "Forbidden."}]), 403
        return error_page(403), 403

    @app.errorhandler(404)
    def _not_found(exc):
        if request.path.startswith("/graphql"):
            return jsonify(errors=[{"message": "Not found."}]), 404
        return error_page(404), 404

    @app.errorhandler(500)
    def _server_error(exc):
        log.exception("unexpected error (request %s)", g.get("request_id"))
        db.session.rollback()
        return error_page(500), 500

    @app.context_processor
    def _user() -> dict:
        return {"current_user": current_user}
