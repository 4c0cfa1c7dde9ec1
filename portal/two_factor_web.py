"""R-ROLE-6 two-factor sign-in in the portal: the code page after the password, the enrolment
page (QR code drawn here, recovery codes shown once), and the wall: a user who must sign in with
two factors does nothing before enrolling (every other page redirects; GraphQL refuses, see
``graphql_api/view.py``). The rules are in ``portal/services/two_factor.py``.

A password alone never signs an enrolled user in: the session holds only a pending mark
(user, session version, time) until the code is right; then the session is marked
two-factor, which API-token creation and second-factor resets require."""

from __future__ import annotations

import time
from typing import Any

from flask import (
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from models.org import User
from portal.extensions import db, limiter, orm_session
from portal.services import two_factor
from portal.services.errors import DomainError

PENDING = "_2fa_pending"  # {"uid", "ver", "at", "next"}: password right, code still to come
MARK = "_two_factor"  # this session was signed in (or enrolled) with the second factor
PENDING_SECONDS = 300

# the pages a user who must enrol first can still reach
OPEN_BEFORE_ENROLMENT = frozenset({"two_factor_page", "two_factor_confirm", "logout", "login",
                                   "sign_in_code", "static", "set_language", "change_password",
                                   "session_keepalive"})


def is_two_factor_session() -> bool:
    return bool(session.get(MARK))


def start_pending(user: User, next_url: str | None) -> None:
    """The password was right and ``user`` has a second factor: remember who is signing in,
    nothing more (no Flask-Login session yet)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    session[PENDING] = {"uid": user.id, "ver": user.session_version, "at": time.time(),
                        "next": next_url or ""}


def _pending_user() -> tuple[User | None, str]:
    data: Any = session.get(PENDING)
    if not isinstance(data, dict):
        return None, ""
    if time.time() - float(data.get("at") or 0) > PENDING_SECONDS:
        session.pop(PENDING, None)
        return None, ""
    user = db.session.get(User, int(data.get("uid") or 0))
    if user is None or not user.is_active or user.session_version != data.get("ver"):
        session.pop(PENDING, None)
        return None, ""
    return user, str(data.get("next") or "")


def _end_session_locked() -> Any:
    logout_user()
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Too many wrong codes: the account is locked for a while. Try again later."),
          "danger")
    return redirect(url_for("login"))


def _second_factor_ok(user: User, recovery: str) -> bool:
    if recovery:
        return two_factor.use_recovery_code(orm_session(), user, recovery)
    return two_factor.check_code(orm_session(), user, request.form.get("code", ""))


def init_app(app: Flask) -> None:
    @app.route("/login/code", methods=["GET", "POST"])
    @limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
    def sign_in_code():
        from portal.auth import complete_sign_in

        user, next_url = _pending_user()
        if user is None:
            flash(_("Sign in with your password first."), "warning")
            return redirect(url_for("login"))
        error = None
        if request.method == "POST":
            recovery = (request.form.get("recovery_code") or "").strip()
            if _second_factor_ok(user, recovery):
                session.pop(PENDING, None)
                return complete_sign_in(user, next_url or None, two_factor_done=True)
            db.session.refresh(user)
            if user.locked_until is not None:
                session.pop(PENDING, None)
                return _end_session_locked()
            error = (_("The recovery code is wrong or was already used.") if recovery else
                     _("The code is wrong or was already used. Wait for the next code and "
                       "try again."))
        return render_template("two_factor_code.html", error=error,
                               use_recovery=bool(request.values.get("recovery"))), \
            (401 if error else 200)

    @app.route("/account/two-factor", methods=["GET"])
    @login_required
    def two_factor_page():
        user = db.session.get(User, current_user.id)
        return _enrol_page(user)

    @app.route("/account/two-factor", methods=["POST"])
    @login_required
    def two_factor_confirm():
        user = db.session.get(User, current_user.id)
        try:
            result = two_factor.confirm_enrolment(orm_session(), user, request.form.get("code", ""))
        except DomainError as exc:
            return _enrol_page(user, error=exc.translated(_), status=400)
        if not result.ok:
            db.session.refresh(user)
            if user.locked_until is not None:
                return _end_session_locked()
            return _enrol_page(user, error=_("The code is wrong. Type the code your app shows "
                                              "now."), status=400)
        session[MARK] = True
        return render_template("two_factor_recovery.html", codes=result.recovery_codes), 201, \
            {"Cache-Control": "no-store"}

    @app.before_request
    def _enrol_first():
        """R-ROLE-6: a user who must sign in with two factors and has not enrolled does
        nothing but enrol; a session signed in with a password alone (before this control)
        ends."""
        endpoint = request.endpoint or ""
        if not current_user.is_authenticated or endpoint in OPEN_BEFORE_ENROLMENT \
                or endpoint.endswith(".static"):  # the stylesheets of the enrolment page
            return None
        if request.path.startswith("/graphql") or is_two_factor_session():
            return None  # the API refuses these users itself (graphql_api/view.py)
        user = db.session.get(User, current_user.id)
        if user is None or not two_factor.required(orm_session(), user):
            return None
        return _wall(user)


def _wall(user: User) -> Any:
    """Where a user who must use two factors, in a session without them, is sent."""
    if two_factor.enrolled(orm_session(), user):
        logout_user()
        session.clear()
        flash(_("Sign in again with your password and the code from your app."), "warning")
        return redirect(url_for("login"))
    return redirect(url_for("two_factor_page"))


def _enrol_page(user: User, error: str | None = None, status: int = 200) -> Any:
    state = two_factor.status(orm_session(), user)
    secret = qr = None
    if not state.enrolled:
        secret = two_factor.pending_secret(orm_session(), user) or \
            two_factor.begin_enrolment(orm_session(), user)
        qr = two_factor.qr_svg(two_factor.provisioning_uri(
            secret, user, current_app.config["TWO_FACTOR_ISSUER"]),
            title=_("QR code for your authenticator app"))
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4)) if secret else None
    return render_template("two_factor_enrol.html", state=state, secret=secret,
                           secret_grouped=grouped, qr=qr, error=error,
                           must=state.required and not state.enrolled), status, \
        {"Cache-Control": "no-store"}
