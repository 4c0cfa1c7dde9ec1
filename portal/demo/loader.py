"""Demo data: ``load`` and the builder that runs the areas in order."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from models import Branch, Department, RoleAssignment, User
from models.enums import Role
from portal import audit, clock
from portal.demo.company import (
    BRANCHES,
    COMPANY_NAME,
    DEMO_DEPARTMENT_CODE,
    DEMO_PASSWORD,
    DEMO_TOTP_SECRET,
    DEPARTMENTS,
    SEED,
    STAFF,
)
from portal.demo.complaints import ComplaintsMixin
from portal.demo.credit import CreditMixin
from portal.demo.customers import CustomersMixin
from portal.demo.helpers import _Cust, _Pools
from portal.demo.receivables import ReceivablesMixin
from portal.demo.reception import ReceptionMixin
from portal.passwords import hash_password
from portal.services import calendar


def load(session: Session) -> str:
    """Load the demo company unless it is already there; returns a one-line summary."""
    if session.scalar(select(Department.id).where(Department.code == DEMO_DEPARTMENT_CODE)):
        return "demo data already loaded"
    taken = session.scalars(select(User.username).where(
        User.username.in_([s.username for s in STAFF]))).all()
    if taken:
        return ("demo data not loaded: these usernames already exist: "
                + ", ".join(sorted(taken)))
    builder = _Builder(session)
    with session.no_autoflush:
        counts = builder.build()
    audit.record(session, None, "demo.load", None, actor_name="demo",
                 detail=", ".join(f"{k}={v}" for k, v in counts.items()))
    session.commit()
    from portal.services import files as _files  # classified demo files (files area)

    counts["classified files"] = _files.load_demo_files(session)
    from portal.services.customers import corrections  # R-CUST-8: a waiting correction

    counts["correction requests"] = corrections.load_demo_request(session)
    from portal.services.customers import lapse  # R-CUST-5: a hand-over to another department

    counts["lapsed archives handed to another department"] = lapse.load_demo_handover(session)
    from portal.services import archive_loans  # R-CUST-9: a loan in force and a refusal

    counts["archive loans"] = archive_loans.load_demo_loans(session)
    from portal.services.joint_events import demo as joint_demo  # R-CUST-10: a conflict

    counts["joint events"] = joint_demo.load_demo_event(session)
    return ("demo data loaded: " + COMPANY_NAME + " — "
            + ", ".join(f"{v} {k}" for k, v in counts.items()))


class _Builder(CustomersMixin, ReceptionMixin, ComplaintsMixin, CreditMixin,
               ReceivablesMixin):
    """Builds the demo company area by area (one mixin per area, in the order of ``build``)."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.rng = random.Random(SEED)
        self.pools = _Pools(self.rng)
        self.now = clock.now().astimezone(UTC)
        self.today = clock.today()
        self.counts: dict[str, int] = {}
        self.users: dict[str, User] = {}
        self.branches: dict[str, Branch] = {}
        self.departments: dict[str, Department] = {}
        self.customers: list[_Cust] = []
        self.later: dict[type, list[dict]] = defaultdict(list)

    # -- time ------------------------------------------------------------------------------

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), clock.COMPANY_TZ).astimezone(UTC)

    def work_time(self, days_ago: float) -> datetime:
        """A moment during opening hours (09:00–18:00 China time) ``days_ago`` days ago,
        never in the future."""
        day = self.today - timedelta(days=int(days_ago))
        t = self.at(day, self.rng.randint(9, 17), self.rng.randrange(0, 60, 5))
        if t > self.now:
            t = self.now - timedelta(minutes=self.rng.randint(20, 120))
        return t

    def deadline(self, registered: datetime, working_days: int) -> datetime:
        """End of the N-th working day after the registration day (R-COMP-2)."""
        day = calendar.add_working_days(self.s, calendar.company_date(registered), working_days)
        return calendar.end_of_company_day(day).astimezone(UTC)

    def uid(self, username: str) -> int:
        return self.users[username].id

    def sales_of(self, branch: str, at: datetime | None = None) -> list[str]:
        names = [s.username for s in STAFF if s.role == Role.SALES and s.branch == branch
                 and (s.active or (at is not None and at < self.left_at))]
        return names

    # -- build -----------------------------------------------------------------------------

    def build(self) -> dict[str, int]:
        self.left_at = self.work_time(20)
        self.org()
        self.make_customers()
        self.follow_ups()
        self.s.flush()
        self.customer_codes()
        # Rows nobody points at go in as plain multi-row INSERTs: the ORM would insert them
        # one by one on SQLite to read each new primary key back.
        for model, rows in self.later.items():
            for row in rows:
                row["customer_id"] = row.pop("_c").obj.id
            self.s.execute(insert(model.__table__), rows)
        self.receptions()
        self.complaints()
        self.credit()
        self.receivables()
        self.s.flush()
        return self.counts

    def org(self) -> None:
        for code, name in DEPARTMENTS:
            self.departments[code] = Department(code=code, name=name)
        for code, name, dept, _city in BRANCHES:
            self.branches[code] = Branch(code=code, name=name,
                                         department=self.departments[dept])
        pw = hash_password(DEMO_PASSWORD)  # Argon2 is slow on purpose: hash once, reuse
        rows: list[object] = [*self.departments.values(), *self.branches.values()]
        for i, spec in enumerate(STAFF):
            dept_code = spec.department or next(
                (d for c, _n, d, _x in BRANCHES if c == spec.branch), None)
            u = User(username=spec.username, full_name=spec.full_name, password_hash=pw,
                     email=f"{spec.username}@huadong-auto.example.cn",
                     phone=f"021-5888{6000 + i:04d}",
                     department=self.departments.get(dept_code) if dept_code else None,
                     branch=self.branches.get(spec.branch) if spec.branch else None,
                     clearance=spec.clearance, is_active=spec.active)
            u.role_assignments.append(RoleAssignment(role=spec.role.value))
            self.users[spec.username] = u
            rows.append(u)
        self.s.add_all(rows)
        self.s.flush()
        self.counts["users"] = len(STAFF)
        self.second_factors()

    def second_factors(self) -> None:
        """R-ROLE-6: whoever must sign in with two factors comes enrolled with the demo key
        (development only), so a newcomer can sign in at once."""
        from models.org import TwoFactor
        from portal import policy
        from portal.services import secret_box

        sealed = secret_box.seal(DEMO_TOTP_SECRET)
        enrolled = [TwoFactor(user_id=u.id, secret=sealed, enrolled_at=self.now)
                    for u in self.users.values() if policy.two_factor_required(u, None)]
        self.s.add_all(enrolled)
        self.counts["accounts with two-factor sign-in"] = len(enrolled)


def is_loaded(session: Session) -> bool:
    return bool(session.scalar(select(func.count(Department.id))
                               .where(Department.code == DEMO_DEPARTMENT_CODE)))
