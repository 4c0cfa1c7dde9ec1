"""/account/tokens: a logged-in user creates personal API tokens for the GraphQL API (the raw
token is shown once), sees when each was last used, and revokes them."""

from __future__ import annotations

from flask import Flask, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from models.org import User
from portal import clock, two_factor_web
from portal.extensions import db
from portal.services import tokens
from portal.services.errors import DomainError


def _actor() -> User:
    return db.session.get(User, current_user.id)


def _page(new_token: str | None = None, error: str | None = None, status: int = 200):
    actor = _actor()
    rows = [(t, tokens.token_state(t)) for t in tokens.list_tokens(db.session, actor)]
    return render_template("tokens.html", rows=rows, new_token=new_token, error=error,
                           choices=tokens.EXPIRY_CHOICES_DAYS, now=clock.now()), status


def init_app(app: Flask) -> None:
    @app.route("/account/tokens", methods=["GET"])
    @login_required
    def api_tokens():
        return _page()

    @app.route("/account/tokens", methods=["POST"])
    @login_required
    def api_token_create():
        try:
            _token, raw = tokens.create_token(
                db.session, _actor(), request.form.get("name", ""),
                request.form.get("expires_in_days", ""),
                two_factor_session=two_factor_web.is_two_factor_session())
        except DomainError as exc:
            return _page(error=exc.translated(_), status=400 if exc.code != "forbidden" else 403)
        resp = _page(new_token=raw, status=201)
        return resp[0], resp[1], {"Cache-Control": "no-store"}

    @app.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
    @login_required
    def api_token_revoke(token_id: int):
        try:
            tokens.revoke_token(db.session, _actor(), token_id)
        except DomainError as exc:
            return _page(error=exc.translated(_), status=404 if exc.code == "not_found" else 400)
        flash(_("The token was revoked."), "success")
        return redirect(url_for("api_tokens"))
