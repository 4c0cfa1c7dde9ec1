"""Test data builders. Passwords are hashed once per run (Argon2id is deliberately slow)."""

from __future__ import annotations

import functools
import itertools
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from models import Branch, Customer, Department, RoleAssignment, User
from models.base import utcnow
from models.enums import Level
from portal import policy
from portal.normalize import normalize_name, normalize_phone
from portal.passwords import hash_password

PASSWORD = "Test-password-1"
_seq = itertools.count(1)


@functools.cache
def password_hash() -> str:
    return hash_password(PASSWORD)


# R-ROLE-6: the fixed TOTP secret every pre-enrolled test account uses (tests compute codes
# from it with ``totp_code``)
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def enrol_two_factor(session: Session, user: User, secret: str = TOTP_SECRET) -> None:
    """Give ``user`` a confirmed second factor with ``secret`` (no recovery codes: hashing ten
    of them per test account would cost a second a world)."""
    from models.org import TwoFactor
    from portal.services import secret_box

    session.add(TwoFactor(user_id=user.id, secret=secret_box.seal(secret),
                          enrolled_at=utcnow()))
    session.flush()


def pass_second_factor(client: Any, user: User | int, secret: str | None = None,
                       **form: str) -> Any:
    """After the password, the code page: type the current code (of ``secret``, else of the
    account's own key: the tests' TOTP_SECRET, the demo's DEMO_TOTP_SECRET). A test signs the
    same account in many times within one 30-second step; a real person waits for the next
    code, so the test forgets the last accepted step first (the replay guard has its own
    tests)."""
    from models.org import TwoFactor
    from portal.extensions import db
    from portal.services import secret_box

    record = db.session.get(TwoFactor, user if isinstance(user, int) else user.id)
    if record is not None:
        record.last_step = None
        secret = secret or secret_box.open_(record.secret)
        db.session.commit()
    return client.post("/login/code", data={"code": totp_code(secret or TOTP_SECRET), **form})


def totp_code(secret: str = TOTP_SECRET, steps: int = 0, now: float | None = None) -> str:
    """The code of the current time step (+ ``steps``) for ``secret``."""
    from portal.services import two_factor

    return two_factor.code_at(secret, two_factor.time_step(now) + steps)


def make_department(session: Session, code: str, name: str) -> Department:
    d = Department(code=code, name=name)
    session.add(d)
    session.flush()
    return d


def make_branch(session: Session, department: Department, code: str, name: str) -> Branch:
    b = Branch(code=code, name=name, department_id=department.id)
    session.add(b)
    session.flush()
    return b


def make_user(session: Session, username: str, roles: list[str], *,
              department: Department | None = None, branch: Branch | None = None,
              clearance: int = Level.INTERNAL.value, two_factor: bool = True,
              **fields: Any) -> User:
    if branch is not None and department is None:
        department = session.get(Department, branch.department_id)
    u = User(username=username, full_name=fields.pop("full_name", username.title()),
             password_hash=password_hash(), department_id=department.id if department else None,
             branch_id=branch.id if branch else None, clearance=clearance, **fields)
    session.add(u)
    session.flush()
    for r in roles:
        session.add(RoleAssignment(user_id=u.id, role=r))
    session.flush()
    session.refresh(u)
    if two_factor and policy.two_factor_required(u, None):
        enrol_two_factor(session, u)  # R-ROLE-6: these roles sign in with TOTP_SECRET's codes
    return u


def make_customer(session: Session, owner: User | None, *, branch: Branch | None = None,
                  name: str | None = None, phone: str | None = None, **fields: Any) -> Customer:
    n = next(_seq)
    branch = branch or (session.get(Branch, owner.branch_id) if owner else None)
    assert branch is not None, "a customer needs a branch"
    name = name or f"测试客户{n}"
    phone = phone or f"138{n:08d}"
    c = Customer(code=fields.pop("code", f"C{n:07d}"), name=name,
                 name_normalized=normalize_name(name), phone=phone,
                 phone_normalized=normalize_phone(phone), owner_id=owner.id if owner else None,
                 branch_id=branch.id, department_id=branch.department_id,
                 registered_at=fields.pop("registered_at", utcnow()),
                 ownership_expires_at=fields.pop("ownership_expires_at",
                                                 utcnow() + timedelta(days=60)),
                 **fields)
    session.add(c)
    session.flush()
    return c


def build_world(session: Session) -> SimpleNamespace:
    """Two departments, three branches, one user per role (two salespeople in branch 1), and
    two customers for each salesperson."""
    w = SimpleNamespace()
    w.d1 = make_department(session, "D1", "销售一部")
    w.d2 = make_department(session, "D2", "销售二部")
    w.b1 = make_branch(session, w.d1, "B1", "东区展厅")
    w.b2 = make_branch(session, w.d1, "B2", "西区展厅")
    w.b3 = make_branch(session, w.d2, "B3", "南区展厅")
    w.sales1 = make_user(session, "sales1", ["sales"], branch=w.b1)
    w.sales2 = make_user(session, "sales2", ["sales"], branch=w.b1)
    w.sales3 = make_user(session, "sales3", ["sales"], branch=w.b2)
    w.sales4 = make_user(session, "sales4", ["sales"], branch=w.b3)
    w.supervisor = make_user(session, "supervisor1", ["supervisor"], branch=w.b1)
    w.manager = make_user(session, "manager1", ["dept_manager"], department=w.d1,
                          clearance=Level.CONFIDENTIAL.value)
    w.manager2 = make_user(session, "manager2", ["dept_manager"], department=w.d2,
                           clearance=Level.CONFIDENTIAL.value)
    w.gm = make_user(session, "gm", ["general_manager"], department=w.d1,
                     clearance=Level.TOP_SECRET.value)
    w.finance = make_user(session, "finance1", ["finance"], department=w.d1)
    w.service = make_user(session, "service1", ["service"], department=w.d1)
    w.reception = make_user(session, "reception1", ["reception"], branch=w.b1)
    w.auditor = make_user(session, "auditor1", ["auditor"], department=w.d1,
                          clearance=Level.TOP_SECRET.value)
    w.sysadmin = make_user(session, "sysadmin1", ["sysadmin"])
    w.secadmin = make_user(session, "secadmin1", ["secadmin"])
    w.secauditor = make_user(session, "secauditor1", ["secauditor"])
    w.customers = {}
    for u in (w.sales1, w.sales2, w.sales3, w.sales4):
        w.customers[u.username] = [make_customer(session, u), make_customer(session, u)]
    session.commit()
    w.roles = {
        "sales": w.sales1, "supervisor": w.supervisor, "dept_manager": w.manager,
        "general_manager": w.gm, "finance": w.finance, "service": w.service,
        "reception": w.reception, "auditor": w.auditor, "sysadmin": w.sysadmin,
        "secadmin": w.secadmin, "secauditor": w.secauditor,
    }
    return w
