"""Language selection: Simplified Chinese by default, English selectable (and remembered)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user

from portal.extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    user = current_user if current_user and current_user.is_authenticated else None
    if user is None and request.path.startswith("/graphql"):
        user = getattr(g.get("graphql_context"), "user", None)  # authenticated by an API token
    if user is not None and getattr(user, "language", None) in languages:
        return user.language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(Path(__file__).parent / "translations"))

    @app.before_request
    def _select_locale_afresh() -> None:
        """Flask-Babel caches the locale on ``g``; a request must never inherit the language
        an earlier request chose in a shared app context (tests, CLI-pushed contexts)."""
        g.pop("_flask_babel", None)

    @app.route("/lang/<code>")
    def set_language(code: str):
        if code in app.config["LANGUAGES"]:
            session["lang"] = code
        target = request.referrer or ""
        from portal.auth import safe_next

        return redirect(safe_next(target) or url_for("admin.index"))

    @app.context_processor
    def _languages() -> dict:
        return {"languages": app.config["LANGUAGES"], "current_locale": str(get_locale())}
