"""R-ROLE-6 password lifecycle, in one place for every door (portal, GraphQL, console):
strength (length and character classes from settings, not the login name, not a common
password), the last N passwords not reused, expiry for administrators, and the must-change
flag of accounts created or reset by an administrator.

The common-password list is ``portal/data/common-passwords.txt.gz`` (20,000 entries; see
``portal/data/README.md`` for its origin and licence).
"""

from __future__ import annotations

import gzip
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.org import PasswordHistory, User
from portal import audit, policy, settings
from portal.passwords import hash_password, verify_password
from portal.services import tokens
from portal.services.errors import N_, RuleViolation
from portal.services.unit import verb

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt.gz"

# why a sign-in must first choose a new password
FIRST_SIGN_IN = "first_sign_in"
EXPIRED = "expired"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip().lower() for line in fh if line.strip())


def character_classes(password: str) -> int:
    """How many of: lower-case letters, upper-case letters, digits, anything else."""
    return sum((any(c.islower() for c in password), any(c.isupper() for c in password),
                any(c.isdigit() for c in password),
                any(not c.isalnum() for c in password)))


def _refuse(message: str, audit_target: Any = None, **params: Any) -> RuleViolation:
    """A refusal the calling verb audits (under its own action name) as denied."""
    return RuleViolation(message, rule="R-ROLE-6", field="password", audit_target=audit_target,
                         **params)


def check_strength(session: Session, password: str, username: str,
                   user: User | None = None) -> None:
    """Raise a R-ROLE-6 refusal naming the first problem of ``password``; nothing else."""
    minimum = int(settings.get(session, "password.min_length"))
    classes = int(settings.get(session, "password.min_classes"))
    if len(password) < minimum:
        raise _refuse(N_("The password needs at least %(count)s characters."), user,
                      count=minimum)
    if character_classes(password) < classes:
        raise _refuse(N_("The password needs at least %(count)s of: lower-case letters, "
                         "upper-case letters, digits, symbols."), user, count=classes)
    name = (username or "").strip().lower()
    if name and (password.lower() == name or password.lower() == name[::-1]):
        raise _refuse(N_("The password may not be the login name."), user)
    if password.lower() in common_passwords():
        raise _refuse(N_("The password is on the list of common passwords; choose another."),
                      user)


def check_not_reused(session: Session, user: User, password: str) -> None:
    """The current password and the previous ``password.history_count - 1`` are refused."""
    count = int(settings.get(session, "password.history_count"))
    if count <= 0:
        return
    earlier = [user.password_hash, *session.scalars(
        select(PasswordHistory.password_hash).where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc()).limit(max(count - 1, 0)))]
    if any(verify_password(h, password) for h in earlier[:count] if h):
        raise _refuse(N_("The password was one of your last %(count)s passwords; choose a "
                         "new one."), user, count=count)


def check_new_password(session: Session, password: str, username: str,
                       user: User | None = None) -> None:
    check_strength(session, password, username, user)
    if user is not None and user.id is not None:
        check_not_reused(session, user, password)


def store_password(session: Session, user: User, password_hash: str, *,
                   must_change: bool) -> None:
    """Set an (already checked and hashed) password: the old hash goes to the history, which
    keeps only as many as the setting asks. ``must_change``: an administrator set it, so the
    holder chooses their own at the next sign-in."""
    if user.id is not None and user.password_hash:
        session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
        session.flush()
        keep = max(int(settings.get(session, "password.history_count")) - 1, 0)
        kept = select(PasswordHistory.id).where(PasswordHistory.user_id == user.id) \
            .order_by(PasswordHistory.id.desc()).limit(keep)
        session.execute(delete(PasswordHistory).where(
            PasswordHistory.user_id == user.id,
            PasswordHistory.id.not_in(list(session.scalars(kept)))))
    user.password_hash = password_hash
    user.password_changed_at = utcnow()
    user.must_change_password = must_change


def expiry_days(session: Session, user: User) -> int:
    """0 = never. Only administrators' passwords expire (R-ROLE-6)."""
    if not policy.holds_admin_role(user):
        return 0
    return int(settings.get(session, "password.admin_max_age_days"))


def change_required(session: Session, user: User) -> str | None:
    """Why ``user`` must choose a new password before doing anything else, or None."""
    if user.must_change_password:
        return FIRST_SIGN_IN
    # accounts older than this feature count from their creation
    changed = user.password_changed_at or user.created_at
    age = utcnow() - changed
    if age < timedelta(days=1):
        return None  # the shortest expiry is a day: no roles or settings to read (API hot path)
    days = expiry_days(session, user)
    if days and age >= timedelta(days=days):
        return EXPIRED
    return None


@verb
def change_own_password(session: Session, user: User, current: str, new: str,
                        confirm: str | None = None) -> User:
    """A signed-in user changes their own password (portal page and GraphQL). Every cookie
    and API token issued before ends."""
    if not verify_password(user.password_hash, current):
        raise RuleViolation(N_("The current password is wrong."), rule="R-ROLE-6",
                            field="current_password", audit_action="user.change_password",
                            audit_target=user)
    if confirm is not None and new != confirm:
        raise RuleViolation(N_("The two new passwords differ."), rule="R-ROLE-6",
                            field="confirm_password", audit_action="user.change_password",
                            audit_target=user)
    try:
        check_new_password(session, new, user.username, user)
    except RuleViolation as exc:
        exc.audit_action = "user.change_password"
        raise
    store_password(session, user, hash_password(new), must_change=False)
    user.session_version += 1
    audit.record(session, user, "user.change_password", user)
    tokens.revoke_all_of(session, user, "password changed")
    return user
