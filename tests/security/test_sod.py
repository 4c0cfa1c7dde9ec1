"""Issue 12, separation of duties (R-ROLE-2 rewritten, R-AUD-4): nobody grants themselves a
role, a clearance or a knowledge scope; an administrator holds no business role (and the other
way round), also in the database; the auditors' audit-read grants cannot be narrowed or
removed. Every refusal changes nothing and leaves exactly one 'denied' entry, through each
door that offers the action (the portal and the CLI; GraphQL has no role, clearance, grant or
scope mutation — a guessed one is a validation error)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from models import ConfidentialFile, Grant, User
from models.enums import Level
from portal.services import files, grants, users
from portal.services.errors import RuleViolation
from tests.files.conftest import TEXT
from tests.graphql.conftest import make_token
from tests.security import campaign


def _sod(ok: bool) -> None:
    campaign.tally("sod_cases", "sod_unexpected", not ok)


def _roles(session, user) -> set[str]:
    session.expire_all()
    return set(session.get(User, user.id).roles)


# ------------------------------------------------------------------ (1) self-grants


def test_R_ROLE_2_secadmin_cannot_grant_themselves_a_role(world, session, clients, unchanged):
    me = world.secadmin
    c = clients["secadmin"]  # logged in before the mark
    with unchanged(denied=1):
        resp = c.post(f"/admin/user/roles/?ids={me.id}", data={
            "op": "grant", "role": "general_manager", "clearance": "1"})
        assert resp.status_code == 200 and "三员分立" in resp.get_data(as_text=True)
    _sod(_roles(session, me) == {"secadmin"})
    with unchanged(denied=1), pytest.raises(RuleViolation):
        users.grant_role(session, me, me, "sales")
    _sod(_roles(session, me) == {"secadmin"})


def test_R_ROLE_2_secadmin_cannot_raise_their_own_clearance(world, session, clients, unchanged):
    me = world.secadmin
    before = me.clearance
    c = clients["secadmin"]
    with unchanged(denied=1):
        resp = c.post(f"/admin/user/roles/?ids={me.id}", data={
            "op": "clearance", "role": "sales", "clearance": str(Level.TOP_SECRET.value)})
        assert resp.status_code == 200 and "三员分立" in resp.get_data(as_text=True)
    session.expire_all()
    _sod(session.get(User, me.id).clearance == before)
    # setting another person's clearance still works
    users.set_clearance(session, me, world.sales1, Level.SECRET.value)
    assert session.get(User, world.sales1.id).clearance == Level.SECRET.value


def test_R_ROLE_2_nobody_adds_themselves_to_a_knowledge_scope(world, session, clients,
                                                               unchanged):
    f = files.upload_file(session, world.gm, {"level": Level.SECRET,
                                              "customer_id": world.customers["sales3"][0].id},
                          TEXT, "x.txt")
    manager = world.manager  # may name the scope of department files, not themselves
    c = clients["dept_manager"]
    with unchanged(denied=1), pytest.raises(RuleViolation):
        files.add_scope_member(session, manager, f.id, manager.id)
    with unchanged(denied=1):
        resp = c.post(f"/admin/file/scope/?id={f.id}",
                      data={"user_id": str(manager.id), "version": str(f.version)})
        assert resp.status_code == 200
        assert "三员分立" in resp.get_data(as_text=True)
    session.expire_all()
    _sod(not session.get(ConfidentialFile, f.id).scope_members)


def test_R_ROLE_2_graphql_has_no_door_to_roles_or_clearances(world, session, client):
    token = make_token(session, world.secadmin)
    for mutation in (f'grantRole(userId: "User:{world.secadmin.id}", role: "sales") {{ ok }}',
                     f'setClearance(userId: "User:{world.secadmin.id}", clearance: 4) {{ ok }}'):
        resp = client.post("/graphql", json={"query": f"mutation {{ {mutation} }}"},
                           headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code < 500 and resp.get_json().get("errors")
    _sod(_roles(session, world.secadmin) == {"secadmin"})


# ------------------------------------------------------------------ admin + business roles


@pytest.mark.parametrize(("holder", "added"), [("sysadmin", "general_manager"),
                                               ("secadmin", "sales"),
                                               ("secauditor", "auditor"),
                                               ("sales", "secauditor"),
                                               ("general_manager", "sysadmin")])
def test_R_ROLE_2_admin_and_business_roles_never_together(world, session, clients, unchanged,
                                                           holder, added):
    target = world.roles[holder]
    c = clients["secadmin"]
    with unchanged(denied=1):
        resp = c.post(f"/admin/user/roles/?ids={target.id}", data={
            "op": "grant", "role": added, "clearance": "1"})
        assert resp.status_code == 200 and "三员分立" in resp.get_data(as_text=True)
    _sod(_roles(session, target) == {holder})
    with unchanged(denied=1), pytest.raises(RuleViolation):
        users.grant_role(session, world.secadmin, target, added)
    _sod(_roles(session, target) == {holder})


@pytest.mark.parametrize(("holder", "added"), [("sysadmin", "general_manager"),
                                               ("sales", "secadmin")])
def test_R_ROLE_2_database_refuses_admin_and_business_role(world, session, holder, added):
    target = world.roles[holder]
    with pytest.raises(IntegrityError) as exc:
        session.execute(text("INSERT INTO role_assignments (user_id, role, granted_at) "
                             "VALUES (:u, :r, CURRENT_TIMESTAMP)"), {"u": target.id, "r": added})
        session.flush()
    session.rollback()
    assert "role_assignments_sod" in str(exc.value)
    _sod(_roles(session, target) == {holder})
    # a revoked business role cannot be revived on an administrator either
    session.execute(text("INSERT INTO role_assignments (user_id, role, granted_at, revoked_at) "
                         "VALUES (:u, :r, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                    {"u": target.id, "r": added})
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(text("UPDATE role_assignments SET revoked_at = NULL "
                             "WHERE user_id = :u AND role = :r"), {"u": target.id, "r": added})
        session.flush()
    session.rollback()
    _sod(_roles(session, target) == {holder})


def test_R_ROLE_2_cli_refuses_admin_with_business_role(app, session):
    runner = CliRunner()
    result = runner.invoke(app.cli, ["portal", "create-user", "--username", "mixed",
                                     "--full-name", "Mixed", "--role", "sysadmin",
                                     "--role", "general_manager",
                                     "--password", "Very-strong-pass-123"])
    assert result.exit_code == 1 and "三员分立" in result.output
    _sod(session.scalar(select(User).where(User.username == "mixed")) is None)


# ------------------------------------------------------------------ (3) auditors' grants


@pytest.mark.parametrize(("role", "action"), [("auditor", "view"), ("secauditor", "view"),
                                              ("secauditor", "export")])
def test_R_ROLE_2_auditors_audit_read_grants_cannot_be_narrowed_or_removed(
        world, session, clients, unchanged, role, action):
    grant = session.scalar(select(Grant).where(Grant.role == role, Grant.area == "audit",
                                               Grant.action == action))
    c = clients["secadmin"]
    clients["secauditor"]
    with unchanged(denied=1):
        resp = c.post(f"/admin/grant/edit/?id={grant.id}",
                      data={"scope": "own", "version": str(grant.version)})
        assert resp.status_code == 200
    with unchanged(denied=1):
        c.post("/admin/grant/delete/", data={"id": str(grant.id)})
    with unchanged(denied=1), pytest.raises(RuleViolation):
        grants.change_scope(session, world.secadmin, grant.id, {"scope": "own"})
    with unchanged(denied=1), pytest.raises(RuleViolation):
        grants.remove_grant(session, world.secadmin, grant.id)
    session.expire_all()
    kept = session.get(Grant, grant.id)
    _sod(kept is not None and kept.scope == "all")
    # the secauditor still reads the whole log
    assert clients["secauditor"].get("/admin/auditentry/log/").status_code == 200
