"""R-ROLE-6 two-factor sign-in (TOTP, RFC 6238), one service for every door.

- Who must use it: ``policy.two_factor_required`` over the setting ``two_factor.required_roles``
  (default: the three administrators and the general manager); anyone else may opt in.
- Enrolment: ``begin_enrolment`` draws a secret (kept encrypted, ``secret_box``) and
  ``confirm_enrolment`` turns it on once the holder typed a first code from their app; they
  then receive ten one-time recovery codes, shown once and stored hashed (Argon2id).
- Sign-in: ``check_code`` accepts the code of the current 30-second step or of the step before
  or after (clock drift); a step once accepted is never accepted again (no replay), and a
  wrong or replayed code counts toward the account lockout like a wrong password.
  ``use_recovery_code`` lets a holder in who lost their phone; each code works once.
- Reset (lost phone and codes): a two-person action (R-ROLE-2), kind ``user.reset_two_factor``:
  one administrator requests, a second confirms, then the holder enrols again.

Every event is audited: ``two_factor.enrol``, ``auth.two_factor`` (sign-in code, ok or denied),
``two_factor.recovery_used``, ``two_factor.reset``.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyotp
import segno
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from models.base import utcnow
from models.enums import AuditOutcome
from models.org import RecoveryCode, TwoFactor, User
from portal import audit, policy, settings
from portal.passwords import hash_password, verify_password
from portal.services import secret_box, tokens
from portal.services.errors import N_, RuleViolation, ValidationFailed
from portal.services.unit import verb

STEP_SECONDS = 30
DIGITS = 6
TOLERANCE_STEPS = 1  # the code of the step before or after is accepted too (clock drift)
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud, typed
RECOVERY_CODE_LENGTH = 10  # about 49 bits each
RESET_KIND = "user.reset_two_factor"

# why a code was refused (for the audit log; the user sees one message)
WRONG = "wrong code"
REPLAYED = "code already used"
LOCKED = "locked"
NOT_ENROLLED = "not enrolled"


def wall_clock() -> float:
    """Seconds since the epoch (tests pass ``now`` instead; the business clock
    ``portal.clock`` is moved by tests and jobs and must not decide which code is valid)."""
    return time.time()


def time_step(now: float | None = None) -> int:
    return int((wall_clock() if now is None else now) // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    """The code of ``step`` (tests and the demo compute codes with it)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).at(step * STEP_SECONDS)


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def required(session: Session, user: User) -> bool:
    """Whether ``user`` must sign in with a second factor (the setting, through the policy)."""
    return policy.two_factor_required(user, settings.get(session, "two_factor.required_roles"))


def record_of(session: Session, user: User) -> TwoFactor | None:
    return session.get(TwoFactor, user.id)


def enrolled(session: Session, user: User) -> bool:
    record = record_of(session, user)
    return record is not None and record.enrolled_at is not None


@dataclass(frozen=True)
class Status:
    required: bool
    enrolled: bool
    enrolled_at: datetime | None
    recovery_codes_left: int


def status(session: Session, user: User) -> Status:
    record = record_of(session, user)
    is_on = record is not None and record.enrolled_at is not None
    left = int(session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0) if is_on else 0
    return Status(required=required(session, user), enrolled=is_on,
                  enrolled_at=record.enrolled_at if is_on and record else None,
                  recovery_codes_left=left)


def provisioning_uri(secret: str, user: User, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=user.username, issuer_name=issuer)


def qr_svg(uri: str, title: str = "QR code") -> str:
    """The QR code of ``uri`` as inline SVG, drawn here (no external service, no CDN);
    ``title``: what a screen reader says, in the reader's language."""
    return segno.make(uri, error="m").svg_inline(scale=5, border=2, dark="#111", title=title)


def pending_secret(session: Session, user: User) -> str | None:
    """The secret of an enrolment begun and not yet confirmed (shown again on reload)."""
    record = record_of(session, user)
    if record is None or record.enrolled_at is not None:
        return None
    return secret_box.open_(record.secret)


