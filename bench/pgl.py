"""PostGraphile 4.14.1 for the HTTP comparison: install (npm), JWT per benchmark user, and its row
rules as PostgreSQL row-level security policies compiled FROM the policy.

The RLS condition of each table is ``portal.policy.scope(select(Model), user, Model,
per_row=True)`` for the benchmark user, compiled to SQL: the very condition our GraphQL reads
apply (the supervisor's customers are those of the branch *or owned by the supervisor*; credit
lines and complaints through their customer, as a correlated EXISTS, as our relationship loads
do), not a hand-written copy of it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from bench.appdb import work_dir
from bench.floor import Who

PGL_VERSION = "4.14.1"
JWT_SECRET = "bench-jwt-secret-not-for-production"
RLS_TABLES = ("customers", "users", "credit_lines", "complaints")


def pgl_dir() -> Path:
    return work_dir() / "pg"


def ensure_postgraphile() -> Path | None:
    for cli in (pgl_dir() / "node_modules" / "postgraphile" / "cli.js",
                pgl_dir() / "node_modules" / ".bin" / "postgraphile"):
        if cli.exists():
            return cli
    if not shutil.which("npm"):
        return None
    pgl_dir().mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", f"postgraphile@{PGL_VERSION}", "--prefix", str(pgl_dir()),
                    "--no-audit", "--no-fund"], capture_output=True, timeout=600)
    cli = pgl_dir() / "node_modules" / ".bin" / "postgraphile"
    return cli if cli.exists() else None


def role_name(who: Who) -> str:
    return f"bench_{who.label}_{who.user_id}"


def policy_conditions(app: Any, who: Who) -> dict[str, str]:
    """table → the SQL condition of the policy's view rule for ``who`` (compiled, literal)."""
    from models import Complaint, CreditLine, Customer, User
    from portal import policy
    from portal.extensions import db

    out: dict[str, str] = {}
    with app.app_context():
        user = db.session.get(User, who.user_id)
        for table, model in (("customers", Customer), ("users", User),
                             ("credit_lines", CreditLine), ("complaints", Complaint)):
            stmt = policy.scope(select(model.id), user, model, per_row=True)
            # compiled as the whole statement, so that the EXISTS correlates with the table
            # (compiled alone, it would select from a second copy of it); its WHERE is the
            # first one (the SELECT list holds no subquery)
            sql = str(stmt.compile(dialect=postgresql.dialect(),
                                   compile_kwargs={"literal_binds": True}))
            head, sep, cond = sql.partition("\nWHERE ")
            if f"FROM {table}" not in head:
                raise RuntimeError(f"unexpected policy SQL for {table}: {sql[:200]}")
            out[table] = cond.strip() if sep else "true"  # no WHERE: every row
        db.session.remove()
    return out


def install_rls(url: str, who: dict[str, Who], app: Any) -> dict[str, dict[str, str]]:
    """One role per benchmark user, one SELECT policy per table: the policy's own condition.
    Returns the conditions installed (label → table → SQL), for the report."""
    conds = {label: policy_conditions(app, w) for label, w in who.items()}
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        for w in who.values():
            r = role_name(w)
            if _role_exists(conn, r):
                conn.execute(text(f"DROP OWNED BY {r}"))
            else:
                conn.execute(text(f"CREATE ROLE {r} NOLOGIN"))
            conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {r}"))
            for t in RLS_TABLES:
                conn.execute(text(f"GRANT SELECT ON {t} TO {r}"))
        for t in RLS_TABLES:
            conn.execute(text(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"))
        for label, w in who.items():
            r = role_name(w)
            for t, cond in conds[label].items():
                conn.execute(text(f"DROP POLICY IF EXISTS {r}_{t} ON {t}"))
                conn.execute(text(f"CREATE POLICY {r}_{t} ON {t} FOR SELECT TO {r} "
                                  f"USING ({cond})"))
    eng.dispose()
    return conds


def remove_rls(url: str) -> None:
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        for t in RLS_TABLES:
            conn.execute(text(f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY"))
    eng.dispose()


def _role_exists(conn: Any, name: str) -> bool:
    return conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first() \
        is not None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_for(who: Who) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64(json.dumps({"role": role_name(who), "user_id": who.user_id,
                               "aud": "postgraphile",
                               "exp": int(time.time()) + 86400}).encode())
    sig = hmac.new(JWT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(sig)}"


def g2_query(page: int = 100) -> str:
    """G2 in PostGraphile's schema: the same customers, owner, credit lines and complaints."""
    return (f"query {{ allCustomers(first: {page}, orderBy: PRIMARY_KEY_ASC) {{ nodes {{ id code "
            "name status userByOwnerId { id fullName username } creditLinesByCustomerId(orderBy: "
            "PRIMARY_KEY_ASC) { nodes { id limitAmount status } } complaintsByCustomerId("
            "orderBy: PRIMARY_KEY_ASC) { nodes { id number status } } } } }")


PGL_G2 = g2_query(100)


def plain_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def command(cli: Path, url: str, port: int | str, default_role: str, workers: int) -> list[str]:
    return ["node", str(cli), "-c", plain_url(url), "--schema", "public",
            "--host", "127.0.0.1", "--port", str(port), "--jwt-secret", JWT_SECRET,
            "--default-role", default_role, "--disable-query-log",
            *(["--cluster-workers", str(workers)] if workers > 1 else []),
            "--disable-graphiql"]
