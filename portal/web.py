"""Per-request plumbing shared by both front doors: the audit context, the health endpoint,
and clean answers when the database is unreachable."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify, render_template, request
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError

from portal import audit
from portal.extensions import db

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    audit.set_key(app.config["AUDIT_HMAC_KEY"] or "")

    @app.before_request
    def _audit_context() -> None:
        audit.request_context.set({
            "request_id": g.get("request_id"),
            "remote_addr": (request.remote_addr or "")[:64],
        })

    @app.route("/healthz")
    def health():  # noqa: ANN202
        try:
            db.session.execute(text("SELECT 1"))
            return jsonify(status="ok", database="ok")
        except DBAPIError:
            db.session.rollback()
            return jsonify(status="unavailable", database="unreachable"), 503

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):  # noqa: ANN202
        log.error("database unavailable: %s", str(exc.orig).splitlines()[0] if exc.orig else exc)
        db.session.rollback()
        db.engine.dispose()
        if request.path.startswith("/graphql"):
            return jsonify(errors=[{"message": "Service temporarily unavailable."}]), 503
        return render_template("error.html", code=503,
                               message="The database is unavailable. Try again shortly."), 503

    @app.errorhandler(404)
    def _not_found(exc):  # noqa: ANN001, ANN202
        if request.path.startswith("/graphql"):
            return jsonify(errors=[{"message": "Not found."}]), 404
        return render_template("error.html", code=404, message=None), 404

    @app.errorhandler(500)
    def _server_error(exc):  # noqa: ANN001, ANN202
        log.exception("unexpected error (request %s)", g.get("request_id"))
        return render_template("error.html", code=500, message=None), 500

    @app.context_processor
    def _user() -> dict:
        return {"current_user": current_user}
