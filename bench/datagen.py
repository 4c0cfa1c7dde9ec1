"""Benchmark data on the real schema (Alembic migrations first), generated in the database.

PostgreSQL: ``INSERT … SELECT FROM generate_series`` (one statement per table); SQLite: the same
statements over a recursive CTE. Organisation rows get explicit ids so the bulk statements can
compute owners, branches and departments arithmetically:

- ``n_branches`` branches (50 from 100k customers up), 10 per department, customer ``i`` in branch
  ``i % n_branches`` — a supervisor sees ~2% of the rows;
- ``per_branch`` salespeople per branch (20 from 100k up): 1000 salespeople, ~0.1% each;
- per customer: 3 complaints, 1 credit evaluation + 1 credit line, 5 reception records, and a
  confidential file for every 5th customer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from models.enums import Role

BENCH_PASSWORD = "Bench-password-1"

COMPLAINTS_PER_CUSTOMER = 3
RECEPTIONS_PER_CUSTOMER = 5
FILE_EVERY = 5


@dataclass
class Layout:
    """Where everyone is; ids are explicit and contiguous."""

    customers: int
    n_departments: int
    n_branches: int
    per_branch: int
    users: dict[str, int] = field(default_factory=dict)  # username → id
    sales_base: int = 0  # id of the first salesperson; branch b's are contiguous
    reception_base: int = 0
    supervisor_base: int = 0

    @classmethod
    def for_size(cls, n: int) -> Layout:
        n_branches = max(2, min(50, n // 2000))
        n_departments = max(1, n_branches // 10)
        per_branch = max(1, min(20, n // (n_branches * 100)))
        return cls(customers=n, n_departments=n_departments, n_branches=n_branches,
                   per_branch=per_branch)

    @property
    def n_sales(self) -> int:
        return self.n_branches * self.per_branch

    def branch_of(self, i: int) -> int:
        return 1 + i % self.n_branches

    def owner_of(self, i: int) -> int:
        b = i % self.n_branches
        return self.sales_base + b * self.per_branch + (i // self.n_branches) % self.per_branch

    # benchmark identities: the salesperson and supervisor of branch 1, and the general manager
    @property
    def sales_user(self) -> str:
        return "sales_1_1"

    @property
    def supervisor_user(self) -> str:
        return "supervisor_1"

    @property
    def gm_user(self) -> str:
        return "gm"


class Dialect:
    def __init__(self, name: str) -> None:
        self.pg = name == "postgresql"

    def pad(self, expr: str, width: int) -> str:
        if self.pg:
            return f"lpad(({expr})::text, {width}, '0')"
        return f"printf('%0{width}d', {expr})"

    def ago_days(self, days_expr: str, hours_expr: str = "0") -> str:
        if self.pg:
            return (f"(now() - ({days_expr}) * interval '1 day' "
                    f"- ({hours_expr}) * interval '1 hour')")
        return f"datetime('now', '-' || ({days_expr}) || ' days', '-' || ({hours_expr}) || ' hours')"

    def later_days(self, ts_expr: str, days_expr: str) -> str:
        if self.pg:
            return f"(({ts_expr}) + ({days_expr}) * interval '1 day')"
        return f"datetime({ts_expr}, '+' || ({days_expr}) || ' days')"

    def later_minutes(self, ts_expr: str, minutes_expr: str) -> str:
        if self.pg:
            return f"(({ts_expr}) + ({minutes_expr}) * interval '1 minute')"
        return f"datetime({ts_expr}, '+' || ({minutes_expr}) || ' minutes')"

    def today_plus(self, days_expr: str) -> str:
        if self.pg:
            return f"(current_date + ({days_expr})::int)"
        return f"date('now', '+' || ({days_expr}) || ' days')"

    def boolean(self, cond: str) -> str:
        return f"({cond})" if self.pg else f"(CASE WHEN {cond} THEN 1 ELSE 0 END)"

    def false(self) -> str:
        return "false" if self.pg else "0"

    def hexhash(self, expr: str) -> str:
        if self.pg:
            return f"md5(({expr})::text) || md5(({expr})::text || 'x')"
        return f"printf('%064x', {expr})"

    def series(self, n: int) -> tuple[str, str]:
        """(prefix, from-clause) producing rows ``s.i`` = 1..n."""
        if self.pg:
            return "", f"generate_series(1, {n}) AS s(i)"
        return (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) ",
                "s")


def pick(expr: str, values: list[str]) -> str:
    """A CASE choosing one of ``values`` by ``expr % len(values)``."""
    whens = " ".join(f"WHEN {k} THEN '{v}'" for k, v in enumerate(values))
    return f"(CASE ({expr}) % {len(values)} {whens} END)"


def _insert_org(conn, layout: Layout, pw_hash: str, d: Dialect) -> None:
    now = "now()" if d.pg else "datetime('now')"
    for dep in range(1, layout.n_departments + 1):
        conn.execute(text(f"INSERT INTO departments (id, code, name, version, created_at, "
                          f"updated_at) VALUES ({dep}, 'D{dep}', '事业部{dep}', 1, {now}, {now})"))
    for b in range(1, layout.n_branches + 1):
        dep = 1 + (b - 1) % layout.n_departments
        conn.execute(text(f"INSERT INTO branches (id, code, name, department_id, version, "
                          f"created_at, updated_at) VALUES ({b}, 'B{b}', '展厅{b}', {dep}, 1, "
                          f"{now}, {now})"))
    uid = 0
    rows: list[dict] = []

    def add(username: str, role: str, branch: int | None, dept: int | None,
            clearance: int = 1) -> int:
        nonlocal uid
        uid += 1
        layout.users[username] = uid
        rows.append(dict(id=uid, username=username, full_name=username.replace("_", " ").title(),
                         branch_id=branch, department_id=dept, clearance=clearance, role=role))
        return uid

    def dep_of_branch(b: int) -> int:
        return 1 + (b - 1) % layout.n_departments

    layout.sales_base = uid + 1
    for b in range(1, layout.n_branches + 1):
        for k in range(1, layout.per_branch + 1):
            add(f"sales_{b}_{k}", Role.SALES.value, b, dep_of_branch(b))
    layout.supervisor_base = uid + 1
    for b in range(1, layout.n_branches + 1):
        add(f"supervisor_{b}", Role.SUPERVISOR.value, b, dep_of_branch(b))
    layout.reception_base = uid + 1
    for b in range(1, layout.n_branches + 1):
        add(f"reception_{b}", Role.RECEPTION.value, b, dep_of_branch(b))
    for dep in range(1, layout.n_departments + 1):
        add(f"manager_{dep}", Role.DEPT_MANAGER.value, None, dep, 3)
    add("gm", Role.GENERAL_MANAGER.value, None, 1, 4)
    add("finance", Role.FINANCE.value, None, 1)
    add("service", Role.SERVICE.value, None, 1)
    add("auditor", Role.AUDITOR.value, None, 1, 4)
    add("sysadmin", Role.SYSADMIN.value, None, None)
    add("secadmin", Role.SECADMIN.value, None, None)
    add("secauditor", Role.SECAUDITOR.value, None, None)
    conn.execute(text(
        "INSERT INTO users (id, username, full_name, password_hash, branch_id, department_id, "
        "clearance, is_active, on_leave, session_version, failed_logins, language, version, "
        f"created_at, updated_at) VALUES (:id, :username, :full_name, :pw, :branch_id, "
        f":department_id, :clearance, {'true' if d.pg else '1'}, {d.false()}, 1, 0, 'zh_Hans_CN', "
        f"1, {now}, {now})"), [dict(r, pw=pw_hash) for r in rows])
    conn.execute(text(f"INSERT INTO role_assignments (user_id, role, granted_at) "
                      f"VALUES (:id, :role, {now})"), rows)


def _bulk(conn, layout: Layout, d: Dialect) -> dict[str, float]:
    n = layout.customers
    nb, pb, nd = layout.n_branches, layout.per_branch, layout.n_departments
    timings: dict[str, float] = {}
    pre, src = d.series(n)
    branch = f"(1 + s.i % {nb})"
    dept = f"(1 + (s.i % {nb}) % {nd})"
    owner = f"({layout.sales_base} + (s.i % {nb}) * {pb} + (s.i / {nb}) % {pb})"
    registered = d.ago_days("s.i % 1500", "s.i % 24")
    statuses = ["active", "active", "prospect", "prospect", "dormant", "active", "prospect",
                "active", "active", "closed"]
    stmts: list[tuple[str, str]] = [("customers", f"""
        {pre}INSERT INTO customers (id, code, name, name_normalized, kind, phone,
            phone_normalized, credit_code, credit_code_normalized, address, source, importance,
            intent, status, owner_id, branch_id, department_id, registered_at,
            first_contact_at, ownership_expires_at, deal_at, last_service_at,
            outstanding_balance, notes, version, created_at, updated_at)
        SELECT s.i, 'C' || {d.pad('s.i', 9)}, '客户' || s.i || '有限公司', '客户' || s.i,
            {pick('s.i', ['end', 'end', 'end', 'dealer', 'supplier'])},
            '13' || {d.pad('s.i', 9)}, '13' || {d.pad('s.i', 9)},
            CASE WHEN s.i % 3 = 0 THEN '91' || {d.pad('s.i', 16)} END,
            CASE WHEN s.i % 3 = 0 THEN '91' || {d.pad('s.i', 16)} END,
            '上海市浦东新区' || (s.i % 999) || '号',
            {pick('s.i', ['walk_in', 'call', 'referral', 'event', 'campaign', 'other'])},
            {pick('s.i / 7', ['A', 'B', 'C', 'C', 'D'])},
            {pick('s.i / 3', ['hot', 'warm', 'warm', 'cold'])},
            {pick('s.i / 11', statuses)},
            {owner}, {branch}, {dept}, {registered}, {registered},
            CASE WHEN s.i % 4 = 0 THEN NULL ELSE {d.later_days(registered, '400')} END,
            CASE WHEN s.i % 4 = 0 THEN {d.later_days(registered, '30')} END,
            {d.ago_days('s.i % 90')},
            (s.i % 500) * 100, NULL, 1, {registered}, {registered}
        FROM {src}""")]
    ks = " UNION ALL ".join(f"SELECT {k} AS k" for k in range(1, 6))
    comp_reg = d.ago_days("(c.id + k.k * 37) % 700", "k.k")
    stmts.append(("complaints", f"""
        INSERT INTO complaints (number, customer_id, channel, type, cause, severity,
            description, received_by_id, responsible_department_id, handler_id, status,
            registered_at, deadline_at, extended, compensation_amount, satisfaction,
            closed_at, version, created_at, updated_at)
        SELECT 'K' || {d.pad(f'c.id * {COMPLAINTS_PER_CUSTOMER} + k.k', 12)}, c.id,
            {pick('c.id + k.k', ['phone', 'visit', 'letter', 'hotline', 'online', 'head_office'])},
            {pick('c.id * 7 + k.k', ['complaint', 'complaint', 'inquiry', 'suggestion'])},
            {pick('c.id + k.k * 5', ['quality', 'service', 'attitude', 'delivery', 'billing', 'other'])},
            CASE WHEN (c.id + k.k) % 20 = 0 THEN 'major' ELSE 'general' END,
            '投诉内容：客户反映产品问题，编号' || c.id || '-' || k.k,
            c.owner_id, c.department_id, c.owner_id,
            {pick('c.id + k.k * 3', ['registered', 'assigned', 'investigating', 'proposed', 'approved', 'replied', 'closed', 'closed', 'closed', 'rejected'])},
            {comp_reg}, {d.later_days(comp_reg, '7')}, {d.false()}, 0, NULL, NULL,
            1, {comp_reg}, {comp_reg}
        FROM customers c CROSS JOIN ({ks}) k WHERE k.k <= {COMPLAINTS_PER_CUSTOMER}"""))
    stmts.append(("credit_evaluations", f"""
        INSERT INTO credit_evaluations (id, customer_id, years_of_cooperation, bad_debt_2y,
            promise_keeping, debt_disputes, capital_strength, operating_condition,
            serious_decline, illegal_operation, ordered_to_stop, accounts_frozen_risk,
            avg_monthly_shipments, avg_monthly_receipts, receipts_meet_standard,
            collateral_value, rating, rating_reason, evaluated_by_id, evaluated_at, version,
            created_at, updated_at)
        SELECT c.id, c.id, c.id % 10, {d.false()}, {pick('c.id', ['good', 'fair', 'poor'])},
            {d.false()}, {pick('c.id / 3', ['strong', 'medium', 'weak'])},
            {pick('c.id / 9', ['good', 'fair', 'poor'])}, {d.false()}, {d.false()},
            {d.false()}, {d.false()}, (c.id % 100) * 1000, (c.id % 90) * 1000,
            {d.boolean('c.id % 2 = 0')}, 0, {pick('c.id', ['A', 'B', 'C'])}, '评定依据',
            c.owner_id, c.registered_at, 1, c.registered_at, c.registered_at
        FROM customers c"""))
    stmts.append(("credit_lines", f"""
        INSERT INTO credit_lines (id, customer_id, evaluation_id, kind, limit_amount, term_days,
            collateral_value, status, is_raise, proposed_by_id, proposed_at, approved_by_id,
            approved_at, valid_from, valid_until, version, created_at, updated_at)
        SELECT c.id, c.id, c.id, {pick('c.id', ['long_term', 'long_term', 'temporary'])},
            (1 + c.id % 50) * 10000, 30 + (c.id % 3) * 30, 0,
            {pick('c.id', ['approved', 'approved', 'approved', 'proposed', 'reviewed', 'rejected'])},
            {d.false()}, c.owner_id, c.registered_at, NULL, NULL,
            {d.today_plus('-(c.id % 300)')}, {d.today_plus('365 - (c.id % 300)')},
            1, c.registered_at, c.registered_at
        FROM customers c"""))
    arrived = d.ago_days("(c.id * 3 + k.k * 11) % 800", "k.k * 2")
    stmts.append(("reception_records", f"""
        INSERT INTO reception_records (kind, visitor_class, venue, visitor_name,
            visitor_company, visitor_phone, purpose, arrived_at, departed_at, branch_id,
            department_id, received_by_id, assigned_to_id, customer_id, is_returning,
            used_rotation_turn, outcome, version, created_at, updated_at)
        SELECT {pick('c.id + k.k', ['visit', 'visit', 'call'])},
            {pick('c.id + k.k', ['a', 'b', 'c', 'c'])},
            {pick('c.id + k.k * 3', ['vip_room', 'business_room', 'lounge', 'phone'])},
            '访客' || c.id || '-' || k.k, c.name, c.phone, '洽谈', {arrived},
            {d.later_minutes(arrived, '30 + k.k')}, c.branch_id, c.department_id,
            {layout.reception_base} + c.branch_id - 1, c.owner_id, c.id,
            {d.boolean('k.k > 1')}, {d.boolean('k.k = 1')},
            {pick('c.id + k.k', ['pending', 'follow_up', 'deal', 'no_interest', 'other'])},
            1, {arrived}, {arrived}
        FROM customers c CROSS JOIN ({ks}) k WHERE k.k <= {RECEPTIONS_PER_CUSTOMER}"""))
    stmts.append(("confidential_files", f"""
        INSERT INTO confidential_files (title, customer_id, department_id,
            responsible_manager_id, level, original_name, content_type, size_bytes, sha256,
            uploaded_by_id, uploaded_at, secrecy_until, version, created_at, updated_at)
        SELECT '合同' || c.id, c.id, c.department_id, NULL, c.id / {FILE_EVERY} % 4,
            'contract-' || c.id || '.pdf', 'application/pdf', 10000 + c.id % 5000,
            {d.hexhash('c.id')}, c.owner_id, c.registered_at,
            CASE WHEN c.id % 2 = 0 THEN {d.today_plus('365')} END, 1, c.registered_at,
            c.registered_at
        FROM customers c WHERE c.id % {FILE_EVERY} = 0"""))
    for table, sql in stmts:
        t0 = time.perf_counter()
        conn.execute(text(sql))
        timings[table] = time.perf_counter() - t0
    return timings


def generate(engine: Engine, n: int, pw_hash: str) -> tuple[Layout, dict[str, float]]:
    """Fill a freshly migrated, empty database. Returns the layout and seconds per table."""
    layout = Layout.for_size(n)
    d = Dialect(engine.dialect.name)
    t0 = time.perf_counter()
    with engine.begin() as conn:
        if d.pg:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
        _insert_org(conn, layout, pw_hash, d)
        timings = _bulk(conn, layout, d)
        if d.pg:
            for table in ("departments", "branches", "users", "customers",
                          "credit_evaluations", "credit_lines"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
    t1 = time.perf_counter()
    if d.pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    timings["vacuum_analyze"] = time.perf_counter() - t1
    timings["total"] = time.perf_counter() - t0
    return layout, timings


def layout_from_db(engine: Engine) -> Layout:
    """Rebuild the layout of an already generated database (``--reuse``)."""
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM customers")).scalar_one()
        users = dict(conn.execute(text("SELECT username, id FROM users")).all())
    layout = Layout.for_size(n)
    layout.users = users
    layout.sales_base = users["sales_1_1"]
    layout.supervisor_base = users["supervisor_1"]
    layout.reception_base = users["reception_1"]
    return layout