# ---------------------------------------------------------------------------------------------
# Enrolment
# ---------------------------------------------------------------------------------------------


def _refuse_if_enrolled(session: Session, user: User) -> None:
    if enrolled(session, user):
        raise ValidationFailed(N_("Two-factor sign-in is already set up for this account; "
                                  "to move it to a new phone, ask two administrators to reset "
                                  "it."), field="code")


@verb
def begin_enrolment(session: Session, user: User) -> str:
    """Draw a new secret for ``user`` (replacing an unconfirmed one); returns it (base32)."""
    _refuse_if_enrolled(session, user)
    secret = pyotp.random_base32()
    record = record_of(session, user)
    if record is None:
        record = TwoFactor(user_id=user.id, secret=secret_box.seal(secret))
        session.add(record)
    else:
        record.secret, record.created_at, record.last_step = secret_box.seal(secret), utcnow(), None
    session.flush()
    return secret


def _matching_step(secret: str, code: str, now: float | None) -> int | None:
    """The step within the tolerance whose code is ``code``, newest first."""
    code = "".join((code or "").split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    current = time_step(now)
    for step in (current, current - TOLERANCE_STEPS, current + TOLERANCE_STEPS):
        if secrets.compare_digest(code_at(secret, step), code):
            return step
    return None


def _count_failure(session: Session, user: User, reason: str, action: str) -> None:
    """A wrong second factor counts like a wrong password (the same lockout), audited."""
    from flask import current_app

    user.failed_logins += 1
    audit.record(session, user, action, user, outcome=AuditOutcome.DENIED.value, detail=reason)
    limit = int(current_app.config["LOGIN_MAX_FAILURES"])
    if user.failed_logins >= limit:
        user.locked_until = utcnow() + timedelta(
            minutes=int(current_app.config["LOGIN_LOCK_MINUTES"]))
        user.failed_logins = 0
        audit.record(session, user, "auth.lockout", user, outcome=AuditOutcome.DENIED.value,
                     detail=f"{limit} failed sign-ins (second factor)")


def _new_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
             for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_password(c)) for c in codes)
    return [f"{c[:5]}-{c[5:]}" for c in codes]


@dataclass(frozen=True)
class Enrolment:
    ok: bool
    recovery_codes: list[str]


@verb
def confirm_enrolment(session: Session, user: User, code: str,
                      now: float | None = None) -> Enrolment:
    """The holder typed a first code from their app: two-factor sign-in is on from now.
    A wrong code changes nothing but counts toward the lockout (audited); returns the ten
    recovery codes (shown once) on success."""
    _refuse_if_enrolled(session, user)
    record = record_of(session, user)
    secret = secret_box.open_(record.secret) if record is not None else None
    if record is None or secret is None:
        raise ValidationFailed(N_("Start the set-up again: scan the new QR code."),
                               field="code")
    step = _matching_step(secret, code, now)
    if step is None:
        _count_failure(session, user, WRONG, "two_factor.enrol")
        return Enrolment(ok=False, recovery_codes=[])
    record.enrolled_at = utcnow()
    record.last_step = step
    user.failed_logins = 0
    codes = _new_recovery_codes(session, user)
    session.flush()
    audit.record(session, user, "two_factor.enrol", user,
                 after={"enrolled_at": record.enrolled_at, "recovery_codes": len(codes)})
    return Enrolment(ok=True, recovery_codes=codes)


# ---------------------------------------------------------------------------------------------
# Sign-in
# ---------------------------------------------------------------------------------------------


def _locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _signed_in(session: Session, user: User, detail: str) -> None:
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, user, "auth.two_factor", user, detail=detail)


