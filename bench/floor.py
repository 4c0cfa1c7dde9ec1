"""The floor: the same rows as G1–G5 fetched with SQLAlchemy Core and serialised with orjson, and
each query as one raw SQL statement (json_agg on PostgreSQL).

Row rules are written by hand here (sales → own customers, supervisor → the branch's customers
and those the supervisor owns, general manager → all), i.e. what the policy's view rule of
customers boils down to for these users (``portal.policy_rows._customer_filter``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, and_, or_, select, text, true

from models import (
    Complaint,
    ConfidentialFile,
    CreditEvaluation,
    CreditLine,
    Customer,
    ReceptionRecord,
    User,
)

C = Customer.__table__
U = User.__table__
L = CreditLine.__table__
K = Complaint.__table__
E = CreditEvaluation.__table__
R = ReceptionRecord.__table__
F = ConfidentialFile.__table__


@dataclass(frozen=True)
class Who:
    """A benchmark identity and the row rule it stands for."""

    label: str  # "sales", "supervisor", "gm"
    username: str
    user_id: int
    branch_id: int | None

    def customer_rule(self):
        if self.label == "sales":
            return C.c.owner_id == self.user_id
        if self.label == "supervisor":
            return or_(C.c.owner_id == self.user_id, C.c.branch_id == self.branch_id)
        return true()

    def customer_rule_sql(self, alias: str = "c") -> str:
        if self.label == "sales":
            return f"{alias}.owner_id = {self.user_id}"
        if self.label == "supervisor":
            return f"({alias}.owner_id = {self.user_id} OR {alias}.branch_id = {self.branch_id})"
        return "true"


def _dump(rows: Any) -> bytes:
    return orjson.dumps(rows, default=str)


def _rows(conn: Connection, stmt) -> list[dict]:
    return [dict(r) for r in conn.execute(stmt).mappings()]


# G1: list page, a few scalars, filtered by branch --------------------------------------------

def g1_core(conn: Connection, who: Who, branch_id: int, n: int = 50) -> bytes:
    stmt = (select(C.c.id, C.c.code, C.c.name, C.c.status, C.c.registered_at)
            .where(and_(who.customer_rule(), C.c.branch_id == branch_id))
            .order_by(C.c.id).limit(n))
    return _dump(_rows(conn, stmt))


# G2: nested page: customers with owner, credit lines and complaints ----------------------------

def g2_core(conn: Connection, who: Who, n: int = 100) -> bytes:
    stmt = (select(C.c.id, C.c.code, C.c.name, C.c.status, U.c.id.label("owner_id"),
                   U.c.full_name.label("owner_name"))
            .select_from(C.outerjoin(U, U.c.id == C.c.owner_id))
            .where(who.customer_rule()).order_by(C.c.id).limit(n))
    customers = []
    by_id: dict[int, dict] = {}
    for r in conn.execute(stmt):
        node = {"id": r.id, "code": r.code, "name": r.name, "status": r.status,
                "owner": {"id": r.owner_id, "fullName": r.owner_name}
                if r.owner_id is not None else None,
                "creditLines": [], "complaints": []}
        by_id[r.id] = node
        customers.append(node)
    if by_id:
        ids = list(by_id)
        for r in conn.execute(select(L.c.id, L.c.customer_id, L.c.limit_amount, L.c.status)
                              .where(L.c.customer_id.in_(ids)).order_by(L.c.id)):
            by_id[r.customer_id]["creditLines"].append(
                {"id": r.id, "limitAmount": str(r.limit_amount), "status": r.status})
        for r in conn.execute(select(K.c.id, K.c.customer_id, K.c.number, K.c.status)
                              .where(K.c.customer_id.in_(ids)).order_by(K.c.id)):
            by_id[r.customer_id]["complaints"].append(
                {"id": r.id, "number": r.number, "status": r.status})
    return _dump(customers)


def g2_raw_sql(who: Who, n: int = 100) -> str:
    """One statement (PostgreSQL json_agg) returning the whole G2 page as JSON."""
    return f"""
