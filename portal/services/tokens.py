"""Personal API tokens for the GraphQL API.

A token is shown once, at creation; only its SHA-256 is stored (plus a short prefix so the
owner can tell tokens apart). A token works while it is not revoked, not expired and its user
is active (deactivating a user also revokes the tokens, R-ROLE-4).
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, select
from sqlalchemy.orm import Session, class_mapper, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import manager_of_class

from models import ArchiveLoan
from models.enums import LoanStatus
from models.org import ApiToken, AuthEpoch, RoleAssignment, TwoFactor, User
from models.settings import Setting
from portal import audit, clock, policy, policy_grants, policy_loans, settings
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import load, verb
from portal.transaction_state import run_first_statement

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


def _token_columns() -> tuple[Any, ...]:
    """What the token statement reads besides the token, its user and the user's role
    assignments: the grants of the roles in force (this transaction's only, see
    policy_grants.grants_column), the two-factor roles setting and the user's two-factor
    record (what the R-ROLE-6 check of the GraphQL door reads), and the user's archive loans not
    yet ended at ``now`` (R-CUST-9, one row per loan: what ``policy_loans.loans_in_force`` reads
    next; whether one is in force is still decided with the clock at each use)."""
    roles_setting = (select(Setting.value).where(Setting.key == TWO_FACTOR_ROLES_SETTING)
                     .scalar_subquery())
    return (policy_grants.grants_column(ApiToken.user_id), roles_setting, TwoFactor,
            ArchiveLoan.id, ArchiveLoan.customer_id, ArchiveLoan.starts_at, ArchiveLoan.ends_at)


def _loan_not_ended() -> Any:
    return and_(ArchiveLoan.borrower_id == ApiToken.user_id,
                ArchiveLoan.status == LoanStatus.APPROVED.value,
                ArchiveLoan.ends_at > bindparam("now"))


@functools.cache
def _orm_token_statement() -> Any:
    """The token statement through the ORM: for a session that already holds objects of these
    types (the ORM then keeps what it holds, as for any load)."""
    return (select(ApiToken, *_token_columns())
            .outerjoin(TwoFactor, TwoFactor.user_id == ApiToken.user_id)
            .outerjoin(ArchiveLoan, _loan_not_ended())
            .where(ApiToken.token_hash == bindparam("token_hash"))
            .options(joinedload(ApiToken.user).joinedload(User.role_assignments)))


_TOKEN = cast(Table, ApiToken.__table__)
_USER = cast(Table, User.__table__)
_ROLE = cast(Table, RoleAssignment.__table__)
_TWO_FACTOR = cast(Table, TwoFactor.__table__)
_LOADED = (ApiToken, User, RoleAssignment, TwoFactor)
# each table's columns by the names of the mapped attributes that hold them
_ATTRIBUTES = {cast(Table, cls.__table__).name: [
    class_mapper(cls).get_property_by_column(column).key for column in cls.__table__.c]
    for cls in _LOADED}
_KEY_AT = {table.name: list(table.c).index(table.primary_key.columns.values()[0])
           for table in (_TOKEN, _USER, _ROLE, _TWO_FACTOR)}


@functools.cache
def _token_statement() -> Any:
    """The same read as plain columns (issue 21: run on the connection, without the ORM's
    execution and per-row loading; ``_TokenRows`` files the objects as if the ORM had loaded
    them). The user and its role assignments are outer-joined like the eager load did."""
    grants, roles_setting, *_ = _token_columns()
    return (select(*_TOKEN.c, *_USER.c, *_ROLE.c, *_TWO_FACTOR.c, grants, roles_setting,
                   ArchiveLoan.id, ArchiveLoan.customer_id, ArchiveLoan.starts_at,
                   ArchiveLoan.ends_at)
            .select_from(_TOKEN)
            .outerjoin(_USER, _USER.c.id == _TOKEN.c.user_id)
            .outerjoin(_ROLE, _ROLE.c.user_id == _TOKEN.c.user_id)
            .outerjoin(_TWO_FACTOR, _TWO_FACTOR.c.user_id == _TOKEN.c.user_id)
            .outerjoin(ArchiveLoan, _loan_not_ended())
            .where(_TOKEN.c.token_hash == bindparam("token_hash")))


class _TokenRows:
    """The rows of ``_token_statement``, cut into the objects they hold (by position: several
    tables have an ``id``)."""

    def __init__(self, rows: Sequence[Any]) -> None:
        self.rows = rows
        self.cuts: list[tuple[int, int]] = []
        start = 0
        for table in (_TOKEN, _USER, _ROLE, _TWO_FACTOR):
            self.cuts.append((start, start + len(table.c)))
            start += len(table.c)
        self.grants, self.two_factor_roles = rows[0][start:start + 2]
        self.loans = [r[start + 2:] for r in rows if r[start + 2] is not None]

    def values(self, row: Any, part: int, table: Table) -> dict[str, Any] | None:
        start, end = self.cuts[part]
        if row[start + _KEY_AT[table.name]] is None:  # an outer join's miss
            return None
        return dict(zip(_ATTRIBUTES[table.name], row[start:end], strict=True))

    def objects(self, session: Session, token_row: Sequence[Any] | None = None
                ) -> tuple[ApiToken, TwoFactor | None]:
        """The token (its ``user`` and the user's ``role_assignments``, all of them, by id,
        as the relationship orders them) and the two-factor record, filed in ``session`` as
        persistent objects, as if loaded (``make_transient_to_detached``: no SQL).
        ``token_row``: the token's columns as read now (else those of the rows)."""
        first = self.rows[0]
        token = _as_loaded(ApiToken, self.values(first, 0, _TOKEN) if token_row is None
                           else dict(zip(_ATTRIBUTES[_TOKEN.name], token_row, strict=True)))
        user_values = self.values(first, 1, _USER)
        two_factor_values = self.values(first, 3, _TWO_FACTOR)
        roles: dict[int, dict[str, Any]] = {}
        for row in self.rows:
            role = self.values(row, 2, _ROLE)
            if role is not None:
                roles.setdefault(role["id"], role)
        user = None if user_values is None else _as_loaded(User, user_values, role_assignments=[
            _as_loaded(RoleAssignment, roles[i]) for i in sorted(roles)])
        set_committed_value(token, "user", user)
        two_factor = None if two_factor_values is None else _as_loaded(TwoFactor,
                                                                       two_factor_values)
        loaded = [o for o in (token, user, two_factor, *(user.role_assignments if user else ()))
                  if o is not None]
        for obj in loaded:  # all detached first: adding one cascades to those it refers to
            make_transient_to_detached(obj)
        session.add(token)  # and, by the save-update cascade, the user and its assignments
        if two_factor is not None:
            session.add(two_factor)
        return token, two_factor