@verb
def check_code(session: Session, user: User, code: str, now: float | None = None) -> bool:
    """The second step of a sign-in. True: the code is right and was not used before (the
    step is remembered). False: refused, audited, and counted toward the lockout."""
    record = record_of(session, user)
    secret = secret_box.open_(record.secret) if record is not None else None
    if record is None or record.enrolled_at is None or secret is None:
        audit.record(session, user, "auth.two_factor", user,
                     outcome=AuditOutcome.DENIED.value, detail=NOT_ENROLLED)
        return False
    if _locked(user):
        audit.record(session, user, "auth.two_factor", user,
                     outcome=AuditOutcome.DENIED.value, detail=LOCKED)
        return False
    step = _matching_step(secret, code, now)
    if step is None:
        _count_failure(session, user, WRONG, "auth.two_factor")
        return False
    if record.last_step is not None and step <= record.last_step:
        _count_failure(session, user, REPLAYED, "auth.two_factor")
        return False
    record.last_step = step
    _signed_in(session, user, "code")
    return True


def _normal_recovery_code(code: str) -> str:
    return "".join(c for c in (code or "").lower() if c.isalnum())


@verb
def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Sign in with one of the recovery codes instead of a code from the app: each works
    once. A wrong one counts toward the lockout like a wrong code."""
    if not enrolled(session, user):
        audit.record(session, user, "two_factor.recovery_used", user,
                     outcome=AuditOutcome.DENIED.value, detail=NOT_ENROLLED)
        return False
    if _locked(user):
        audit.record(session, user, "two_factor.recovery_used", user,
                     outcome=AuditOutcome.DENIED.value, detail=LOCKED)
        return False
    typed = _normal_recovery_code(code)
    match = None
    if len(typed) == RECOVERY_CODE_LENGTH:
        for row in session.scalars(select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
                .order_by(RecoveryCode.id)):
            if verify_password(row.code_hash, typed):
                match = row
                break
    if match is None:
        _count_failure(session, user, WRONG, "two_factor.recovery_used")
        return False
    match.used_at = utcnow()
    left = int(session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0) - 1
    user.failed_logins = 0
    user.locked_until = None
    audit.record(session, user, "two_factor.recovery_used", user,
                 after={"recovery_codes_left": max(left, 0)})
    return True


# ---------------------------------------------------------------------------------------------
# Reset: a two-person action (R-ROLE-2)
# ---------------------------------------------------------------------------------------------


def _apply_reset(session: Session, actor: User, user: User, detail: str) -> None:
    """Remove the second factor and its recovery codes; every session and token of the
    holder ends (whoever holds their phone holds nothing any more)."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.execute(delete(TwoFactor).where(TwoFactor.user_id == user.id))
    user.session_version += 1
    session.flush()
    audit.record(session, actor, "two_factor.reset", user, detail=detail)
    tokens.revoke_all_of(session, user, "second factor reset")


def _prepare_reset(session: Session, actor: User, user: User, params: dict) -> dict:
    if record_of(session, user) is None:
        raise ValidationFailed(N_("This account has no second factor to reset."),
                               field="user")
    return {}


def _perform_reset(session: Session, actor: User, user: User, params: dict, p: Any) -> None:
    _apply_reset(session, actor, user,
                 f"{p.reason} (two-person #{p.id}, requested by user {p.requested_by_id})")


def _register_two_person_kind() -> None:
    from portal.services import two_person

    two_person.register(RESET_KIND, two_person.Kind(
        action="user.reset_two_factor", label=N_("Reset the second factor"),
        target_model=User, prepare=_prepare_reset, perform=_perform_reset,
        needed=lambda _target: True))


_register_two_person_kind()


@verb
def check_reset_door(session: Session, actor: User, kind: str, two_factor_session: bool) -> None:
    """A reset of a second factor is requested and confirmed only from a session signed in
    with two factors: never with an API token (refused, audited)."""
    if kind == RESET_KIND and not two_factor_session:
        raise RuleViolation(N_("Resetting a second factor needs a session signed in with two "
                               "factors (the portal), not an API token."), rule="R-ROLE-6",
                            field="kind", audit_action=kind, audit_target=actor)
