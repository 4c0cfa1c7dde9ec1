"""No read up as a property (security B, R-FILE-1, R-FILE-2, R-ROLE-2): for generated users
(roles, clearance, branch, knowledge-scope membership) and files (level, secrecy period,
customer and owner chain), what each access path lets through equals a simple model of the
rule — ``policy.can_read_file``, ``policy.can(…, "file.view")``, the SQL scope used by lists,
counts and exports, and the download service."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from models import ConfidentialFile, Customer, FileScopeMember, RoleAssignment, User
from models.enums import Level
from portal import clock, policy, storage
from portal.services import files
from portal.services.errors import NotFound, PermissionDenied
from tests.factories import make_customer, password_hash
from tests.security import campaign  # campaign figures (tests/security/campaign.py)

# The model: what each role's grants mean for files (domain.md, written out independently).
#   view / download / in_chain: the row scope under which the role has that action.
MODEL_ROLES = {
    "sales": {"view": "own", "download": "own", "in_chain": "own"},
    "supervisor": {"view": "branch", "download": "branch", "in_chain": "branch"},
    "dept_manager": {"view": "department", "download": "department",
                     "in_chain": "department"},
    "general_manager": {"view": "all", "download": "all", "in_chain": "all",
                        "read_all": "all"},
    "finance": {"view": "own", "download": "own"},
    "auditor": {"view": "all"},
    "secadmin": {"view": "all"},
    "sysadmin": {},
    "secauditor": {},
    # R-FILE-1: all active staff read the company's standalone public and internal files
    "service": {"view": "own", "download": "own"},
    "reception": {"view": "own", "download": "own"},
}
ADMIN = {"sysadmin", "secadmin", "secauditor"}
# Auditors are read-only whatever else they hold (R-ROLE-3): only view/export count for them.
READ_ONLY = {"auditor", "secauditor"}
READS = {"view", "export"}
_names = itertools.count(1)


def _row_match(scope: str, user: User, f: ConfidentialFile, customer: Customer | None,
               level: int) -> bool:
    if customer is None and level <= Level.INTERNAL:
        return True  # R-FILE-1: a standalone public or internal file is in every scope
    owners = {f.uploaded_by_id, f.responsible_manager_id}
    if customer is not None:
        owners.add(customer.owner_id)
    own = user.id in owners
    if scope == "own":
        return own
    if scope == "branch":
        return own or (user.branch_id is not None and customer is not None
                       and customer.branch_id == user.branch_id)
    if scope == "department":  # the file's department or its customer's
        depts = {f.department_id, customer.department_id if customer else None} - {None}
        return own or (user.department_id is not None and user.department_id in depts)
    return scope == "all"


def model(user: User, roles: set[str], f: ConfidentialFile, customer: Customer | None,
          member: bool) -> tuple[bool, bool, str]:
    """(can read the content, is listed, download outcome)."""
    today = clock.today()
    level = f.level
    if level > Level.INTERNAL and f.secrecy_until is not None and f.secrecy_until < today:
        level = Level.INTERNAL  # R-FILE-4: declassified to 内部, not 公开

    read_only = bool(roles & READ_ONLY)

    def has(action: str) -> bool:
        if read_only and action not in READS:
            return False
        return any(action in MODEL_ROLES[r] and _row_match(MODEL_ROLES[r][action], user, f,
                                                          customer, level) for r in roles)

    read_all = not read_only and any("read_all" in MODEL_ROLES[r] for r in roles)
    knows = (level <= Level.INTERNAL or read_all or member
             or (level == Level.SECRET and has("in_chain"))
             or (level == Level.CONFIDENTIAL and f.responsible_manager_id == user.id))
    read = user.is_active and level <= user.clearance and knows
    listed = read and has("view")
    if not (read and has("download")):
        download = "hidden"
    elif level >= Level.SECRET:
        download = "needs approval"
    else:
        download = "ok"
    return read, listed, download


# business roles weighted up: they are where scopes interact
WEIGHTED_ROLES = sorted(MODEL_ROLES) + ["sales", "supervisor", "dept_manager"] * 3
role_sets = st.lists(st.sampled_from(WEIGHTED_ROLES), min_size=1, max_size=2,
                     unique=True).filter(  # R-ROLE-2: an administrator holds only that role
    lambda rs: not (set(rs) & ADMIN) or len(rs) == 1)
file_specs = st.lists(st.fixed_dictionaries({
    "level": st.sampled_from(list(Level)),
    "until": st.sampled_from([None, -30, -1, 1, 400]),
    "customer": st.sampled_from(["none", "own", "sales1", "sales2", "sales3", "sales4"]),
    "uploader": st.sampled_from(["user", "sales1", "gm", "manager", "manager2"]),
    "manager": st.sampled_from([None, "user", "manager", "manager2"]),
    "dept_override": st.booleans(),
    "member": st.booleans(),
}), min_size=1, max_size=4)
user_specs = st.fixed_dictionaries({
    "roles": role_sets,
    "place": st.sampled_from(["b1", "b2", "b3", "d1", "d2", "d1", "d2", "none"]),
    "clearance": st.sampled_from(list(Level)),
    "active": st.sampled_from([True, True, True, False]),
})


def test_R_FILE_1_no_read_up_property_on_every_path(cleared, session):
    w = cleared
    key = storage.current().put(b"property test content\n")
    stats = {"examples": 0, "checks": 0, "mismatch": 0}

    @settings(max_examples=200, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(user_spec=user_specs, specs=file_specs)
    def check(user_spec: dict, specs: list[dict]) -> None:
        n = next(_names)
        place = user_spec["place"]
        branch = getattr(w, place) if place.startswith("b") else None
        dept = getattr(w, place) if place.startswith("d") else None
        if branch is not None:
            dept = w.d1 if branch.department_id == w.d1.id else w.d2
        user = User(username=f"prop{n}", full_name=f"Prop {n}", password_hash=password_hash(),
                    department_id=dept.id if dept else None,
                    branch_id=branch.id if branch else None,
                    clearance=int(user_spec["clearance"]), is_active=True)
        session.add(user)
        session.flush()
        for r in set(user_spec["roles"]):
            session.add(RoleAssignment(user_id=user.id, role=r))
        session.flush()
        own_customer = make_customer(session, user, branch=branch or w.b1)
        people = {"user": user, "sales1": w.sales1, "gm": w.gm, "manager": w.manager,
                  "manager2": w.manager2, None: None}
        made = []
        spec_of: dict[int, dict] = {}
        for spec in specs:
            if spec["customer"] == "none":
                customer = None
            elif spec["customer"] == "own":
                customer = own_customer
            else:
                customer = w.customers[spec["customer"]][n % 2]
            until = None if spec["until"] is None else \
                clock.today() + timedelta(days=spec["until"])
            if customer is not None and not spec["dept_override"]:
                department_id = customer.department_id
            elif customer is not None:  # a department other than the customer's
                department_id = (w.d2 if customer.department_id == w.d1.id else w.d1).id
            else:
                department_id = (w.d2 if spec["dept_override"] else w.d1).id
            uploader = people[spec["uploader"]]
            manager = people[spec["manager"]]
            f = ConfidentialFile(
                title=f"p{n}", customer_id=customer.id if customer else None,
                department_id=department_id, level=int(spec["level"]),
                responsible_manager_id=manager.id if manager else None,
                original_name="p.txt", content_type="text/plain; charset=utf-8",
                size_bytes=len(b"property test content\n"), sha256=key,
                uploaded_by_id=uploader.id, secrecy_until=until)
            session.add(f)
            session.flush()
            if spec["member"]:
                session.add(FileScopeMember(file_id=f.id, user_id=user.id, added_by_id=w.gm.id))
            made.append((f, customer, spec["member"]))
            spec_of[f.id] = dict(spec, customer_owner=customer.owner_id if customer else None,
                                 customer_dept=customer.department_id if customer else None,
                                 department_id=department_id, user_id=user.id)
        user.is_active = user_spec["active"]
        session.commit()
        session.refresh(user)

        listed_sql = set(session.scalars(policy.scope(
            select(ConfidentialFile.id), user, ConfidentialFile).where(
            ConfidentialFile.id.in_([f.id for f, _, _ in made]))))
        for f, customer, member in made:
            session.refresh(f)
            want_read, want_listed, want_download = model(user, set(user_spec["roles"]), f,
                                                          customer, member)
            got_read = policy.can_read_file(user, f)
            got_listed_py = policy.can(user, "file.view", f)
            got_listed_sql = f.id in listed_sql
            try:
                files.open_download(session, user, f.id)
                got_download = "ok"
            except NotFound:
                got_download = "hidden"
            except PermissionDenied:
                got_download = "needs approval"
            got = (got_read, got_listed_py, got_listed_sql, got_download)
            want = (want_read, want_listed, want_listed, want_download)
            stats["checks"] += 1
            if got != want:
                stats["mismatch"] += 1
            assert got == want, (user_spec, spec_of[f.id])
        stats["examples"] += 1

    check()
    print(f"\nno-read-up {stats['examples']} examples {stats['checks']} file checks "
          f"{stats['mismatch']} mismatch (can_read_file, can, SQL scope, download)")
    campaign.add(noreadup_examples=stats["examples"], noreadup_mismatch=stats["mismatch"])
    assert stats["examples"] >= 100 and stats["mismatch"] == 0
