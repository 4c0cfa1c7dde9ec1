"""HTTP throughput of G2 under gunicorn (2 workers) vs PostGraphile 4.14.1 on the same database,
PostGraphile's row rules being the policy's own conditions as row-level security
(``bench.pgl``).

For every role: the two answers are diffed (``bench.bodies``); statements per request are
counted from the PostgreSQL server log for both sides at page sizes 10/100/1000; then wrk runs
in the order A B B A (A ours, B PostGraphile) per block, the ratio is taken per adjacent pair
and its median reported, so drift over time favours neither side; the CPU time per request of
each side (its server processes and the PostgreSQL backends, from /proc) is read around every
wrk run.

wrk (Debian) is the load generator; it is installed with apt-get when missing and run as root.
PostGraphile is installed from npm into <work>/pg (``bench/.work`` unless ``--work``)."""

from __future__ import annotations

import contextlib
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from bench import bodies, pgl
from bench.appdb import work_dir
from bench.procstat import backends, children, count_statements, cpu_seconds
from bench.suite import PAGE_SIZES, ROLES, Env

ROOT = Path(__file__).resolve().parent.parent
# ours runs 2 gunicorn workers on the 2 cores; PostGraphile gets as many Node processes
PGL_WORKERS = int(os.environ.get("BENCH_PGL_WORKERS", "2"))
# kept for bench.cpuprobe and older callers
PGL_VERSION, JWT_SECRET, PGL_G2 = pgl.PGL_VERSION, pgl.JWT_SECRET, pgl.PGL_G2
role_name, jwt_for, install_rls, remove_rls = (pgl.role_name, pgl.jwt_for, pgl.install_rls,
                                               pgl.remove_rls)
ensure_postgraphile, _pg_plain_url = pgl.ensure_postgraphile, pgl.plain_url


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


def wrk(url: str, body: str, headers: dict[str, str], duration: int, label: str) -> dict:
    work_dir().mkdir(parents=True, exist_ok=True)
    script = work_dir() / f"wrk_{label}.lua"
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


# -- the two servers -----------------------------------------------------------------------------

@dataclass
class Side:
    """One server under test: how to start it, what it is asked, as whom."""

    key: str  # "ours" or "theirs"
    server: str  # label in the report
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    query: Any  # page size → GraphQL text
    headers: dict[str, dict[str, str]]
    proc: subprocess.Popen | None = None
    port: int = 0
    start_timeout: float = 90
    error: str = ""
    samples: dict[str, list[dict]] = field(default_factory=dict)

    def start(self) -> bool:
        self.port = _port()
        argv = [a.replace("{port}", str(self.port)) for a in self.argv]
        work_dir().mkdir(parents=True, exist_ok=True)
        log = work_dir() / f"server_{self.key}.log"  # a file: a full pipe would block it
        with log.open("ab") as err:
            self.proc = subprocess.Popen(argv, cwd=self.cwd, env=self.env,
                                         stdout=subprocess.DEVNULL, stderr=err,
                                         start_new_session=True)
        if not _wait(self.port, self.start_timeout):
            self.error = f"{self.server} did not start: {log.read_text()[-500:]!r}"
            self.stop()
            return False
        time.sleep(1)
        return True

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None

    def pids(self) -> list[int]:
        assert self.proc is not None
        return [self.proc.pid, *children(self.proc.pid)]

    def ask(self, label: str, page: int = 100) -> dict:
        return _post(self.port, {"query": self.query(page)}, self.headers[label])

    def body(self, label: str, page: int = 100) -> str:
        return json.dumps({"query": self.query(page)})


def _sides(env: Env, postgraphile: bool, notes: list[str]) -> list[Side]:
    sides: list[Side] = []
    if env.plan.ok:
        sides.append(Side(
            "ours", "Flask + Strawberry (gunicorn ×2)",
            [sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:{port}",
             "--log-level", "warning", "bench.wsgi_app:app"], ROOT,
            {**os.environ, "BENCH_DATABASE_URL": env.url},
            lambda n: env.plan.list_query(n, scalars=["id", "code", "name", "status"],
                                          nested=True), env.headers))
    else:
        notes.append(f"ours skipped: {env.plan.reason}")
    if postgraphile:
        cli = pgl.ensure_postgraphile()
        if cli is None:
            notes.append("PostGraphile not installed (npm unavailable)")
        else:
            sides.append(Side(
                "theirs", f"PostGraphile {pgl.PGL_VERSION} (RLS)",
                pgl.command(cli, env.url, "{port}", pgl.role_name(env.who["sales"]),
                            PGL_WORKERS),
                pgl.pgl_dir(), dict(os.environ), pgl.g2_query,
                {label: {"Authorization": f"Bearer {pgl.jwt_for(env.who[label])}"}
                 for label in ROLES}, start_timeout=120))
    return sides


def _start_all(sides: list[Side], notes: list[str]) -> list[Side]:
    up = []
    for s in sides:
        if s.start():
            up.append(s)
        else:
            notes.append(s.error)
    return up


