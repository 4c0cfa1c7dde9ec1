"""R-ROLE-6 two-factor sign-in (TOTP, RFC 6238), the service: enrolment confirmed by a first
code, ten one-time recovery codes stored hashed, ±1 step clock tolerance, no replay, wrong
codes toward the lockout, the required set from the setting, the reset as a two-person action
(R-ROLE-2), API tokens only from a two-factor session."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from models import ApiToken, AuditEntry, User
from models.org import RecoveryCode, TwoFactor
from portal import settings
from portal.services import configuration, tokens, two_factor, two_person
from portal.services.errors import PermissionDenied, RuleViolation, ValidationFailed
from tests.factories import TOTP_SECRET, enrol_two_factor
from tests.graphql.conftest import make_token

NOW = 1_800_000_000.0  # a fixed wall-clock second: codes are computed for its time step
STEP = two_factor.time_step(NOW)


@pytest.fixture(autouse=True)
def _nobody_enrolled(world, session):
    """The test world's administrators come enrolled; these tests start from nobody."""
    session.execute(TwoFactor.__table__.delete())
    session.commit()


def _code(secret: str, steps: int = 0) -> str:
    return two_factor.code_at(secret, STEP + steps)


def _entries(session, action: str, outcome: str | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == action)
    if outcome:
        stmt = stmt.where(AuditEntry.outcome == outcome)
    return list(session.scalars(stmt.order_by(AuditEntry.id)))


def _fresh(session, user) -> User:
    session.expire_all()
    return session.get(User, user.id)


def test_R_ROLE_6_enrol_needs_a_first_code_and_gives_ten_hashed_recovery_codes(world, session):
    gm = world.gm
    assert two_factor.status(session, gm) == two_factor.Status(True, False, None, 0)
    secret = two_factor.begin_enrolment(session, gm)
    stored = session.get(TwoFactor, gm.id)
    assert stored.secret != secret and secret not in stored.secret  # encrypted at rest
    assert two_factor.pending_secret(session, gm) == secret
    uri = two_factor.provisioning_uri(secret, gm, "客户档案")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri
    svg = two_factor.qr_svg(uri)
    assert svg.startswith("<svg") and "http" not in svg.split("xmlns", 1)[0]

    wrong = two_factor.confirm_enrolment(session, gm, "000000" if _code(secret) != "000000"
                                         else "111111", now=NOW)
    assert not wrong.ok and not two_factor.enrolled(session, gm)
    assert _fresh(session, gm).failed_logins == 1
    assert len(_entries(session, "two_factor.enrol", "denied")) == 1

    done = two_factor.confirm_enrolment(session, gm, _code(secret), now=NOW)
    assert done.ok and len(done.recovery_codes) == 10 and len(set(done.recovery_codes)) == 10
    status = two_factor.status(session, gm)
    assert status.enrolled and status.recovery_codes_left == 10
    hashes = session.scalars(select(RecoveryCode.code_hash).where(
        RecoveryCode.user_id == gm.id)).all()
    assert len(hashes) == 10
    plain = {c.replace("-", "") for c in done.recovery_codes}
    assert not plain & set(hashes) and all(h.startswith("$argon2id$") for h in hashes)
    assert len(_entries(session, "two_factor.enrol", "ok")) == 1
    # once on, a second enrolment is refused: moving to a new phone is a reset
    with pytest.raises(ValidationFailed):
        two_factor.begin_enrolment(session, gm)


def test_R_ROLE_6_correct_code_is_accepted_and_audited(world, session):
    enrol_two_factor(session, world.sysadmin)
    session.commit()
    assert two_factor.check_code(session, world.sysadmin, _code(TOTP_SECRET), now=NOW)
    assert session.get(TwoFactor, world.sysadmin.id).last_step == STEP
    [entry] = _entries(session, "auth.two_factor")
    assert entry.outcome == "ok" and entry.actor_id == world.sysadmin.id


def test_R_ROLE_6_replayed_code_is_refused(world, session):
    enrol_two_factor(session, world.secadmin)
    session.commit()
    code = _code(TOTP_SECRET)
    assert two_factor.check_code(session, world.secadmin, code, now=NOW)
    assert not two_factor.check_code(session, world.secadmin, code, now=NOW)
    assert not two_factor.check_code(session, world.secadmin, code, now=NOW + 20)
    # a later step is fine once, then an earlier step's code is refused too
    assert two_factor.check_code(session, world.secadmin, _code(TOTP_SECRET, 1), now=NOW + 30)
    assert not two_factor.check_code(session, world.secadmin, code, now=NOW + 30)
    refused = _entries(session, "auth.two_factor", "denied")
    assert [e.detail for e in refused] == [two_factor.REPLAYED] * 3
    assert _fresh(session, world.secadmin).failed_logins == 1  # since the last good code


def test_R_ROLE_6_one_step_clock_tolerance(world, session):
    for offset, accepted in ((-1, True), (1, True), (-2, False), (2, False)):
        user = world.gm
        session.execute(TwoFactor.__table__.delete().where(TwoFactor.user_id == user.id))
        enrol_two_factor(session, user)
        session.commit()
        assert two_factor.check_code(session, user, _code(TOTP_SECRET, offset),
                                     now=NOW) is accepted, offset