def _as_loaded(cls: Any, values: dict[str, Any] | None, **relationships: Any) -> Any:
    """A transient ``cls`` holding ``values`` (every column) and ``relationships`` as its
    committed state, without the attribute events of ``cls(**values)``."""
    obj = manager_of_class(cls).new_instance()
    obj.__dict__.update(values or {})
    for name, value in relationships.items():
        set_committed_value(obj, name, value)
    return obj


# ---------------------------------------------------------------------------------------------
# The token's user, roles and grants between requests (issue 21)
#
# A request normally reads its token, user, roles, grants, two-factor record, the two-factor
# roles setting and the user's loans in one statement of 48 columns. Kept here instead, per
# token, with the value of ``auth_epoch`` read in that same statement: database triggers move
# the epoch at the commit of every change of those tables (migration 0021), whatever process or
# plain SQL made it. A request then reads only the epoch and the token's own row (so a revoked,
# expired or re-used token is seen at once, and the last-used write flushes nothing); when both
# equal what was kept, the kept rows are exactly what the full statement would read now, and are
# filed into the request's session the same way. Anything that depends on the time (expiry,
# loans in force, password age) is still decided with the clock at each request.
# ---------------------------------------------------------------------------------------------

_EPOCH = cast(Table, AuthEpoch.__table__)
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class _Kept:
    epoch: int
    token_row: tuple[Any, ...]
    read_at: datetime
    cut: _TokenRows


# (database URL, token hash) → what the full statement read, with the epoch of its snapshot
_kept: dict[tuple[Any, str], _Kept] = {}


def _epoch_column() -> Any:
    return select(_EPOCH.c.n).where(_EPOCH.c.id == 1).scalar_subquery()


@functools.cache
def _check_statement() -> Any:
    """Every request's read when a token is kept: the epoch and the token's row."""
    return (select(_epoch_column(), *_TOKEN.c)
            .where(_TOKEN.c.token_hash == bindparam("token_hash")))


@functools.cache
def _token_statement_with_epoch() -> Any:
    return _token_statement().add_columns(_epoch_column())


def forget_kept() -> None:
    """Drop every kept token (tests; nothing in the app needs it: the epoch decides)."""
    _kept.clear()


