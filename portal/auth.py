"""Sessions (Flask-Login) and the login flow: Argon2id, per-account lockout, per-address rate
limit, identical answers for unknown user and wrong password, a per-user session version that
invalidates every old cookie (logout everywhere, deactivation, role or clearance changes)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from models.base import utcnow
from models.org import User
from portal import audit, clock, session_timeout, settings
from portal.extensions import db, limiter, login_manager, orm_session
from portal.passwords import hash_password, needs_rehash, verify_password
from portal.services import password_policy, sign_in_history, tokens, two_factor
from portal.services.errors import DomainError


def load_user(user_key: str) -> User | None:
    """Cookie holds ``id:session_version``; a bumped version or an inactive user logs out."""
    try:
        user_id, version = (int(part) for part in user_key.split(":", 1))
    except (ValueError, TypeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or user.session_version != version:
        return None
    return user


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths; refuses ``//evil``, ``\\\\evil``, schemes and hosts."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        if parts.netloc and parts.netloc == request.host and parts.scheme in ("http", "https"):
            path = parts.path or "/"
            if not path.startswith("/") or path.startswith("//"):
                return None  # http://this-host//other-host/… is off-site once it is a Location
            return path + (f"?{parts.query}" if parts.query else "")
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    return target


def authenticate(username: str, password: str) -> tuple[User | None, str]:
    """Check credentials. Returns (user, "") or (None, reason) where the reason is for the
    audit log only; the user always sees the same message."""
    username = (username or "").strip()
    user = db.session.scalar(select(User).where(User.username == username)) if username else None
    now = utcnow()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        verify_password(None, password)
        return None, "locked"
    ok = verify_password(user.password_hash if user else None, password)
    if user is None:
        return None, "unknown user"
    if not ok or not user.is_active:
        if not ok:
            user.failed_logins += 1
            limit = current_app.config["LOGIN_MAX_FAILURES"]
            if user.failed_logins >= limit:
                user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
                user.failed_logins = 0
                audit.record(db.session, user, "auth.lockout", user, outcome="denied",
                             detail=f"{limit} failed logins")
        return None, "wrong password" if not ok else "inactive"
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if two_factor.enrolled(orm_session(), user):
        # R-ROLE-6: half a sign-in. The failure count is cleared by the right code only, so
        # typing the password again does not buy more guesses at the code.
        return user, ""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    return user, ""


def complete_sign_in(user: User, next_url: str | None, *, two_factor_done: bool):
    """The session starts: a fresh cookie, the session clock, the audit entry, the previous
    sign-in notice. ``two_factor_done``: the second factor was checked (R-ROLE-6)."""
    from portal import two_factor_web

    lang = session.get("lang")  # the language picked on the login page stays
    session.clear()  # rotate: nothing from before login survives
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    login_user(user, remember=False)
    session.permanent = True
    session_timeout.start()
    if two_factor_done:
        session[two_factor_web.MARK] = True
        user.last_login_at = utcnow()
    entry = audit.record(orm_session(), user, "auth.login", user,
                         detail="password and second factor" if two_factor_done else None)
    db.session.commit()
    _flash_previous_sign_in(user.username, entry.id)
    return redirect(safe_next(next_url) or url_for("admin.index"))


def _flash_previous_sign_in(username: str, entry_id: int) -> None:
    """R-ROLE-6: the previous attempt's time (company time), address and result, and the
    failed attempts since the last successful sign-in."""
    previous = sign_in_history.previous_sign_in(orm_session(), username, entry_id)
    if previous is None:
        flash(_("Welcome: this is the first sign-in to your account."), "info")
        return
    when = previous.at.astimezone(clock.COMPANY_TZ).strftime("%Y-%m-%d %H:%M")
    params = {"time": when, "address": previous.address or _("unknown address"),
              "count": previous.failures_since}
    if previous.succeeded:
        text = _("Previous sign-in: %(time)s from %(address)s, successful. Failed sign-ins "
                 "since: %(count)s.", **params)
    else:
        text = _("Previous sign-in: %(time)s from %(address)s, FAILED. Failed sign-ins since "
                 "your last successful one: %(count)s.", **params)
    flash(text, "warning" if previous.failures_since else "info")


# the pages a user who must first choose a new password can still reach
_OPEN_WHILE_MUST_CHANGE = frozenset({"change_password", "logout", "login", "static",
                                     "set_language", "sign_in_code"})


def init_app(app: Flask) -> None:
    """Sign-in for the portal: the login manager, the sign-in/out pages and the password
    change that must come first (R-ROLE-6)."""
    _init_login_manager(app)
    _add_sign_in_pages(app)
    _add_password_change(app)


def _init_login_manager(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "strong"

    @app.before_request
    def _resolve_user_afresh() -> None:
        """Flask-Login caches the user on ``g``; a request must never inherit the user an
        earlier request resolved in a shared app context (tests, CLI-pushed contexts)."""
        g.pop("_login_user", None)

    @login_manager.unauthorized_handler
    def _unauthorized():
        if request.path.startswith("/graphql"):
            return {"errors": [{"message": "authentication required"}]}, 401
        return redirect(url_for("login", next=request.full_path.rstrip("?")))


def _add_sign_in_pages(app: Flask) -> None:
    @app.route("/login", methods=["GET", "POST"])
    @limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], methods=["POST"])
    def login():
        if current_user.is_authenticated and request.method == "GET":
            return redirect(url_for("admin.index"))
        error = None
        if request.method == "POST":
            user, reason = authenticate(request.form.get("username", ""),
                                        request.form.get("password", ""))
            if user is None:
                audit.record(db.session, None, "auth.login", "User",
                             outcome="denied", detail=reason,
                             actor_name=(request.form.get("username") or "")[:64])
                db.session.commit()
                error = _("Invalid username or password.")
            elif two_factor.enrolled(orm_session(), user):
                from portal import two_factor_web

                two_factor_web.start_pending(user, safe_next(request.args.get("next")))
                db.session.commit()
                return redirect(url_for("sign_in_code"))
            else:
                return complete_sign_in(user, request.args.get("next"), two_factor_done=False)
        return render_template("login.html", error=error), (401 if error else 200)

    @app.route("/logout", methods=["POST"])
    def logout():
        if current_user.is_authenticated:
            user = db.session.get(User, current_user.id)
            user.session_version += 1  # every cookie issued before is refused from now on
            audit.record(db.session, user, "auth.logout", user)
            if request.form.get("everywhere"):  # logout everywhere: API tokens end too
                tokens.revoke_all_of(db.session, user, "logout everywhere")
            db.session.commit()
        logout_user()
        session.clear()
        return redirect(url_for("login"))


def _add_password_change(app: Flask) -> None:
    @app.route("/account/password", methods=["GET", "POST"])
    @login_required
    def change_password():
        user = db.session.get(User, current_user.id)
        required = password_policy.change_required(db.session, user)
        error = None
        if request.method == "POST":
            try:
                password_policy.change_own_password(
                    db.session, user, request.form.get("current_password", ""),
                    request.form.get("new_password", ""),
                    request.form.get("confirm_password", ""))
            except DomainError as exc:
                error = exc.translated(_)
            else:
                login_user(user)
                flash(_("Your password was changed."), "success")
                return redirect(url_for("admin.index"))
        return render_template(
            "change_password.html", error=error, required=required,
            min_length=settings.get(db.session, "password.min_length"),
            min_classes=settings.get(db.session, "password.min_classes"),
            history_count=settings.get(db.session, "password.history_count"),
        ), (400 if error else 200)

    @app.before_request
    def _password_change_first():
        """R-ROLE-6: an account created or reset by an administrator, or an administrator
        whose password expired, does nothing before choosing a new password."""
        if request.path.startswith("/graphql"):
            return None  # the API refuses these users in its own context (graphql_api);
            # tested first: a token request then never resolves a cookie user here
        if not current_user.is_authenticated or request.endpoint in _OPEN_WHILE_MUST_CHANGE:
            return None
        user = db.session.get(User, current_user.id)
        if user is not None and password_policy.change_required(db.session, user):
            return redirect(url_for("change_password"))
        return None
