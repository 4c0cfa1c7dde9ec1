"""The in-process measures: statements per request, GraphQL ÷ Core + orjson, admin pages, and the
export's peak RSS (in a subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import text

from bench import floor
from bench.adminprobe import find_customer_view, sign_in
from bench.datagen import BENCH_PASSWORD, Layout
from bench.floor import Who
from bench.gql import Plan
from bench.measure import StatementCounter, interleaved, median, per_call

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZES = (10, 100, 1000)
ROLES = ("sales", "supervisor", "gm")


@dataclass
class Env:
    url: str
    size: int
    layout: Layout
    app: Flask
    plan: Plan
    runs: int
    min_time: float
    who: dict[str, Who] = field(default_factory=dict)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    auth_note: str = ""

    @property
    def pg(self) -> bool:
        return self.url.startswith("postgresql")


def identities(layout: Layout) -> dict[str, Who]:
    return {
        "sales": Who("sales", layout.sales_user, layout.users[layout.sales_user], 1),
        "supervisor": Who("supervisor", layout.supervisor_user,
                          layout.users[layout.supervisor_user], 1),
        "gm": Who("gm", layout.gm_user, layout.users[layout.gm_user], None),
    }


def authenticate(env: Env) -> None:
    """A personal API token per identity (the tokens service), else the session cookie."""
    from portal.extensions import db

    env.who = identities(env.layout)
    try:
        from models import User
        from portal.services import tokens, two_factor

        with env.app.app_context():
            for label, who in env.who.items():
                user = db.session.get(User, who.user_id)
                if two_factor.required(db.session, user) and \
                        not two_factor.enrolled(db.session, user):
                    # R-ROLE-6: the general manager sets up the second factor first …
                    secret = two_factor.begin_enrolment(db.session, user)
                    two_factor.confirm_enrolment(db.session, user, two_factor.code_at(
                        secret, two_factor.time_step()))
                # … and creates the token in a portal session signed in with both factors
                _, raw = tokens.create_token(db.session, user, "bench", 30,
                                             two_factor_session=True)
                env.headers[label] = {"Authorization": f"Bearer {raw}"}
            db.session.remove()
        env.auth_note = "Bearer API token (portal.services.tokens)"
        return
    except Exception as exc:
        env.auth_note = f"session cookie (tokens unavailable: {exc.__class__.__name__})"
    for label, who in env.who.items():
        c = env.app.test_client()
        resp = c.post("/login", data={"username": who.username, "password": BENCH_PASSWORD})
        cookie = c.get_cookie("session")
        if resp.status_code != 302 or cookie is None:
            raise RuntimeError(f"login of {who.username} failed ({resp.status_code})")
        env.headers[label] = {"Cookie": f"session={cookie.value}"}


def gql(env: Env, client: Any, label: str, query: str) -> bytes:
    resp = client.post("/graphql", json={"query": query}, headers=env.headers[label])
    return resp.data


def gql_checked(env: Env, client: Any, label: str, query: str) -> tuple[dict, str | None]:
    body = gql(env, client, label, query)
    try:
        data = json.loads(body)
    except ValueError:
        return {}, f"non-JSON answer: {body[:200]!r}"
    if data.get("errors"):
        return data, "; ".join(str(e.get("message")) for e in data["errors"])[:300]
    return data, None


def count_nodes(data: dict) -> int:
    conn = (data.get("data") or {}).get("customers") or {}
    if "nodes" in conn:
        return len(conn["nodes"] or [])
    return len(conn.get("edges") or [])


def branch_arg(env: Env, branch_id: int) -> str:
    from graphql_api import ids

    return ids.to_global("Branch", branch_id)


# -- statements per request -------------------------------------------------------------------

def statements(env: Env) -> dict:
    """SQL statements per GraphQL request at page sizes 10/100/1000 (G1, G2) and for G3."""
    from portal.extensions import db

    if not env.plan.ok:
        return {"skipped": env.plan.reason}
    rows = []
    client = env.app.test_client()
    with env.app.app_context():
        counter = StatementCounter(db.engine)
    queries = {
        "G1 list (branch filter)": lambda n: env.plan.list_query(
            n, branch=branch_arg(env, 1), scalars=["id", "code", "name", "status",
                                                   "registeredAt"]),
        "G2 nested (owner, credit lines, complaints)": lambda n: env.plan.list_query(
            n, scalars=["id", "code", "name", "status"], nested=True),
    }
    for qname, build in queries.items():
        for label in ROLES:
            counts, nodes, errors = [], [], []
            for n in PAGE_SIZES:
                gql(env, client, label, build(n))  # warm-up (grants cache, etc. are per request)
                with counter.counting():
                    data, err = gql_checked(env, client, label, build(n))
                counts.append(counter.count)
                nodes.append(count_nodes(data))
                if err:
                    errors.append(f"{n}: {err}")
            rows.append({"query": qname, "role": label, "counts": counts, "nodes": nodes,
                         "constant": len(set(counts)) == 1, "errors": errors})
    if env.plan.detail_field:
        from graphql_api import ids

        for label in ROLES:
            cid = _first_visible_customer(env, env.who[label])
            q = env.plan.detail_query(ids.to_global("Customer", cid))
            with counter.counting():
                data, err = gql_checked(env, client, label, q)
            rows.append({"query": "G3 detail (one customer, everything)", "role": label,
                         "counts": [counter.count], "nodes": [1], "constant": True,
                         "errors": [err] if err else []})
    return {"rows": rows}


def _first_visible_customer(env: Env, who: Who) -> int:
    from portal.extensions import db

    with env.app.app_context():
        cid = db.session.execute(text(
            f"SELECT min(id) FROM customers c WHERE {who.customer_rule_sql()}")).scalar_one()
        db.session.remove()
    return int(cid)


# -- GraphQL ÷ Core + orjson ------------------------------------------------------------------

def _cases(env: Env, bulk_sizes: tuple[int, ...]) -> list[dict]:
    """G1–G5: the GraphQL query, its Core + orjson twin and its one raw SQL statement."""
    from graphql_api import ids

    cases: list[dict] = []
    for label in ROLES:
        who = env.who[label]
        cases.append({"query": "G2 nested page (100)", "role": label,
                      "graphql": env.plan.list_query(
                          100, scalars=["id", "code", "name", "status"], nested=True),
                      "core": lambda conn, w=who: floor.g2_core(conn, w, 100),
                      "raw": floor.g2_raw_sql(who, 100)})
    gm = env.who["gm"]
    cases.append({"query": "G1 list page (50, branch)", "role": "gm",
                  "graphql": env.plan.list_query(50, branch=branch_arg(env, 1), scalars=[
                      "id", "code", "name", "status", "registeredAt"]),
                  "core": lambda conn: floor.g1_core(conn, gm, 1, 50),
                  "raw": floor.g1_raw_sql(gm, 1, 50)})
    for n in bulk_sizes:
        cases.append({"query": f"G4 bulk ({n} × 5 scalars)", "role": "gm",
                      "graphql": env.plan.list_query(n, scalars=[
                          "id", "code", "name", "status", "registeredAt"]),
                      "core": lambda conn, n=n: floor.g4_core(conn, gm, n),
                      "raw": floor.g4_raw_sql(gm, n)})
    if env.plan.detail_field:
        cid = _first_visible_customer(env, gm)
        cases.append({"query": "G3 detail", "role": "gm",
                      "graphql": env.plan.detail_query(ids.to_global("Customer", cid)),
                      "core": lambda conn, c=cid: floor.g3_core(conn, gm, c),
                      "raw": floor.g3_raw_sql(gm, cid)})
    if env.plan.can_search:
        cases.append({"query": "G5 search (name prefix)", "role": "gm",
                      "graphql": env.plan.list_query(20, scalars=["id", "code", "name", "phone"],
                                                     search="客户1234"),
                      "core": lambda conn: floor.g5_core(conn, gm, "客户1234", 20),
                      "raw": floor.g5_raw_sql(gm, "客户1234", 20)})
    return cases


def ratios(env: Env, bulk_sizes: tuple[int, ...] = (1000,)) -> dict:
    """GraphQL ÷ Core + orjson and GraphQL ÷ the raw single-statement floor (PostgreSQL), the
    three measured in turn within each run (medians of the per-run ratios)."""
    from portal.extensions import db

    if not env.plan.ok:
        return {"skipped": env.plan.reason}
    client = env.app.test_client()
    rows = []
    with env.app.app_context():
        engine = db.engine
    for case in _cases(env, bulk_sizes):
        data, err = gql_checked(env, client, case["role"], case["graphql"])
        if err:
            rows.append({"query": case["query"], "role": case["role"], "error": err})
            continue
        fns = {"graphql": lambda c=case: gql(env, client, c["role"], c["graphql"]),
               "core": lambda c=case: _on(engine, c["core"])}
        if env.pg:
            fns["raw"] = lambda c=case: _on(engine, lambda conn: floor.raw_json(conn, c["raw"]))
        r = interleaved(fns, env.runs, env.min_time)
        got = count_nodes(data) if "customers" in (data.get("data") or {}) else 1
        rows.append({"query": case["query"], "role": case["role"], "rows": got,
                     "graphql_s": r["times"]["graphql"], "core_s": r["times"]["core"],
                     "raw_s": r["times"].get("raw"), "ratio": r["ratios"]["core"],
                     "raw_ratio": r["ratios"].get("raw")})
    return {"rows": rows}


def _on(engine: Any, fn: Any) -> bytes:
    with engine.connect() as conn:
        return fn(conn)


# -- admin pages -------------------------------------------------------------------------------

def admin_pages(env: Env) -> dict:
    from portal.extensions import db

    cv = find_customer_view(env.app)
    out: dict[str, Any] = {"raw": raw_paging(env)}
    if cv is None:
        out["skipped"] = "admin_views has no customer list view yet"
        return out
    client = env.app.test_client()
    status = sign_in(env.app, client, "gm", BENCH_PASSWORD)
    if status != 302:
        out["skipped"] = f"login as gm failed ({status})"
        return out
    with env.app.app_context():
        visible = db.session.execute(text("SELECT count(*) FROM customers")).scalar_one()
        db.session.remove()
    pages = max(1, visible // cv.page_size)
    deep = max(0, int(pages * 0.9))
    rows = []
    original = getattr(cv.view, "simple_list_pager", False)
    for count_mode in ("as shipped", "no count (simple pager)", "with count"):
        if count_mode == "no count (simple pager)":
            cv.view.simple_list_pager = True
        elif count_mode == "with count":
            cv.view.simple_list_pager = False
        else:
            cv.view.simple_list_pager = original
        for page_name, page in (("page 1", 0), (f"deep page {deep + 1}", deep)):
            url = cv.list_url + (f"?page={page}" if page else "")
            status = client.get(url).status_code
            if status != 200:
                rows.append({"mode": count_mode, "page": page_name, "error": f"HTTP {status}"})
                continue
            ts = [per_call(lambda u=url: client.get(u), env.min_time / 2, 200)
                  for _ in range(env.runs)]
            rows.append({"mode": count_mode, "page": page_name, "s": median(ts)})
    cv.view.simple_list_pager = original
    out["rows"] = rows
    out["simple_list_pager_as_shipped"] = bool(original)
    out["page_size"] = cv.page_size
    return out


def raw_paging(env: Env) -> dict:
    """COUNT(*), page 1, OFFSET 90% and the keyset equivalent, as raw SQL."""
    from portal.extensions import db

    with env.app.app_context():
        engine = db.engine
        n = env.size
        offset = int(n * 0.9)
        with engine.connect() as conn:
            key = conn.execute(text(f"SELECT id FROM customers ORDER BY id LIMIT 1 OFFSET "
                                    f"{offset}")).scalar_one()
        stmts = {
            "COUNT(*)": "SELECT count(*) FROM customers",
            "page 1 (LIMIT 20)": "SELECT id, code, name FROM customers ORDER BY id LIMIT 20",
            f"OFFSET {offset}": f"SELECT id, code, name FROM customers ORDER BY id LIMIT 20 "
                                f"OFFSET {offset}",
            "keyset (id > k)": f"SELECT id, code, name FROM customers WHERE id > {key} "
                               f"ORDER BY id LIMIT 20",
        }
        res = {}
        for name, sql in stmts.items():
            def run(s=sql) -> None:
                with engine.connect() as conn:
                    conn.execute(text(s)).all()
            res[name] = median([per_call(run, env.min_time / 2, 500) for _ in range(env.runs)])
    return res


# -- CSV export peak RSS -------------------------------------------------------------------------

def export_rss(env: Env) -> dict:
    out: dict[str, Any] = {}
    cv = find_customer_view(env.app)
    modes = [("Core yield_per floor", ["--floor"])]
    if cv is None or cv.export_url is None:
        out["skipped"] = "admin_views has no customer CSV export yet"
    else:
        modes.insert(0, ("admin CSV export", []))
    for name, extra in modes:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.export_probe", env.url, "--password", BENCH_PASSWORD,
             *extra], capture_output=True, text=True, cwd=ROOT, timeout=1800)
        try:
            data = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            data = {"error": (proc.stderr or proc.stdout).strip()[-300:]}
        out[name] = data
    return out


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    res = fn(*args, **kw)
    return res, time.perf_counter() - t0
