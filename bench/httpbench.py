"""HTTP throughput of G2 under gunicorn (2 workers) vs PostGraphile 4.14.1 on the same database,
the row rules of PostGraphile written as PostgreSQL row-level security policies.

wrk (Debian) is the load generator; it is installed with apt-get when missing and run as root.
PostGraphile is installed from npm into bench/.work/pg (ignored by git)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.floor import Who
from bench.suite import ROLES, Env

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
PGL_VERSION = "4.14.1"
PGL_DIR = WORK / "pg"
JWT_SECRET = "bench-jwt-secret-not-for-production"
# ours runs 2 gunicorn workers on the 2 cores; PostGraphile gets as many Node processes
PGL_WORKERS = int(os.environ.get("BENCH_PGL_WORKERS", "2"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(port: int, timeout: float = 60) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        time.sleep(0.2)
    return False


def ensure_wrk() -> str | None:
    found = shutil.which("wrk")
    if found or os.geteuid() != 0:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], capture_output=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    return shutil.which("wrk")


def ensure_postgraphile() -> Path | None:
    cli = PGL_DIR / "node_modules" / "postgraphile" / "cli.js"
    if not cli.exists():
        cli = PGL_DIR / "node_modules" / ".bin" / "postgraphile"
    if cli.exists():
        return cli
    if not shutil.which("npm"):
        return None
    PGL_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", f"postgraphile@{PGL_VERSION}", "--prefix", str(PGL_DIR),
                    "--no-audit", "--no-fund"], capture_output=True, timeout=600)
    cli = PGL_DIR / "node_modules" / ".bin" / "postgraphile"
    return cli if cli.exists() else None


def wrk(url: str, body: str, headers: dict[str, str], duration: int, label: str) -> dict:
    script = WORK / f"wrk_{label}.lua"
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(body)}",
             'wrk.headers["Content-Type"] = "application/json"']
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    proc = subprocess.run(["wrk", "-t2", "-c8", f"-d{duration}s", "--latency", "-s",
                           str(script), url], capture_output=True, text=True,
                          timeout=duration + 60)
    return parse_wrk(proc.stdout)


_UNIT = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def parse_wrk(out: str) -> dict:
    res: dict[str, Any] = {"raw": out[-600:]}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
        res[key] = float(m.group(1)) * _UNIT[m.group(2)] if m else float("nan")
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non2xx"] = int(m.group(1)) if m else 0
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    return res


# -- PostGraphile ---------------------------------------------------------------------------------

def role_name(who: Who) -> str:
    return f"bench_{who.label}_{who.user_id}"


def install_rls(url: str, who: dict[str, Who]) -> None:
    """One role per benchmark user; RLS policies equal to the policy's row rules for G2."""
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    tables = ("customers", "users", "credit_lines", "complaints")
    with eng.connect() as conn:
        for w in who.values():
            r = role_name(w)
            conn.execute(text(f"DROP OWNED BY {r}") if _role_exists(conn, r) else text("SELECT 1"))
            if not _role_exists(conn, r):
                conn.execute(text(f"CREATE ROLE {r} NOLOGIN"))
            conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {r}"))
            for t in tables:
                conn.execute(text(f"GRANT SELECT ON {t} TO {r}"))
        for t in tables:
            conn.execute(text(f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY"))
        for w in who.values():
            r = role_name(w)
            # the row rules of the floor (bench.floor.Who), the rows hanging off a customer
            # written as a correlated EXISTS as our relationship loads do
            # (portal.policy._via_customer), so that PostgreSQL may check a page's rows one by
            # one rather than hash every customer of the branch
            if w.label == "sales":
                users = f"id = {w.user_id}"
            elif w.label == "supervisor":
                users = f"id = {w.user_id} OR branch_id = {w.branch_id}"
            else:
                users = "true"
            cust = w.customer_rule_sql("customers")
            via = {t: "true" if cust == "true" else
                   f"EXISTS (SELECT 1 FROM customers c WHERE c.id = {t}.customer_id "
                   f"AND {w.customer_rule_sql('c')})" for t in ("credit_lines", "complaints")}
            comp = via["complaints"] if cust == "true" else \
                f"{via['complaints']} OR received_by_id = {w.user_id} " \
                f"OR handler_id = {w.user_id}"
            for t, cond in (("customers", cust), ("users", users),
                            ("credit_lines", via["credit_lines"]), ("complaints", comp)):
                conn.execute(text(f"DROP POLICY IF EXISTS {r}_{t} ON {t}"))
                conn.execute(text(f"CREATE POLICY {r}_{t} ON {t} FOR SELECT TO {r} "
                                  f"USING ({cond})"))
    eng.dispose()


def remove_rls(url: str) -> None:
    eng = create_engine(url, isolation_level="AUTOCOMMIT")
    with eng.connect() as conn:
        for t in ("customers", "users", "credit_lines", "complaints"):
            conn.execute(text(f"ALTER TABLE {t} DISABLE ROW LEVEL SECURITY"))
    eng.dispose()


def _role_exists(conn, name: str) -> bool:
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


PGL_G2 = ("query { allCustomers(first: 100, orderBy: PRIMARY_KEY_ASC) { nodes { id code name "
          "status userByOwnerId { id fullName } creditLinesByCustomerId(orderBy: PRIMARY_KEY_ASC)"
          " { nodes { id limitAmount status } } complaintsByCustomerId(orderBy: PRIMARY_KEY_ASC)"
          " { nodes { id number status } } } } }")


def _pg_plain_url(url: str) -> str:
    u = make_url(url)
    return u.set(drivername="postgresql").render_as_string(hide_password=False)


def _post(port: int, body: dict, headers: dict[str, str], path: str = "/graphql") -> dict:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", path, json.dumps(body),
                 {"Content-Type": "application/json", **headers})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    try:
        return json.loads(data)
    except ValueError:
        return {"errors": [{"message": f"HTTP {resp.status}: {data[:200]!r}"}]}


def _nodes(data: dict, key: str) -> int:
    conn = (data.get("data") or {}).get(key) or {}
    return len(conn.get("nodes") or conn.get("edges") or [])


def run(env: Env, base_url: str | None, duration: int = 10, postgraphile: bool = True,
        rounds: int | None = None) -> dict:
    """Both servers stay up; each round runs wrk on ours then on PostGraphile for every role,
    so every ratio compares two runs a few seconds apart (the machine's load drifts).
    Figures are medians over the rounds; the ratio is the median of the per-round ratios."""
    out: dict[str, Any] = {"rows": [], "notes": []}
    if not env.pg:
        return {"skipped": "needs PostgreSQL (PostGraphile and a comparable server)"}
    if not ensure_wrk():
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    rounds = max(1, rounds if rounds is not None else env.runs)
    out["setup"] = (f"Load: `wrk -t2 -c8 -d{duration}s --latency` on loopback, POST of the same "
                    "G2 query. Ours: gunicorn, 2 sync workers, production config, Bearer "
                    "token, policy on. PostGraphile: "
                    f"{PGL_WORKERS} Node process{'es' if PGL_WORKERS > 1 else ''} "
                    "(`--cluster-workers`), JWT role → RLS policies "
                    "(sales → owner, supervisor → branch, general manager → all; credit lines and "
                    "complaints through their customer, written as a correlated EXISTS as our "
                    "loaders do). Both servers "
                    f"run side by side; {rounds} rounds, each running ours then PostGraphile "
                    "for every role; medians over the rounds, and the ratio is the median of "
                    "the per-round ratios. Load generator, servers and PostgreSQL share the "
                    "machine's 2 cores.")
    procs: list[subprocess.Popen] = []
    rls = False
    try:
        ours_port = theirs_port = None
        q = env.plan.list_query(100, scalars=["id", "code", "name", "status"], nested=True) \
            if env.plan.ok else ""
        if env.plan.ok:
            port = _port()
            g = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}",
                 "--log-level", "warning", "bench.wsgi_app:app"],
                cwd=ROOT, env={**os.environ, "BENCH_DATABASE_URL": env.url},
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
            procs.append(g)
            if not _wait(port):
                return {"skipped": "gunicorn did not start"}
            ours_port = port
        else:
            out["notes"].append(f"ours skipped: {env.plan.reason}")
        if postgraphile:
            cli = ensure_postgraphile()
            if cli is None:
                out["notes"].append("PostGraphile not installed (npm unavailable)")
            else:
                out["postgraphile"] = PGL_VERSION
                install_rls(env.url, env.who)
                rls = True
                port = _port()
                p = subprocess.Popen(
                    ["node", str(cli), "-c", _pg_plain_url(env.url), "--schema", "public",
                     "--host", "127.0.0.1", "--port", str(port), "--jwt-secret", JWT_SECRET,
                     "--default-role", role_name(env.who["sales"]), "--disable-query-log",
                     *(["--cluster-workers", str(PGL_WORKERS)] if PGL_WORKERS > 1 else []),
                     "--disable-graphiql"],
                    cwd=PGL_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                    start_new_session=True)
                procs.append(p)
                if not _wait(port, 120):
                    err = p.stderr.read(2000) if p.poll() is not None else b""
                    out["notes"].append(f"PostGraphile did not start: {err!r}")
                else:
                    time.sleep(2)
                    theirs_port = port
        ours_hdr = env.headers
        theirs_hdr = {label: {"Authorization": f"Bearer {jwt_for(env.who[label])}"}
                      for label in ROLES}
        rows_ours: dict[str, int] = {}
        rows_theirs: dict[str, int] = {}
        for label in ROLES:  # one checked request each (and a warm-up)
            if ours_port:
                check = _post(ours_port, {"query": q}, ours_hdr[label])
                if check.get("errors"):
                    out["notes"].append(f"ours as {label}: {check['errors'][0].get('message')}")
                rows_ours[label] = _nodes(check, "customers")
            if theirs_port:
                check = _post(theirs_port, {"query": PGL_G2}, theirs_hdr[label])
                if check.get("errors"):
                    out["notes"].append(
                        f"PostGraphile as {label}: {check['errors'][0].get('message')}")
                rows_theirs[label] = _nodes(check, "allCustomers")
        runs: dict[tuple[str, str], list[dict]] = {}
        for _ in range(rounds):
            for label in ROLES:
                if ours_port:
                    runs.setdefault(("ours", label), []).append(wrk(
                        f"http://127.0.0.1:{ours_port}/graphql", json.dumps({"query": q}),
                        ours_hdr[label], duration, f"ours_{label}"))
                if theirs_port:
                    runs.setdefault(("theirs", label), []).append(wrk(
                        f"http://127.0.0.1:{theirs_port}/graphql",
                        json.dumps({"query": PGL_G2}), theirs_hdr[label], duration,
                        f"pgl_{label}"))
        for label in ROLES:
            mine = runs.get(("ours", label), [])
            theirs = runs.get(("theirs", label), [])
            if mine:
                r = _summary(mine)
                ratios = [a["rps"] / b["rps"] for a, b in zip(mine, theirs, strict=False)
                          if b["rps"]]
                r.update(server="Flask + Strawberry (gunicorn ×2)", role=label,
                         rows=rows_ours.get(label),
                         ratio=statistics.median(ratios) if ratios else None,
                         ratios=ratios)
                out["rows"].append(r)
            if theirs:
                r = _summary(theirs)
                r.update(server=f"PostGraphile {PGL_VERSION} (RLS)", role=label,
                         rows=rows_theirs.get(label))
                out["rows"].append(r)
        for r in out["rows"]:
            extra = ""
            if r.get("ratios"):
                extra = "; per-round ratios " + ", ".join(f"{x:.2f}" for x in r["ratios"])
            out["notes"].append(f"{r['server']} as {r['role']}: {r.get('rows')} customers per "
                                f"response, {r.get('requests')} requests in all{extra}")
    finally:
        for p in procs:
            _stop(p)
        if rls:
            remove_rls(env.url)
    return out


def _summary(runs: list[dict]) -> dict:
    """Medians of several wrk runs (requests and non-2xx: totals)."""
    med = statistics.median
    return {"rps": med([r["rps"] for r in runs]), "p50": med([r["p50"] for r in runs]),
            "p99": med([r["p99"] for r in runs]),
            "non2xx": sum(r["non2xx"] for r in runs),
            "requests": sum(r["requests"] for r in runs), "raw": runs[-1].get("raw", "")}


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
