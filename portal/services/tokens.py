"""Personal API tokens for the GraphQL API.

A token is shown once, at creation; only its SHA-256 is stored (plus a short prefix so the
owner can tell tokens apart). A token works while it is not revoked, not expired and its user
is active (deactivating a user also revokes the tokens, R-ROLE-4).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session, joinedload

from models import ArchiveLoan
from models.enums import LoanStatus
from models.org import ApiToken, TwoFactor, User
from models.settings import Setting
from portal import audit, clock, policy, policy_grants, policy_loans, settings
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import load, verb

TOKEN_PREFIX = "cat_"  # "customer archive token", makes leaked tokens easy to grep for
PREFIX_LENGTH = 12
MAX_NAME_LENGTH = 100
EXPIRY_CHOICES_DAYS = (7, 30, 90, 180, 365)
MAX_EXPIRY_DAYS = 365
LAST_USED_RESOLUTION = timedelta(minutes=1)  # do not write on every request


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """``active``, ``expired`` or ``revoked`` (derived at read time)."""
    now = now or clock.now()
    if token.revoked_at is not None:
        return "revoked"
    if token.expires_at is not None and token.expires_at <= now:
        return "expired"
    return "active"


@verb
def create_token(session: Session, actor: User, name: str, expires_in_days: int, *,
                 two_factor_session: bool = False) -> tuple[ApiToken, str]:
    """Create a token for ``actor``; returns the row and the raw token (shown once).
    R-ROLE-6: a holder of two-factor sign-in (required or chosen) creates tokens only from a
    session signed in with both factors (``two_factor_session``, told by the door)."""
    if not policy.can(actor, "token.add"):
        raise PermissionDenied("token.add", ApiToken)
    if not two_factor_session:
        from portal.services import two_factor

        if two_factor.required(session, actor) or two_factor.enrolled(session, actor):
            raise RuleViolation(N_("An API token is created only after signing in with your "
                                   "second factor (the code from your authenticator app)."),
                                rule="R-ROLE-6", field="name", audit_action="token.add",
                                audit_target=actor)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(N_("A name is required."), field="name")
    if len(name) > MAX_NAME_LENGTH:
        raise ValidationFailed(N_("The name is longer than %(max)s characters."), field="name",
                               max=MAX_NAME_LENGTH)
    try:
        days = int(expires_in_days)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Choose an expiry."), field="expires_in_days") from None
    if not 1 <= days <= MAX_EXPIRY_DAYS:
        raise RuleViolation(N_("A token expires after at most %(max)s days."),
                            field="expires_in_days", max=MAX_EXPIRY_DAYS)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=actor.id, name=name, prefix=raw[:PREFIX_LENGTH],
                     token_hash=hash_token(raw), created_at=clock.now(),
                     expires_at=clock.now() + timedelta(days=days))
    session.add(token)
    session.flush()
    audit.record(session, actor, "token.add", token,
                 after={"name": name, "prefix": token.prefix,
                        "expires_at": token.expires_at})
    return token, raw


@verb
def revoke_token(session: Session, actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's own tokens (other people's ids answer "not found")."""
    token = load(session, actor, ApiToken, token_id, "token.change")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(session, actor, "token.revoke", token, after={"prefix": token.prefix})
    return token


def revoke_all_of(session: Session, user: User, reason: str) -> int:
    """End every live token of ``user`` (password changed or reset, logout everywhere,
    deactivation: R-ROLE-4, R-ROLE-6) in the caller's transaction; returns how many."""
    now = clock.now()
    live = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                  ApiToken.revoked_at.is_(None))).all()
    for token in live:
        token.revoked_at = now
    if live:
        audit.record(session, None, "token.revoke_all", user, detail=reason,
                     after={"tokens": [t.prefix for t in live]}, actor_name="system")
    return len(live)


def list_tokens(session: Session, actor: User) -> list[ApiToken]:
    """The actor's own tokens, newest first."""
    stmt = policy.scope(select(ApiToken), actor, ApiToken).where(ApiToken.user_id == actor.id)
    return list(session.scalars(stmt.order_by(ApiToken.id.desc())).all())


TWO_FACTOR_ROLES_SETTING = "two_factor.required_roles"


@functools.cache
def _token_statement() -> Any:
    """The one statement of a token's request (built once; the hash is a parameter): the
    token, its user, the user's roles and their grants (what the policy reads next; the grants
    are this transaction's only, see policy_grants.grants_column), plus what the R-ROLE-6
    check of the GraphQL door reads: the two-factor roles setting and the user's two-factor
    record (then in the session's identity map, where ``two_factor.enrolled`` looks first),
    and the user's archive loans not yet ended at ``now`` (R-CUST-9, one row per loan: what
    ``policy_loans.loans_in_force`` reads next; whether one is in force is still decided with
    the clock at each use)."""
    roles_setting = (select(Setting.value).where(Setting.key == TWO_FACTOR_ROLES_SETTING)
                     .scalar_subquery())
    loan_not_ended = and_(ArchiveLoan.borrower_id == ApiToken.user_id,
                          ArchiveLoan.status == LoanStatus.APPROVED.value,
                          ArchiveLoan.ends_at > bindparam("now"))
    return (select(ApiToken, policy_grants.grants_column(ApiToken.user_id), roles_setting,
                   TwoFactor, ArchiveLoan.id, ArchiveLoan.customer_id, ArchiveLoan.starts_at,
                   ArchiveLoan.ends_at)
            .outerjoin(TwoFactor, TwoFactor.user_id == ApiToken.user_id)
            .outerjoin(ArchiveLoan, loan_not_ended)
            .where(ApiToken.token_hash == bindparam("token_hash"))
            .options(joinedload(ApiToken.user).joinedload(User.role_assignments)))


def authenticate(session: Session, raw: str | None) -> tuple[User | None, str]:
    """The user a raw bearer token belongs to, or ``(None, reason)``. Updates last-used time
    (at most once a minute) in the caller's transaction; the caller commits.

    Everything is read in this request's transaction: a change of grants, roles, the token,
    the two-factor setting or enrolment applies from the next request."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None, "malformed token"
    now = clock.now()
    rows = session.execute(_token_statement(),
                           {"token_hash": hash_token(raw), "now": now}).unique().all()
    if not rows:
        return None, "unknown token"
    token, grants, two_factor_roles, two_factor_record = rows[0][:4]
    state = token_state(token, now)
    if state != "active":
        return None, f"{state} token {token.prefix}"
    user = token.user
    if user is None or not user.is_active:
        return None, f"inactive user, token {token.prefix}"
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    policy_grants.prime_grants(session, user, grants)
    policy_loans.prime_loans(session, user, [r[4:] for r in rows if r[4] is not None], now)
    settings.prime(session, TWO_FACTOR_ROLES_SETTING, two_factor_roles)
    if two_factor_record is not None:
        # held for the session's life: its identity map keeps objects only while referenced,
        # and ``two_factor.enrolled`` finds it there (after a commit it is expired and read
        # again, like any loaded row)
        session.info["token_two_factor"] = two_factor_record
    return user, ""