def _read_kept(session: Session, params: dict[str, Any]) -> tuple[Any, ...] | None:
    """``_read`` through the kept rows: one small statement when the token is kept and nothing
    it depends on has changed since, else the full statement (kept for the next request)."""
    key = (session.get_bind().engine.url, params["token_hash"])
    now = params["now"]
    kept = _kept.get(key)
    if kept is not None and kept.read_at <= now:
        row = run_first_statement(session, lambda: session.connection().execute(
            _check_statement(), params).first())
        if row is None:
            return None
        token_row = tuple(row[1:])
        if row[0] == kept.epoch and _unchanged(token_row, kept.token_row):
            return _found(session, kept.cut, kept.read_at, token_row)
    rows = run_first_statement(session, lambda: session.connection().execute(
        _token_statement_with_epoch(), params).all())
    if not rows:
        _kept.pop(key, None)
        return None
    cut = _TokenRows([r[:-1] for r in rows])
    epoch = rows[0][-1]
    if epoch is not None:
        if len(_kept) >= _CACHE_SIZE:
            _kept.clear()
        start, end = cut.cuts[0]
        _kept[key] = _Kept(epoch, tuple(rows[0][start:end]), now, cut)
    return _found(session, cut, now)


_LAST_USED_AT = list(_TOKEN.c).index(_TOKEN.c.last_used_at)


def _unchanged(now: tuple[Any, ...], kept: tuple[Any, ...]) -> bool:
    """The token's row as kept, but for its last-used time (taken as read now)."""
    return (now[:_LAST_USED_AT] == kept[:_LAST_USED_AT]
            and now[_LAST_USED_AT + 1:] == kept[_LAST_USED_AT + 1:])


def _found(session: Session, cut: _TokenRows, read_at: datetime,
           token_row: tuple[Any, ...] | None = None) -> tuple[Any, ...]:
    token, two_factor_record = cut.objects(session, token_row)
    return token, cut.grants, cut.two_factor_roles, two_factor_record, cut.loans, read_at


def _holds_any_loaded_type(session: Session) -> bool:
    return any(isinstance(obj, _LOADED) for obj in session.identity_map.values())


def _read(session: Session, params: dict[str, Any], keep: bool = False
          ) -> tuple[Any, ...] | None:
    """(token, grants, two-factor roles setting, two-factor record, loan rows, the time the
    loans were read at), or None for an unknown token. A session that already holds a token,
    user, role assignment or two-factor record (a shared test or CLI context; never a
    request's fresh session) reads through the ORM, which keeps what the session holds.
    ``keep``: through the rows kept between requests (``_read_kept``)."""
    if _holds_any_loaded_type(session):
        orm_rows = session.execute(_orm_token_statement(), params).unique().all()
        if not orm_rows:
            return None
        token, grants, roles_setting, two_factor_record = orm_rows[0][:4]
        return (token, grants, roles_setting, two_factor_record,
                [r[4:] for r in orm_rows if r[4] is not None], params["now"])
    if keep:
        return _read_kept(session, params)
    # on the connection: plain rows, without the ORM's execution around a statement that
    # loads no entity (the transaction's first: retried on a dead pooled connection)
    rows = run_first_statement(
        session, lambda: session.connection().execute(_token_statement(), params).all())
    if not rows:
        return None
    return _found(session, _TokenRows(rows), params["now"])


def authenticate(session: Session, raw: str | None, *, keep: bool = False
                 ) -> tuple[User | None, str]:
    """The user a raw bearer token belongs to, or ``(None, reason)``. Updates last-used time
    (at most once a minute) in the caller's transaction; the caller commits.

    Everything is read in this request's transaction, in one statement: a change of grants,
    roles, the token, the two-factor setting or enrolment applies from the next request.
    ``keep`` (the GraphQL door, ``API_TOKEN_CACHE``): the same read through the rows kept
    between requests, checked against ``auth_epoch`` (see ``_read_kept``)."""
    if not raw or not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None, "malformed token"
    now = clock.now()
    found = _read(session, {"token_hash": hash_token(raw), "now": now}, keep)
    if found is None:
        return None, "unknown token"
    token, grants, two_factor_roles, two_factor_record, loans, loans_read_at = found
    state = token_state(token, now)
    if state != "active":
        return None, f"{state} token {token.prefix}"
    user = token.user
    if user is None or not user.is_active:
        return None, f"inactive user, token {token.prefix}"
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    policy_grants.prime_grants(session, user, grants)
    policy_loans.prime_loans(session, user, loans, loans_read_at)
    settings.prime(session, TWO_FACTOR_ROLES_SETTING, two_factor_roles)
    if two_factor_record is not None:
        # held for the session's life: its identity map keeps objects only while referenced,
        # and ``two_factor.enrolled`` finds it there (after a commit it is expired and read
        # again, like any loaded row)
        session.info["token_two_factor"] = two_factor_record
    return user, ""
