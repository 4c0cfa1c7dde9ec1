"""Section B extras of the campaign, not covered by tests/admin and tests/graphql:

- mass assignment (role, clearance, owner_id, level, version, …) posted to the portal's forms
  and to GraphQL inputs is refused (a 400 with a message, issue 13) and nothing changes;
- uploading above one's clearance, or changing a file's level without the classification
  grant, is refused through the portal (lowering included);
- 三员分立: no route, form, service, mutation or raw SQL gives one user two of the three
  administrator roles.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from models import ConfidentialFile, Customer, RoleAssignment, User
from models.enums import Level
from tests.graphql.conftest import make_token
from tests.security import campaign

SENSITIVE = {"role": "secadmin", "roles": "secadmin", "clearance": "4", "owner": "1",
             "owner_id": "1", "level": "0", "is_active": "", "session_version": "99",
             "password_hash": "x", "branch_id": "1", "department_id": "1", "status": "void",
             "code": "HACKED", "id": "999", "failed_logins": "0", "locked_until": "",
             "deal_at": "2020-01-01", "ownership_expires_at": "2099-01-01"}


def _snapshot(obj, names) -> dict:
    return {n: getattr(obj, n) for n in names}


def test_mass_assignment_on_the_customer_edit_form_is_refused(world, session, clients) -> None:
    cust = world.customers["sales1"][0]
    keep = ("owner_id", "branch_id", "department_id", "status", "code", "id",
            "ownership_expires_at", "deal_at")
    before = _snapshot(cust, keep)
    data = dict(SENSITIVE, owner_id=str(world.sales4.id), owner=str(world.sales4.id),
                branch_id=str(world.b3.id), name=cust.name, notes="mass assignment",
                version=str(cust.version))
    resp = campaign.check_response(clients["sales"].post(
        f"/admin/customer/edit/?id={cust.id}", data=data))
    campaign.count("authz_cases")
    assert resp.status_code == 400
    assert "此操作不接受" in resp.get_data(as_text=True)
    session.expire_all()
    row = session.get(Customer, cust.id)
    assert _snapshot(row, keep) == before
    assert row.notes != "mass assignment"  # refused as a whole: nothing is half saved


def test_mass_assignment_on_the_user_forms_is_refused(world, session, clients) -> None:
    target = world.sales2
    keep = ("clearance", "is_active", "session_version", "password_hash", "failed_logins",
            "username")
    before = _snapshot(target, keep)
    roles_before = set(target.roles)
    resp = campaign.check_response(clients["sysadmin"].post(
        f"/admin/user/edit/?id={target.id}",
        data=dict(SENSITIVE, full_name="改名", username="renamed",
                  version=str(target.version))))
    campaign.count("authz_cases")
    assert resp.status_code == 400
    session.expire_all()
    row = session.get(User, target.id)
    assert _snapshot(row, keep) == before
    assert set(row.roles) == roles_before
    assert row.full_name != "改名"
    # creating an account: role and clearance in the post are refused, nothing is created
    resp = campaign.check_response(clients["sysadmin"].post("/admin/user/new/", data=dict(
        SENSITIVE, username="newcomer", password="Newcomer-pass-42", full_name="新人",
        department=str(world.d1.id), branch=str(world.b1.id))))
    campaign.count("authz_cases")
    assert resp.status_code == 400
    assert session.scalar(select(User).where(User.username == "newcomer")) is None


def test_mass_assignment_through_graphql_inputs(world, session, client) -> None:
    token = make_token(session, world.sales1)
    headers = {"Authorization": f"Bearer {token}"}
    cust = world.customers["sales1"][0]
    # fields that are not in the input types are refused by validation, nothing runs
    for field, value in (("ownerId", f'"User:{world.sales4.id}"'), ("clearance", "4"),
                         ("version", "99"), ("status", "VOID"), ("level", "0"),
                         ("branchId", f'"Branch:{world.b3.id}"')):
        before = campaign.db_fingerprint(session, {"api_tokens"})
        q = (f'mutation {{ updateCustomer(customerId: "Customer:{cust.id}", '
             f'input: {{notes: "x", {field}: {value}}}) {{ ok }} }}')
        resp = campaign.check_response(client.post("/graphql", json={"query": q},
                                                    headers=headers))
        campaign.count("authz_cases")
        assert resp.get_json().get("errors"), (field, resp.get_json())
        assert campaign.db_fingerprint(session, {"api_tokens"}) == before
    for field in ("clearance: 4", "roles: [\"secadmin\"]", "isActive: true"):
        q = (f'mutation {{ updateUser(userId: "User:{world.sales1.id}", '
             f'input: {{fullName: "x", {field}}}) {{ ok }} }}')
        resp = campaign.check_response(client.post("/graphql", json={"query": q},
                                                   headers=headers))
        campaign.count("authz_cases")
        assert resp.get_json().get("errors"), (field, resp.get_json())


def test_graphql_create_customer_for_someone_elses_branch(world, session, client) -> None:
    """``ownerId``/``branchId`` are in CustomerInput; a salesperson may not use them to file an
    archive under another owner or outside their own branch."""
    token = make_token(session, world.sales1)
    q = """mutation($o: ID, $b: ID) { createCustomer(input: {name: "越权客户", phone:
      "13711112222", kind: END, ownerId: $o, branchId: $b}) { ok errors { code }
      result { databaseId } } }"""
    for owner, branch in ((f"User:{world.sales4.id}", None), (None, f"Branch:{world.b3.id}"),
                          (f"User:{world.sales4.id}", f"Branch:{world.b3.id}")):
        resp = campaign.check_response(client.post(
            "/graphql", json={"query": q, "variables": {"o": owner, "b": branch}},
            headers={"Authorization": f"Bearer {token}"}))
        campaign.count("authz_cases")
        payload = (resp.get_json().get("data") or {}).get("createCustomer")
        if payload and payload["ok"]:
            row = session.get(Customer, payload["result"]["databaseId"])
            assert row.owner_id == world.sales1.id and row.branch_id == world.b1.id, \
                (owner, branch, row.owner_id, row.branch_id)
            session.delete(row)
            session.commit()


# ------------------------------------------------------------------------------ file levels


def _upload(client, level: int, customer_id: int | str = ""):
    return client.post("/admin/file/upload/", data={
        "title": "密级测试", "level": str(level), "customer_id": str(customer_id),
        "file": (io.BytesIO(f"level {level} test\n".encode()), "notes.txt")},
        content_type="multipart/form-data")


@pytest.mark.parametrize("level", [int(x) for x in Level])
def test_portal_upload_above_clearance_is_refused(world, session, clients, unchanged,
                                                  level) -> None:
    user = world.sales1  # clearance INTERNAL
    c = clients["sales"]
    if level > user.clearance:
        with unchanged():
            resp = campaign.check_response(_upload(c, level, world.customers["sales1"][0].id))
        assert resp.status_code in (200, 400, 403)
    else:
        resp = campaign.check_response(_upload(c, level, world.customers["sales1"][0].id))
    campaign.count("authz_cases")
    stored = session.scalar(select(ConfidentialFile).where(ConfidentialFile.level == level))
    if level > user.clearance:
        assert stored is None, "uploaded above the uploader's clearance"
    else:
        assert stored is not None, re.findall(r'class="[^"]*(?:error|invalid)[^"]*"[^>]*>'
                                              r'([^<]+)<', resp.get_data(as_text=True))


@pytest.mark.parametrize("role", ["sales", "supervisor", "dept_manager", "general_manager",
                                  "sysadmin", "auditor"])
def test_only_the_security_administrator_changes_a_level(world, session, clients, unchanged,
                                                         role) -> None:
    from portal.services import files

    world.sales1.clearance = Level.SECRET
    session.commit()
    f = files.upload_file(session, world.sales1, {"level": int(Level.SECRET), "title": "秘密",
                                                  "customer_id": world.customers["sales1"][0].id},
                          b"secret level file\n", "s.txt")
    fid = f.id
    c = clients[role]  # logged in before the fingerprint (a login writes the user row)
    for new in (Level.PUBLIC, Level.INTERNAL, Level.TOP_SECRET):
        with unchanged():
            resp = campaign.check_response(c.post(
                f"/admin/file/reclassify/?id={fid}", data={"level": str(int(new)),
                                                           "reason": "降密"}))
        campaign.count("authz_cases")
        assert resp.status_code in (403, 404), (role, new, resp.status_code)
    # the security administrator may (the control)
    resp = campaign.check_response(clients["secadmin"].post(
        f"/admin/file/reclassify/?id={fid}", data={"level": "1", "reason": "解密",
                                                  "version": str(f.version)}))
    assert resp.status_code == 302, resp.get_data(as_text=True)[-400:]
    session.expire_all()
    assert session.get(ConfidentialFile, fid).level == Level.INTERNAL


# ------------------------------------------------------------------------------ 三员分立

ADMIN = ("sysadmin", "secadmin", "secauditor")


@pytest.mark.parametrize("holder", ADMIN)
@pytest.mark.parametrize("second", ADMIN)
def test_R_ROLE_2_no_route_gives_two_admin_roles(world, session, clients, client, holder,
                                                  second) -> None:
    if holder == second:
        return
    from portal.services import users
    from portal.services.errors import DomainError

    target = world.roles[holder]
    others = [r for r in ADMIN if r != holder]

    def admin_roles() -> set[str]:
        session.expire_all()
        return set(session.get(User, target.id).roles) & set(ADMIN)

    # the portal's role page, as every administrator
    for actor in ADMIN:
        resp = campaign.check_response(clients[actor].post(
            f"/admin/user/roles/?id={target.id}", data={"op": "grant", "role": second,
                                                        "clearance": "0"}))
        campaign.count("authz_cases")
        assert admin_roles() == {holder}, (actor, resp.status_code)
    # the service, as the security administrator (the one who assigns roles)
    with pytest.raises(DomainError):
        users.grant_role(session, world.secadmin, target, second)
    session.rollback()
    assert admin_roles() == {holder}
    # GraphQL has no role mutation: a guessed one is a validation error
    token = make_token(session, world.secadmin)
    resp = campaign.check_response(client.post("/graphql", json={
        "query": f'mutation {{ grantRole(userId: "User:{target.id}", role: "{second}") '
                 f'{{ ok }} }}'}, headers={"Authorization": f"Bearer {token}"}))
    assert resp.get_json().get("errors")
    assert admin_roles() == {holder}
    # raw SQL: the database's own partial unique index refuses it
    with pytest.raises(IntegrityError):
        session.execute(text("INSERT INTO role_assignments (user_id, role, granted_at) "
                             "VALUES (:u, :r, CURRENT_TIMESTAMP)"), {"u": target.id,
                                                                     "r": second})
        session.flush()
    session.rollback()
    assert admin_roles() == {holder}
    assert others


def test_R_ROLE_2_grant_editor_cannot_merge_admin_duties(world, session, clients) -> None:
    """Granting one administrator's actions to another administrator role is refused."""
    from models import Grant

    c = clients["secadmin"]
    before = campaign.db_fingerprint(session)
    for role, action in (("secadmin", "user.add"), ("sysadmin", "grant.change"),
                         ("secauditor", "file.classify"), ("sysadmin", "audit.view"),
                         ("secadmin", "audit.view"), ("sysadmin", "file.read_all_levels")):
        resp = campaign.check_response(c.post("/admin/grant/new/", data={
            "role": role, "action": action, "scope": "all"}))
        campaign.count("authz_cases")
        area, verb = action.split(".")
        assert session.scalar(select(Grant).where(Grant.role == role, Grant.area == area,
                                                  Grant.action == verb)) is None, \
            (role, action, resp.status_code)
    assert campaign.db_fingerprint(session) == before


def test_R_ROLE_2_role_assignment_columns_exist() -> None:
    """Guards the raw-SQL test above against a renamed table or column."""
    cols = {c.name for c in RoleAssignment.__table__.columns}
    assert {"user_id", "role"} <= cols
