"""The customer-archive portal: app factory."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g
from sqlalchemy import event
from sqlalchemy.engine import Engine

import models  # noqa: F401  (registers every model on the metadata)
from portal.config import BASE_DIR, ConfigError, load_config
from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

__all__ = ["create_app", "ConfigError"]


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite enforces foreign keys only when asked, per connection."""
    module = type(dbapi_connection).__module__
    if module.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


def create_app(config_name: str | None = None, **overrides: object) -> Flask:
    """Build the app. ``config_name`` is development (default), testing or production;
    keyword overrides win over the environment (tests use them)."""
    cfg = load_config(config_name, overrides)
    app = Flask(__name__, instance_path=str(BASE_DIR / "instance"))
    app.config.from_object(cfg)
    app.config["PORTAL_CONFIG"] = cfg.NAME
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        Path(app.config["SQLALCHEMY_DATABASE_URI"][len("sqlite:///"):]).parent.mkdir(
            parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)

    from portal import auth, i18n, session_timeout, web

    web.init_request_context(app)
    i18n.init_app(app)
    auth.init_app(app)
    session_timeout.init_app(app)
    web.init_app(app)

    from portal import observability

    observability.init_app(app)

    from portal import tokens_web, two_factor_web

    tokens_web.init_app(app)
    two_factor_web.init_app(app)

    from portal import outbox_web

    outbox_web.init_app(app)

    from portal import files_web

    files_web.init_app(app)

    from admin_views import init_admin

    init_admin(app)

    from graphql_api import init_graphql

    init_graphql(app)

    from portal.cli import portal_cli

    app.cli.add_command(portal_cli)

    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies > 0:
        # behind nginx: the client address, scheme and host come from the X-Forwarded-*
        # headers that exactly this many proxies set (the rate limit and the audit use it)
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies,  # type: ignore[method-assign]
                                x_host=proxies)

    @app.after_request
    def _security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers["X-Request-Id"] = g.get("request_id", "")
        return response

    return app


_ = (babel, login_manager)
