"""R-ROLE-2 三员分立: no user holds two of sysadmin, secadmin, secauditor — refused by the
database (partial unique index) and by the role service; administrators do not read classified
content because they are administrators."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from models import ConfidentialFile, RoleAssignment
from models.enums import Level
from portal import policy
from portal.services import files, users
from portal.services.errors import RuleViolation
from tests.factories import make_user
from tests.files.conftest import TEXT

ADMIN_ROLES = ["sysadmin", "secadmin", "secauditor"]


@pytest.mark.parametrize(("held", "added"), [(a, b) for a in ADMIN_ROLES for b in ADMIN_ROLES
                                             if a != b])
def test_R_ROLE_2_database_refuses_two_active_admin_roles(world, session, held, added):
    user = {"sysadmin": world.sysadmin, "secadmin": world.secadmin,
            "secauditor": world.secauditor}[held]
    # the same raw insert for an account without roles is accepted: the refusal is the
    # 三员 index (a business role on an administrator is refused too: test_sod.py)
    fresh = make_user(session, f"fresh_{held}", [])
    session.execute(text("INSERT INTO role_assignments (user_id, role, granted_at) "
                         "VALUES (:u, :r, CURRENT_TIMESTAMP)"), {"u": fresh.id, "r": added})
    session.commit()
    with pytest.raises(IntegrityError) as exc:
        session.execute(text("INSERT INTO role_assignments (user_id, role, granted_at) "
                             "VALUES (:u, :r, CURRENT_TIMESTAMP)"),
                        {"u": user.id, "r": added})
        session.commit()
    session.rollback()
    assert "one_admin_role" in str(exc.value) or "UNIQUE" in str(exc.value)
    assert session.scalar(select(func.count()).select_from(RoleAssignment).where(
        RoleAssignment.user_id == user.id, RoleAssignment.revoked_at.is_(None),
        RoleAssignment.role.in_(ADMIN_ROLES))) == 1


def test_R_ROLE_2_grant_role_refuses_and_revoke_first_allows(world, session):
    with pytest.raises(RuleViolation) as exc:
        users.grant_role(session, world.secadmin, world.sysadmin, "secauditor")
    assert exc.value.rule == "R-ROLE-2"
    session.refresh(world.sysadmin)
    assert world.sysadmin.roles == frozenset({"sysadmin"})
    # over time only after the old grant is revoked
    users.revoke_role(session, world.secadmin, world.sysadmin, "sysadmin")
    users.grant_role(session, world.secadmin, world.sysadmin, "secauditor")
    session.refresh(world.sysadmin)
    assert world.sysadmin.roles == frozenset({"secauditor"})


@pytest.mark.parametrize("level", [Level.SECRET, Level.CONFIDENTIAL, Level.TOP_SECRET])
def test_R_ROLE_2_admins_do_not_read_classified_content(world, session, level):
    f = files.upload_file(session, world.gm, {"level": level,
                                              "customer_id": world.customers["sales1"][0].id},
                          TEXT, "x.txt")
    for admin in (world.sysadmin, world.secadmin, world.secauditor):
        admin.clearance = Level.TOP_SECRET
    session.commit()
    for admin in (world.sysadmin, world.secadmin, world.secauditor):
        assert not policy.can_read_file(admin, f), admin.username
        assert not policy.can(admin, "file.view", f)
        visible = session.scalars(policy.scope(select(ConfidentialFile.id), admin,
                                               ConfidentialFile)).all()
        assert f.id not in visible
    # the security administrator classifies it without reading it
    files.reclassify(session, world.secadmin, f.id, Level.INTERNAL, "审定降为内部")
    assert policy.can(world.secadmin, "file.view", f)  # internal: no scope needed