# -- checks: equal bodies, statements from the server log ------------------------------------------

def check_bodies(sides: list[Side]) -> dict[str, Any]:
    """Per role: customers per answer on each side and the differences (empty: equal)."""
    out: dict[str, Any] = {}
    by = {s.key: s for s in sides}
    for label in ROLES:
        answers = {k: s.ask(label) for k, s in by.items()}
        row: dict[str, Any] = {k: len(bodies.normalize(a, k)) for k, a in answers.items()}
        if "ours" in answers and "theirs" in answers:
            row["diff"] = bodies.diff(answers["ours"], answers["theirs"])
        out[label] = row
    return out


class LoggedStatements:
    """Statements per request from the PostgreSQL server log (``log_statement = all`` set on
    the database while the servers are started for the checks, reset afterwards)."""

    def __init__(self, admin: Engine, db: str, log: Path | None) -> None:
        self.admin, self.db, self.log = admin, db, log
        self.on = False

    def available(self) -> bool:
        try:
            return self.log is not None and self.log.is_file() and os.access(self.log, os.R_OK)
        except OSError:
            return False

    def switch(self, on: bool) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{self.db}" '
                              + ("SET log_statement = 'all'" if on else "RESET log_statement")))
        self.on = on

    def per_request(self, side: Side, label: str, page: int, n: int = 3) -> tuple[float, list]:
        """The median over ``n`` requests, each its own window of the log: a worker opening
        its first connection (the dialect's start-up queries) inside one window does not
        count as the request's."""
        assert self.log is not None
        side.ask(label, page)
        time.sleep(0.2)
        pids = set(backends(self.admin, self.db))
        windows: list[list[str]] = []
        for _ in range(n):
            offset = self.log.stat().st_size
            side.ask(label, page)
            time.sleep(0.2)  # statements are logged as received, before the answer; margin
            pids |= set(backends(self.admin, self.db))
            windows.append(count_statements(self.log, offset, pids))
        counts = sorted(len(w) for w in windows)
        mid = counts[len(counts) // 2]
        return float(mid), next(w for w in windows if len(w) == mid)


def logged_counts(sides: list[Side], logged: LoggedStatements) -> list[dict]:
    rows = []
    for s in sides:
        for label in ROLES:
            counts, first = [], []
            for page in PAGE_SIZES:
                c, f = logged.per_request(s, label, page)
                counts.append(c)
                first = first or f
            rows.append({"side": s.key, "server": s.server, "role": label, "counts": counts,
                         "constant": len(set(counts)) == 1, "statements": first})
    return rows


# -- throughput: A B B A with CPU per request ------------------------------------------------------

def cpu_snapshot(side: Side, admin: Engine, db: str) -> tuple[float, dict[int, float]]:
    return (sum(map(cpu_seconds, side.pids())),
            {pid: cpu_seconds(pid) for pid in backends(admin, db)})


def timed_run(side: Side, label: str, duration: int, admin: Engine, db: str) -> dict:
    """One wrk run, with the CPU its server and the PostgreSQL backends spent on it."""
    app0, pg0 = cpu_snapshot(side, admin, db)
    r = wrk(f"http://127.0.0.1:{side.port}/graphql", side.body(label), side.headers[label],
            duration, f"{side.key}_{label}")
    app1, pg1 = cpu_snapshot(side, admin, db)
    n = max(r["requests"], 1)
    r["app_ms"] = (app1 - app0) * 1000 / n
    r["pg_ms"] = sum(v - pg0.get(pid, 0.0) for pid, v in pg1.items()) * 1000 / n
    r["cpu_ms"] = r["app_ms"] + r["pg_ms"]
    return r


def abba(sides: list[Side], rounds: int, duration: int, admin: Engine, db: str
         ) -> dict[str, list[float]]:
    """Per role, ``rounds`` blocks A B B A; the ratio ours ÷ theirs (req/s) of each adjacent
    pair (A B, then B A)."""
    ratios: dict[str, list[float]] = {}
    a = next((s for s in sides if s.key == "ours"), None)
    b = next((s for s in sides if s.key == "theirs"), None)
    order = [s for s in (a, b, b, a) if s is not None]
    for label in ROLES:
        for side in sides:
            side.ask(label)  # warm-up
        for _ in range(rounds):
            runs = [(s, timed_run(s, label, duration, admin, db)) for s in order]
            for s, r in runs:
                s.samples.setdefault(label, []).append(r)
            if a and b:  # runs: A B B A → pairs (A, B) and (A, B) read backwards
                for ours, theirs in ((runs[0][1], runs[1][1]), (runs[3][1], runs[2][1])):
                    if theirs["rps"]:
                        ratios.setdefault(label, []).append(ours["rps"] / theirs["rps"])
    return ratios


def _summary(runs: list[dict]) -> dict:
    """Medians of several wrk runs (requests and non-2xx: totals)."""
    med = statistics.median
    return {"rps": med([r["rps"] for r in runs]), "p50": med([r["p50"] for r in runs]),
            "p99": med([r["p99"] for r in runs]),
            "app_ms": med([r["app_ms"] for r in runs]), "pg_ms": med([r["pg_ms"] for r in runs]),
            "cpu_ms": med([r["cpu_ms"] for r in runs]),
            "non2xx": sum(r["non2xx"] for r in runs),
            "requests": sum(r["requests"] for r in runs), "raw": runs[-1].get("raw", "")}


def summarise(sides: list[Side], ratios: dict[str, list[float]], checks: dict) -> list[dict]:
    rows = []
    theirs = next((s for s in sides if s.key == "theirs"), None)
    for label in ROLES:
        for s in sides:
            if not s.samples.get(label):
                continue
            r = _summary(s.samples[label])
            r.update(server=s.server, side=s.key, role=label,
                     rows=checks.get(label, {}).get(s.key))
            if s.key == "ours" and ratios.get(label):
                r["ratio"] = statistics.median(ratios[label])
                r["ratios"] = ratios[label]
                if theirs and theirs.samples.get(label):
                    r["cpu_ratio"] = r["cpu_ms"] / _summary(theirs.samples[label])["cpu_ms"]
            rows.append(r)
    return rows


def _setup_text(duration: int, rounds: int) -> str:
    return (f"Load: `wrk -t2 -c8 -d{duration}s --latency` on loopback, POST of the same G2 query "
            "(100 customers × owner, credit lines, complaints). Ours: gunicorn, 2 sync workers, "
            "production config, Bearer token, policy on. PostGraphile: "
            f"{PGL_WORKERS} Node process{'es' if PGL_WORKERS > 1 else ''} "
            "(`--cluster-workers`), JWT role → row-level security whose conditions are compiled "
            "from the policy (`portal.policy.scope`, see bench/pgl.py). Both servers run side by "
            f"side; per role {rounds} block(s) A B B A (A ours, B PostGraphile); the ratio is the "
            "median of the ratios of adjacent pairs. CPU ms per request: user+system time of the "
            "server's processes + of the database's PostgreSQL backends (/proc) over a wrk run, "
            "÷ its requests. Load generator, servers and PostgreSQL share the machine's cores.")


def run(env: Env, base_url: str | None, duration: int = 10, postgraphile: bool = True,
        rounds: int | None = None, pg_log: str | None = None) -> dict:
    """Checks (bodies, logged statements), then the A B B A throughput runs."""
    if not env.pg:
        return {"skipped": "needs PostgreSQL (PostGraphile and a comparable server)"}
    if not ensure_wrk():
        return {"skipped": "wrk is not installed (apt-get install wrk)"}
    rounds = max(1, rounds if rounds is not None else 2)
    out: dict[str, Any] = {"rows": [], "notes": [], "setup": _setup_text(duration, rounds)}
    sides = _sides(env, postgraphile, out["notes"])
    if not sides:
        return {**out, "skipped": "neither server can run"}
    db = make_url(env.url).database
    admin = create_engine(make_url(env.url).set(database="postgres"),
                          isolation_level="AUTOCOMMIT")
    logged = LoggedStatements(admin, db, Path(pg_log) if pg_log else None)
    rls = any(s.key == "theirs" for s in sides)
    try:
        if rls:
            out["postgraphile"] = pgl.PGL_VERSION
            out["rls"] = pgl.install_rls(env.url, env.who, env.app)
        _checks(sides, logged, out)
        up = _start_all(sides, out["notes"])
        try:
            ratios = abba(up, rounds, duration, admin, db)
        finally:
            for s in up:
                s.stop()
        out["rows"] = summarise(up, ratios, out.get("bodies", {}))
        _notes(out)
    finally:
        for s in sides:
            s.stop()
        if logged.on:
            logged.switch(False)
        if rls:
            pgl.remove_rls(env.url)
        admin.dispose()
    return out


def _checks(sides: list[Side], logged: LoggedStatements, out: dict) -> None:
    """Servers started once with statement logging on (when the log is readable): bodies
    diffed, statements counted; then stopped (logging off for the throughput runs)."""
    if logged.available():
        logged.switch(True)
    else:
        out["notes"].append("statements from the server log: not counted (no readable "
                            "server log; pass --pg-log)")
    up = _start_all(sides, out["notes"])
    try:
        out["bodies"] = check_bodies(up)
        if logged.on:
            out["logged_statements"] = logged_counts(up, logged)
    finally:
        for s in up:
            s.stop()
        if logged.on:
            logged.switch(False)


def _notes(out: dict) -> None:
    for r in out["rows"]:
        extra = ""
        if r.get("ratios"):
            extra = "; per-pair ratios " + ", ".join(f"{x:.2f}" for x in r["ratios"])
        out["notes"].append(f"{r['server']} as {r['role']}: {r.get('rows')} customers per "
                            f"response, {r.get('requests')} requests in all{extra}")


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