def test_R_ROLE_6_wrong_codes_count_toward_the_lockout(world, session, app):
    limit = app.config["LOGIN_MAX_FAILURES"]
    user = world.secauditor
    enrol_two_factor(session, user)
    session.commit()
    right = _code(TOTP_SECRET)
    wrong = next(c for c in ("000000", "111111", "222222") if c not in
                 {_code(TOTP_SECRET, s) for s in (-1, 0, 1)})
    for _ in range(limit - 1):
        assert not two_factor.check_code(session, user, wrong, now=NOW)
    assert _fresh(session, user).failed_logins == limit - 1
    assert not two_factor.check_code(session, user, "12 34", now=NOW)  # malformed counts too
    user = _fresh(session, user)
    assert user.locked_until is not None and user.failed_logins == 0
    assert len(_entries(session, "auth.lockout")) == 1
    # locked: even the right code is refused, and the step is not used up
    assert not two_factor.check_code(session, user, right, now=NOW)
    assert _entries(session, "auth.two_factor", "denied")[-1].detail == two_factor.LOCKED
    assert session.get(TwoFactor, user.id).last_step is None


def test_R_ROLE_6_recovery_code_works_once(world, session):
    gm = world.gm
    secret = two_factor.begin_enrolment(session, gm)
    codes = two_factor.confirm_enrolment(session, gm, _code(secret), now=NOW).recovery_codes
    assert two_factor.use_recovery_code(session, gm, codes[3].upper())  # typed in capitals
    assert not two_factor.use_recovery_code(session, gm, codes[3])
    assert two_factor.status(session, gm).recovery_codes_left == 9
    assert [e.outcome for e in _entries(session, "two_factor.recovery_used")] == ["ok", "denied"]
    assert _fresh(session, gm).failed_logins == 1
    assert two_factor.use_recovery_code(session, gm, codes[4].replace("-", " "))


def test_R_ROLE_6_who_must_use_two_factors_is_a_setting(world, session):
    for role, user in world.roles.items():
        assert two_factor.required(session, user) is (role in (
            "sysadmin", "secadmin", "secauditor", "general_manager")), role
    configuration.update_settings(session, world.sysadmin,
                                  {"two_factor.required_roles": '["sysadmin", "sales"]'})
    settings.forget(session)
    assert two_factor.required(session, world.sales1)
    assert not two_factor.required(session, world.gm)
    # anyone may opt in: an enrolled salesperson is asked for the code like anybody else
    assert not two_factor.required(session, world.service)
    enrol_two_factor(session, world.service)
    assert two_factor.check_code(session, world.service, _code(TOTP_SECRET), now=NOW)


def test_R_ROLE_6_reset_needs_two_persons(world, session):
    target = world.gm
    enrol_two_factor(session, target)
    session.commit()
    make_token(session, target)
    version = target.session_version
    p = two_person.request_action(session, world.sysadmin, two_factor.RESET_KIND, target.id,
                                  {}, "lost the phone")
    assert two_factor.enrolled(session, target)  # nothing happens on the request alone
    with pytest.raises(RuleViolation):
        two_person.confirm_action(session, world.sysadmin, p.id)  # not the requester
    assert two_factor.enrolled(session, target)
    two_person.confirm_action(session, world.secauditor, p.id)
    target = _fresh(session, target)
    assert not two_factor.enrolled(session, target) and session.get(TwoFactor, target.id) is None
    assert target.session_version == version + 1
    assert session.scalar(select(func.count()).select_from(ApiToken).where(
        ApiToken.user_id == target.id, ApiToken.revoked_at.is_(None))) == 0
    [entry] = _entries(session, "two_factor.reset")
    assert entry.actor_id == world.secauditor.id and "lost the phone" in entry.detail
    # only the system administrator's grant requests it, and never for their own account
    with pytest.raises(PermissionDenied):
        two_person.request_action(session, world.secadmin, two_factor.RESET_KIND,
                                  world.secauditor.id, {}, "x")
    enrol_two_factor(session, world.sysadmin)
    session.commit()
    with pytest.raises(RuleViolation):
        two_person.request_action(session, world.sysadmin, two_factor.RESET_KIND,
                                  world.sysadmin.id, {}, "x")
    # an account without a second factor has nothing to reset
    with pytest.raises(ValidationFailed):
        two_person.request_action(session, world.sysadmin, two_factor.RESET_KIND,
                                  world.sales1.id, {}, "x")


def test_R_ROLE_6_token_only_from_a_two_factor_session(world, session):
    for user in (world.gm, world.sysadmin):
        with pytest.raises(RuleViolation):
            tokens.create_token(session, user, "phone", 30)
        _token, raw = tokens.create_token(session, user, "phone", 30, two_factor_session=True)
        assert raw.startswith(tokens.TOKEN_PREFIX)
    assert len(_entries(session, "token.add", "denied")) == 2
    # a salesperson who has not opted in creates tokens as before
    tokens.create_token(session, world.sales1, "phone", 30)
    # one who opted in needs the two-factor session too
    enrol_two_factor(session, world.sales2)
    session.commit()
    with pytest.raises(RuleViolation):
        tokens.create_token(session, world.sales2, "phone", 30)