SELECT coalesce(json_agg(x), '[]'::json) FROM (
  SELECT c.id, c.code, c.name, c.status,
    CASE WHEN u.id IS NULL THEN NULL ELSE json_build_object('id', u.id, 'fullName', u.full_name)
    END AS owner,
    (SELECT coalesce(json_agg(json_build_object('id', l.id, 'limitAmount', l.limit_amount,
        'status', l.status) ORDER BY l.id), '[]'::json) FROM credit_lines l
      WHERE l.customer_id = c.id) AS "creditLines",
    (SELECT coalesce(json_agg(json_build_object('id', k.id, 'number', k.number,
        'status', k.status) ORDER BY k.id), '[]'::json) FROM complaints k
      WHERE k.customer_id = c.id) AS complaints
  FROM customers c LEFT JOIN users u ON u.id = c.owner_id
  WHERE {who.customer_rule_sql()} ORDER BY c.id LIMIT {n}) x"""


def raw_json(conn: Connection, sql: str) -> bytes:
    value = conn.execute(text(sql)).scalar_one()
    return value if isinstance(value, bytes) else orjson.dumps(value)


# G3: detail of one customer with everything hanging off it -------------------------------------

def g3_core(conn: Connection, who: Who, customer_id: int) -> bytes:
    row = conn.execute(select(C).where(and_(who.customer_rule(), C.c.id == customer_id))
                       ).mappings().first()
    if row is None:
        return _dump(None)
    out = dict(row)
    out["owner"] = dict(conn.execute(select(U.c.id, U.c.full_name)
                                     .where(U.c.id == row["owner_id"])).mappings().one())
    out["complaints"] = _rows(conn, select(K).where(K.c.customer_id == customer_id)
                              .order_by(K.c.id))
    out["creditEvaluations"] = _rows(conn, select(E).where(E.c.customer_id == customer_id))
    out["creditLines"] = _rows(conn, select(L).where(L.c.customer_id == customer_id))
    out["receptions"] = _rows(conn, select(R).where(R.c.customer_id == customer_id))
    out["files"] = _rows(conn, select(F.c.id, F.c.title, F.c.level)
                         .where(F.c.customer_id == customer_id))
    return _dump(out)


# G4: bulk scalars ------------------------------------------------------------------------------

def g4_core(conn: Connection, who: Who, n: int) -> bytes:
    stmt = (select(C.c.id, C.c.code, C.c.name, C.c.status, C.c.registered_at)
            .where(who.customer_rule()).order_by(C.c.id).limit(n))
    return _dump(_rows(conn, stmt))


# G5: search by name prefix or phone ------------------------------------------------------------

def g5_core(conn: Connection, who: Who, term: str, n: int = 20) -> bytes:
    cond = (C.c.name_normalized.startswith(term, autoescape=True)
            | (C.c.phone_normalized == term))
    stmt = (select(C.c.id, C.c.code, C.c.name, C.c.phone)
            .where(and_(who.customer_rule(), cond)).order_by(C.c.id).limit(n))
    return _dump(_rows(conn, stmt))


# The raw floor: each query as ONE statement building its JSON in PostgreSQL ----------------------

def _agg(inner: str) -> str:
    return f"SELECT coalesce(json_agg(x), '[]'::json) FROM ({inner}) x"


def g1_raw_sql(who: Who, branch_id: int, n: int = 50) -> str:
    return _agg(f"""SELECT c.id, c.code, c.name, c.status, c.registered_at AS "registeredAt"
  FROM customers c WHERE {who.customer_rule_sql()} AND c.branch_id = {int(branch_id)}
  ORDER BY c.id LIMIT {int(n)}""")


def g3_raw_sql(who: Who, customer_id: int) -> str:
    def rows(table: str, alias: str, cols: str = "*") -> str:
        sel = f"row_to_json({alias})" if cols == "*" else f"json_build_object({cols})"
        return (f"(SELECT coalesce(json_agg({sel} ORDER BY {alias}.id), '[]'::json) "
                f"FROM {table} {alias} WHERE {alias}.customer_id = c.id)")
    return f"""SELECT json_build_object('customer', row_to_json(c),
    'owner', (SELECT json_build_object('id', u.id, 'fullName', u.full_name) FROM users u
              WHERE u.id = c.owner_id),
    'complaints', {rows("complaints", "k")},
    'creditEvaluations', {rows("credit_evaluations", "e")},
    'creditLines', {rows("credit_lines", "l")},
    'receptions', {rows("reception_records", "r")},
    'files', {rows("confidential_files", "f", "'id', f.id, 'title', f.title, 'level', f.level")})
  FROM customers c WHERE {who.customer_rule_sql()} AND c.id = {int(customer_id)}"""


def g4_raw_sql(who: Who, n: int) -> str:
    return _agg(f"""SELECT c.id, c.code, c.name, c.status, c.registered_at AS "registeredAt"
  FROM customers c WHERE {who.customer_rule_sql()} ORDER BY c.id LIMIT {int(n)}""")


def g5_raw_sql(who: Who, term: str, n: int = 20) -> str:
    lit = term.replace("'", "''")
    like = lit.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return _agg(f"""SELECT c.id, c.code, c.name, c.phone FROM customers c
  WHERE {who.customer_rule_sql()} AND (c.name_normalized LIKE '{like}%'
        OR c.phone_normalized = '{lit}')
  ORDER BY c.id LIMIT {int(n)}""")
