"""Section H of the campaign: a Hypothesis state machine over grant changes (by the security
administrator), uploads, reclassifications, clearance changes, reassignments, 三员分立 attempts
(self-grants, administrator + business roles, two-person confirmations) and reads, checking
every read decision of the real system against a small, independent model of the policy.

The model knows only what domain.md says: a grant gives a scope (own, branch, department, all)
per role and action; a customer belongs to its owner, the owner's branch and department; a file
is readable when the reader's clearance is at least its level AND the reader knows it (public and
internal: everyone with the row scope; 秘密 SECRET: the customer's owner chain under
``file.in_chain``; 机密 CONFIDENTIAL: the responsible manager; 绝密: people named by the general
manager; ``file.read_all_levels`` knows everything). Both of the system's answers are checked:
``policy.can`` on the row (Python) and ``policy.scope`` (the SQL every list, count and export
uses).

Each example builds its own small organisation (unique codes), so examples do not interfere;
grants are global and are restored after each example.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule
from sqlalchemy import select

from models import ConfidentialFile, Customer, Grant
from models.enums import Level
from portal import policy
from portal.services import customers as customer_svc
from portal.services import files as file_svc
from portal.services import grants as grant_svc
from portal.services import two_person as two_person_svc
from portal.services import users as user_svc
from portal.services.errors import DomainError
from tests.factories import make_branch, make_customer, make_department, make_user
from tests.security import campaign

_run = itertools.count(1)
SCOPES = ("own", "branch", "department", "all", None)
# (role, action) pairs the machine changes; the others keep their default grants.
VARIED = (("sales", "customer.view"), ("supervisor", "customer.view"),
          ("sales", "file.view"), ("sales", "file.in_chain"), ("supervisor", "file.in_chain"),
          ("supervisor", "file.view"))
LEVELS = (Level.PUBLIC, Level.INTERNAL, Level.SECRET, Level.CONFIDENTIAL, Level.TOP_SECRET)
MAX_EXAMPLES = int(os.environ.get("CAMPAIGN_STATE_EXAMPLES", "30"))


class Model:
    """The independent model: plain dicts, no ORM, no policy code."""

    def __init__(self) -> None:
        self.grants: dict[tuple[str, str], set[str]] = {}  # (role, "area.verb") → scopes
        self.users: dict[int, dict[str, Any]] = {}  # id → roles, branch, dept, clearance
        self.customers: dict[int, dict[str, Any]] = {}  # id → owner, branch, dept
        self.files: dict[int, dict[str, Any]] = {}  # id → customer, level, uploader, ...

    def scopes(self, uid: int, action: str) -> set[str]:
        out: set[str] = set()
        for role in self.users[uid]["roles"]:
            out |= self.grants.get((role, action), set())
        return out

    @staticmethod
    def _in(scope: str, user: dict, owners: set[int], branch: int | None,
            depts: set[int | None]) -> bool:
        if scope == "all":
            return True
        if user["id"] in owners:
            return True  # own; branch and department scopes include one's own rows
        if scope == "branch":
            return user["branch"] is not None and branch == user["branch"]
        if scope == "department":
            return user["dept"] is not None and user["dept"] in depts
        return False

    def sees_customer(self, uid: int, cid: int) -> bool:
        u, c = self.users[uid], self.customers[cid]
        return any(self._in(s, u, {c["owner"]}, c["branch"], {c["dept"]})
                   for s in self.scopes(uid, "customer.view"))

    def _file_chain(self, f: dict) -> tuple[set[int], int | None, set[int | None]]:
        c = self.customers[f["customer"]]
        owners = {x for x in (c["owner"], f["uploader"], f["manager"]) if x}
        return owners, c["branch"], {f["dept"] or c["dept"], c["dept"]}

    def reads_file(self, uid: int, fid: int) -> bool:
        u, f = self.users[uid], self.files[fid]
        owners, branch, depts = self._file_chain(f)
        if not any(self._in(s, u, owners, branch, depts)
                   for s in self.scopes(uid, "file.view")):
            return False
        if f["level"] > u["clearance"]:
            return False
        if f["level"] <= Level.INTERNAL or self.scopes(uid, "file.read_all_levels"):
            return True
        if f["level"] == Level.SECRET:
            return any(self._in(s, u, owners, branch, depts)
                       for s in self.scopes(uid, "file.in_chain"))
        if f["level"] == Level.CONFIDENTIAL:
            return f["manager"] == uid
        return False


class PolicyMachine(RuleBasedStateMachine):
    session: Any = None  # set by the test
    secadmin: Any = None
    gm: Any = None
    sysadmin: Any = None
    secauditor: Any = None

    def __init__(self) -> None:
        super().__init__()
        s = self.session
        self.saved_grants = [(g.role, g.area, g.action, g.scope)
                             for g in s.scalars(select(Grant))]
        n = next(_run)
        d1 = make_department(s, f"SM{n}A", f"状态机部门{n}A")
        d2 = make_department(s, f"SM{n}B", f"状态机部门{n}B")
        bx = make_branch(s, d1, f"SM{n}X", f"展厅{n}X")
        by = make_branch(s, d1, f"SM{n}Y", f"展厅{n}Y")
        bz = make_branch(s, d2, f"SM{n}Z", f"展厅{n}Z")
        self.users = {
            "sa": make_user(s, f"sm{n}_sa", ["sales"], branch=bx, clearance=Level.SECRET),
            "sb": make_user(s, f"sm{n}_sb", ["sales"], branch=bx),
            "sc": make_user(s, f"sm{n}_sc", ["sales"], branch=by, clearance=Level.SECRET),
            "sd": make_user(s, f"sm{n}_sd", ["sales"], branch=bz),
            "sup": make_user(s, f"sm{n}_sup", ["supervisor"], branch=bx,
                             clearance=Level.SECRET),
            "mgr": make_user(s, f"sm{n}_mgr", ["dept_manager"], department=d1,
                             clearance=Level.CONFIDENTIAL),
        }
        self.customers = [make_customer(s, self.users[k]) for k in ("sa", "sb", "sc", "sd")]
        s.commit()
        self.model = Model()
        for role, area, action, scope in self.saved_grants:
            self.model.grants.setdefault((role, f"{area}.{action}"), set()).add(scope)
        for u in self.users.values():
            self.model.users[u.id] = {"id": u.id, "roles": set(u.roles), "branch": u.branch_id,
                                      "dept": u.department_id, "clearance": int(u.clearance)}
        for c in self.customers:
            self.model.customers[c.id] = {"owner": c.owner_id, "branch": c.branch_id,
                                          "dept": c.department_id}
        self.files: list[int] = []

    def teardown(self) -> None:
        try:
            for u in self.users.values():  # the final state, for every user
                self.check_reads(u)
        finally:
            self.restore_grants()

    def restore_grants(self) -> None:
        s = self.session
        s.rollback()
        for g in s.scalars(select(Grant)):
            s.delete(g)
        s.flush()
        for role, area, action, scope in self.saved_grants:
            s.add(Grant(role=role, area=area, action=action, scope=scope))
        s.commit()

    # ------------------------------------------------------------------ rules (changes)
    @rule(pair=st.sampled_from(VARIED), scope=st.sampled_from(SCOPES))
    def change_grant(self, pair: tuple[str, str], scope: str | None) -> None:
        role, action = pair
        area, verb = action.split(".")
        s = self.session
        rows = list(s.scalars(select(Grant).where(Grant.role == role, Grant.area == area,
                                                  Grant.action == verb)))
        try:
            for g in rows:
                grant_svc.remove_grant(s, self.secadmin, g.id)
            if scope is not None:
                grant_svc.add_grant(s, self.secadmin, {"role": role, "area": area,
                                                       "action": verb, "scope": scope})
        except DomainError:
            s.rollback()
            raise
        self.model.grants[(role, action)] = {scope} if scope else set()
        campaign.count("policy_model_steps")

    @rule(who=st.sampled_from(("sa", "sb", "sc", "sd")), level=st.sampled_from(LEVELS),
          data=st.data())
    def upload(self, who: str, level: Level, data: Any) -> None:
        u = self.users[who]
        mine = [c for c in self.customers if self.model.customers[c.id]["owner"] == u.id]
        if not mine:
            return
        cust = data.draw(st.sampled_from(mine))
        s = self.session
        content = f"state machine file {len(self.files)} {u.id} {cust.id}".encode()
        try:
            f = file_svc.upload_file(s, u, {"level": int(level), "title": "状态机",
                                            "customer_id": cust.id}, content, "sm.txt")
        except DomainError:
            s.rollback()
            # refused: above the uploader's clearance (R-FILE-1) or no upload grant
            assert int(level) > self.model.users[u.id]["clearance"] or not \
                self.model.scopes(u.id, "file.upload") or not \
                self.model.sees_customer(u.id, cust.id) or \
                not self.model.scopes(u.id, "file.view")
            return
        assert int(level) <= self.model.users[u.id]["clearance"], "uploaded above clearance"
        self.files.append(f.id)
        self.model.files[f.id] = {"customer": cust.id, "level": int(f.level),
                                  "uploader": u.id, "manager": f.responsible_manager_id,
                                  "dept": f.department_id}
        campaign.count("policy_model_steps")

    @precondition(lambda self: self.files)
    @rule(data=st.data(), level=st.sampled_from(LEVELS))
    def reclassify(self, data: Any, level: Level) -> None:
        fid = data.draw(st.sampled_from(self.files))
        s = self.session
        try:
            f = file_svc.reclassify(s, self.secadmin, fid, int(level), "状态机调整")
        except DomainError:
            s.rollback()
            assert self.model.files[fid]["level"] == int(level), "reclassification refused"
            return
        self.model.files[fid]["level"] = int(f.level)
        assert int(f.level) == int(level)
        campaign.count("policy_model_steps")

    @rule(who=st.sampled_from(("sa", "sb", "sc", "sd", "sup", "mgr")),
          level=st.sampled_from(LEVELS[:4]))
    def set_clearance(self, who: str, level: Level) -> None:
        u = self.users[who]
        s = self.session
        try:
            user_svc.set_clearance(s, self.secadmin, u, int(level))
        except DomainError:
            s.rollback()
            return
        self.model.users[u.id]["clearance"] = int(level)
        campaign.count("policy_model_steps")

    @rule(data=st.data(), to=st.sampled_from(("sa", "sb", "sc", "sd")))
    def reassign(self, data: Any, to: str) -> None:
        cust = data.draw(st.sampled_from(self.customers))
        new = self.users[to]
        if self.model.customers[cust.id]["owner"] == new.id:
            return
        s = self.session
        try:
            customer_svc.reassign_owner(s, self.gm, cust.id, new.id, "状态机调整归属")
        except DomainError:
            s.rollback()
            return
        self.model.customers[cust.id] = {"owner": new.id,
                                         "branch": self.model.users[new.id]["branch"],
                                         "dept": self.model.users[new.id]["dept"]}
        campaign.count("policy_model_steps")

    # ------------------------------------------------------------------ 三员分立 (issue 12)
    @rule(role=st.sampled_from(("general_manager", "sales", "auditor", "sysadmin")),
          level=st.sampled_from(LEVELS))
    def self_grant(self, role: str, level: Level) -> None:
        """The security administrator never grants themselves a role or a clearance."""
        s, me = self.session, self.secadmin
        before = (set(me.roles), int(me.clearance))
        for attempt in (lambda: user_svc.grant_role(s, me, me, role),
                        lambda: user_svc.set_clearance(s, me, me, int(level))):
            try:
                attempt()
                ok = False
            except DomainError:
                s.rollback()
                ok = True
            s.expire_all()
            ok = ok and (set(me.roles), int(me.clearance)) == before
            campaign.tally("sod_cases", "sod_unexpected", not ok)
            assert ok, f"self-grant of {role}/{level} went through"
        campaign.count("policy_model_steps")

    @rule(who=st.sampled_from(("sa", "sup", "mgr")),
          role=st.sampled_from(("sysadmin", "secadmin", "secauditor")))
    def admin_role_on_business_holder(self, who: str, role: str) -> None:
        """No administrator role on a holder of a business role (nor the other way round)."""
        s, u = self.session, self.users[who]
        try:
            user_svc.grant_role(s, self.secadmin, u, role)
            ok = False
        except DomainError:
            s.rollback()
            ok = True
        s.expire_all()
        ok = ok and set(u.roles) == self.model.users[u.id]["roles"]
        try:
            user_svc.grant_role(s, self.secadmin, self.sysadmin, "sales")
            ok = False
        except DomainError:
            s.rollback()
        s.expire_all()
        ok = ok and set(self.sysadmin.roles) == {"sysadmin"}
        campaign.tally("sod_cases", "sod_unexpected", not ok)
        assert ok, f"{role} given to {who}, or a business role to the sysadmin"
        campaign.count("policy_model_steps")

    @rule(confirmer=st.sampled_from(("sysadmin", "secadmin", "secauditor", "gm")),
          kind=st.sampled_from(("user.deactivate", "user.reset_password")))
    def two_person(self, confirmer: str, kind: str) -> None:
        """The sysadmin asks to act on the security auditor's account: only a second
        administrator other than the target carries it out (the model: the secadmin)."""
        from models import User

        s = self.session
        target = self.secauditor
        params = {"new_password": "Machine-pass-2026-x"} if kind == "user.reset_password" \
            else {}
        try:
            p = two_person_svc.request_action(s, self.sysadmin, kind, target.id, params,
                                              "状态机")
        except DomainError:
            s.rollback()  # a request of the same kind is already open: refuse it first
            for open_one in s.scalars(two_person_svc.pending_stmt(s, self.secadmin)):
                two_person_svc.refuse_action(s, self.secadmin, open_one.id, "状态机清理")
            p = two_person_svc.request_action(s, self.sysadmin, kind, target.id, params,
                                              "状态机")
        who = {"sysadmin": self.sysadmin, "secadmin": self.secadmin,
               "secauditor": self.secauditor, "gm": self.gm}[confirmer]
        expected = confirmer == "secadmin"
        try:
            two_person_svc.confirm_action(s, who, p.id)
            done = True
        except DomainError:
            s.rollback()
            done = False
        campaign.tally("sod_cases", "sod_unexpected", done != expected)
        assert done == expected, f"{confirmer} confirming {kind}: done={done}"
        if not done:
            two_person_svc.refuse_action(s, self.sysadmin, p.id, "状态机撤回")
        s.expire_all()
        if kind == "user.deactivate" and done:  # give the account back the same way
            p = two_person_svc.request_action(s, self.sysadmin, "user.reactivate", target.id,
                                              {}, "状态机")
            two_person_svc.confirm_action(s, self.secadmin, p.id)
            s.expire_all()
        assert s.get(User, target.id).is_active
        campaign.count("policy_model_steps")

    # ------------------------------------------------------------------ reads
    @rule(who=st.sampled_from(("sa", "sb", "sc", "sd", "sup", "mgr")))
    def read(self, who: str) -> None:
        self.check_reads(self.users[who])

    def check_reads(self, u: Any) -> None:
        s = self.session
        s.expire_all()
        cids = [c.id for c in self.customers]
        listed = set(s.scalars(policy.scope(select(Customer), u, Customer, "customer.view")
                               .where(Customer.id.in_(cids))).all())
        listed_ids = {c.id for c in listed}
        for c in self.customers:
            expected = self.model.sees_customer(u.id, c.id)
            got_row = policy.can(u, "customer.view", c)
            got_sql = c.id in listed_ids
            campaign.count("policy_model_checks")
            if not (expected == got_row == got_sql):
                campaign.count("policy_model_mismatch")
                raise AssertionError(
                    f"customer {c.id} for {u.username}: model {expected}, can {got_row}, "
                    f"scope {got_sql}; model state {self.model.customers[c.id]}, "
                    f"grants {self.model.scopes(u.id, 'customer.view')}")
        if not self.files:
            return
        visible = set(s.scalars(
            policy.scope(select(ConfidentialFile.id), u, ConfidentialFile, "file.view")
            .where(ConfidentialFile.id.in_(self.files))).all())
        for fid in self.files:
            f = s.get(ConfidentialFile, fid)
            expected = self.model.reads_file(u.id, fid)
            got_row = policy.can(u, "file.view", f)
            got_sql = fid in visible
            campaign.count("policy_model_checks")
            if not (expected == got_row == got_sql):
                campaign.count("policy_model_mismatch")
                raise AssertionError(
                    f"file {fid} for {u.username} (clearance {u.clearance}): model "
                    f"{expected}, can {got_row}, scope {got_sql}; file "
                    f"{self.model.files[fid]}, customer "
                    f"{self.model.customers[self.model.files[fid]['customer']]}, "
                    f"file.view {self.model.scopes(u.id, 'file.view')}, in_chain "
                    f"{self.model.scopes(u.id, 'file.in_chain')}")
        s.rollback()


def test_policy_state_machine_matches_the_model(world, session) -> None:
    from hypothesis.stateful import run_state_machine_as_test

    PolicyMachine.session = session
    PolicyMachine.secadmin = world.secadmin
    PolicyMachine.gm = world.gm
    PolicyMachine.sysadmin = world.sysadmin
    PolicyMachine.secauditor = world.secauditor
    run_state_machine_as_test(PolicyMachine, settings=settings(
        max_examples=MAX_EXAMPLES, stateful_step_count=20, deadline=None, database=None,
        suppress_health_check=list(HealthCheck)))


@pytest.mark.parametrize("level", [int(x) for x in LEVELS])
def test_upload_above_own_clearance_is_refused(world, session, level) -> None:
    """R-FILE-1 through the service every front door uses (the portal and the API call it)."""
    u = world.sales1  # clearance INTERNAL in the test world
    cust = world.customers["sales1"][0]
    before = campaign.db_fingerprint(session)
    try:
        file_svc.upload_file(session, u, {"level": level, "title": "x", "customer_id": cust.id},
                             f"clearance test {level}".encode(), "c.txt")
        ok = True
    except DomainError:
        session.rollback()
        ok = False
    campaign.count("authz_cases")
    assert ok == (level <= int(u.clearance))
    if not ok:
        assert campaign.db_fingerprint(session) == before
