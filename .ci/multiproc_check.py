#!/usr/bin/env python3
"""Multi-process check of the production deployment (docs/deployment.md) on loopback.

Starts a throwaway PostgreSQL cluster and a Redis server (Debian packages), migrates, creates a
small company, serves ``wsgi:app`` with gunicorn (3 workers, PORTAL_CONFIG=production,
RATELIMIT_STORAGE_URI=redis://…), runs a bounded load of mixed reads and writes from several
roles (threads, ≤ 60 s), then asserts:

- zero 5xx over every request;
- the per-account login lockout holds across workers (5 wrong passwords, then the right one
  is refused);
- the per-address login rate limit holds across workers (the first 429 comes within the
  configured 20 per minute, and stays);
- ``flask portal audit-verify`` passes;
- complaint numbers are unique and gap-free;
- no lost update: a counter kept in a customer's notes, incremented concurrently by two users
  with ``expectedVersion``, ends at exactly the number of successful increments;
- several app servers for real (issue 20): a second gunicorn server runs beside the first; an
  import dry run on one server is confirmed on the other;
- a backup taken with ``flask portal backup`` is restored into a new database and store with
  ``flask portal restore``, which verifies row counts and fingerprints, the audit chain and
  every file checksum;
- notifications leave the building exactly once: major complaints are registered on both
  servers while the second server is killed (SIGKILL, mid-run); then two senders run at once
  (``flask portal send-notifications``) against a real SMTP server (aiosmtpd) and a webhook
  stand-in on loopback; every escalation of a committed complaint reaches the general manager
  once by e-mail and once by 企业微信, nothing is delivered twice, nothing for what was not
  committed.

Runs only when ``MULTIPROC_CHECK=1`` (otherwise it says so and exits 0). Needs root (PostgreSQL
runs as the ``postgres`` user) or an existing server in ``MULTIPROC_PG_URL``.
Options via env: MULTIPROC_SECONDS (default 30, max 60), MULTIPROC_THREADS (default 8).
Prints one line starting with ``multiproc:`` and exits 1 on any failed check.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

SECONDS = min(60, int(os.environ.get("MULTIPROC_SECONDS", "30")))
THREADS = int(os.environ.get("MULTIPROC_THREADS", "8"))
WORKERS = 3
PASSWORD = "Test-password-1"  # tests/factories.py


def log(msg: str) -> None:
    print(f"multiproc: {msg}", flush=True)


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port: int, timeout: float = 30) -> None:
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def find_pgbin() -> Path:
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl:
        return Path(os.path.realpath(pg_ctl)).parent
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / "initdb").exists():
            return d
    raise RuntimeError("no PostgreSQL found (apt-get install postgresql)")


class Services:
    """The throwaway PostgreSQL cluster, Redis and gunicorn; all stopped in ``close``."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.procs: list[subprocess.Popen] = []
        self.pgdir: Path | None = None
        self.pgbin: Path | None = None

    def start_postgres(self) -> str:
        if os.environ.get("MULTIPROC_PG_URL"):
            return os.environ["MULTIPROC_PG_URL"]
        self.pgbin = find_pgbin()
        self.pgdir = Path(tempfile.mkdtemp(prefix="multiproc-pg."))
        shutil.chown(self.pgdir, "postgres")
        os.chmod(self.pgdir, 0o700)
        port = free_port()
        run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(run_as + [str(self.pgbin / "initdb"), "-D", str(self.pgdir / "data"),
                                 "-U", "postgres", "--auth=trust", "--encoding=UTF8",
                                 "--locale=C", "--no-sync"], check=True, cwd=self.pgdir,
                       stdout=subprocess.DEVNULL)
        subprocess.run(run_as + [str(self.pgbin / "pg_ctl"), "-D", str(self.pgdir / "data"),
                                 "-l", str(self.pgdir / "server.log"), "-w", "-t", "60", "-o",
                                 f"-c listen_addresses=127.0.0.1 -p {port} -k {self.pgdir} "
                                 "-c fsync=off -c synchronous_commit=off "
                                 "-c max_connections=200", "start"],
                       check=True, cwd=self.pgdir, stdout=subprocess.DEVNULL)
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def start_redis(self) -> str:
        exe = shutil.which("redis-server")
        if not exe:
            raise RuntimeError("no redis-server (apt-get install redis-server)")
        port = free_port()
        self.procs.append(subprocess.Popen(
            [exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.work)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        wait_port(port)
        return f"redis://127.0.0.1:{port}/0"

    def start_gunicorn(self, env: dict[str, str], logname: str = "gunicorn.log") -> str:
        port = free_port()
        logf = open(self.work / logname, "wb")  # noqa: SIM115
        helptext = subprocess.run([str(VENV / "gunicorn"), "--help"], capture_output=True,
                                  text=True).stdout
        # gunicorn 27 opens one control socket per user by default: two servers would share it
        extra = ["--no-control-socket"] if "--no-control-socket" in helptext else []
        self.procs.append(subprocess.Popen(
            [str(VENV / "gunicorn"), "--workers", str(WORKERS), "--bind", f"127.0.0.1:{port}",
             "--timeout", "60", "--error-logfile", "-", *extra, "wsgi:app"],
            cwd=ROOT, env=env, stdout=logf, stderr=subprocess.STDOUT,
            start_new_session=True))
        wait_port(port, 60)
        return f"http://127.0.0.1:{port}"

    def kill_server(self, base: str) -> None:
        """SIGKILL a gunicorn server: master and workers (its own process group)."""
        import signal

        for p in self.procs:
            if p.args and str(p.args[0]).endswith("gunicorn") and \
                    base.rsplit(":", 1)[1] == p.args[p.args.index("--bind") + 1].split(":")[1]:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)

    def close(self) -> None:
        for p in reversed(self.procs):
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.pgdir is not None and self.pgbin is not None:
            run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            subprocess.run(run_as + [str(self.pgbin / "pg_ctl"), "-D", str(self.pgdir / "data"),
                                     "-m", "fast", "-w", "stop"], cwd=self.pgdir,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            shutil.rmtree(self.pgdir, ignore_errors=True)


# ------------------------------------------------------------------------------ HTTP

class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.status: Counter[int] = Counter()
        self.kinds: Counter[str] = Counter()
        self.errors: list[str] = []

    def add(self, kind: str, status: int, detail: str = "") -> None:
        with self.lock:
            self.status[status] += 1
            self.kinds[kind] += 1
            if status >= 500 and len(self.errors) < 10:
                self.errors.append(f"{kind} {status} {detail[:300]}")


class Browser:
    """A portal user: cookies kept by hand (production cookies are ``Secure``, and this
    check speaks plain HTTP on loopback, where a cookie jar would not send them)."""

    _TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, base: str, stats: Stats) -> None:
        import requests

        self.requests = requests
        self.base = base
        self.stats = stats
        self.cookies: dict[str, str] = {}

    def _send(self, method: str, path: str, kind: str, **kw):
        headers = kw.pop("headers", {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        resp = self.requests.request(method, self.base + path, headers=headers,
                                     allow_redirects=False, timeout=30, **kw)
        self.cookies.update(resp.cookies.get_dict())
        self.stats.add(kind, resp.status_code, resp.text if resp.status_code >= 500 else "")
        return resp

    def get(self, path: str, kind: str = "portal read"):
        return self._send("GET", path, kind)

    def login(self, username: str, password: str = PASSWORD):
        page = self.get("/login", "login page")
        token = self._TOKEN.search(page.text).group(1)
        return self._send("POST", "/login", "login", data={
            "username": username, "password": password, "csrf_token": token})


def gql(base: str, token: str, stats: Stats, kind: str, query: str, variables=None):
    import requests

    resp = requests.post(base + "/graphql", json={"query": query, "variables": variables or {}},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
    stats.add(kind, resp.status_code, resp.text if resp.status_code >= 500 else "")
    return resp


COUNTER_READ = '{ node(id: "Customer:%d") { ... on Customer { notes version } } }'
COUNTER_WRITE = """mutation($id: ID!, $n: String!, $v: Int!) { updateCustomer(customerId: $id,
  input: {notes: $n}, expectedVersion: $v) { ok errors { code } } }"""
COMPLAINT = """mutation($c: ID!, $d: String!) { registerComplaint(input: {customerId: $c,
  channel: PHONE, type: COMPLAINT, cause: SERVICE, description: $d}) { ok errors { code message }
  result { number } } }"""
RECEPTION = """mutation($n: String!) { registerReception(input: {kind: VISIT, visitorClass: C,
  visitorName: $n}) { ok errors { code message } } }"""


def import_across_servers(base_a: str, base_b: str, username: str, stats: Stats,
                          db_url: str) -> str | None:
    """Dry run on server A, confirmation on server B (the staging lives in the database)."""
    b = Browser(base_a, stats)
    if b.login(username).status_code != 302:
        return "import: login failed"
    page = b.get("/admin/customer_import/", "import page")
    csrf = Browser._TOKEN.search(page.text).group(1)
    name = f"跨服务器导入{os.getpid()}"
    body = f"客户名称,电话\n{name},1370{os.getpid() % 10_000_000:07d}\n".encode()
    r = b._send("POST", "/admin/customer_import/upload", "import dry run",
                data={"csrf_token": csrf}, files={"file": ("k.csv", body, "text/csv")})
    token = re.search(r'name="token" value="([^"]+)"', r.text)
    if r.status_code != 200 or not token:
        return f"import: dry run answered {r.status_code} without a staging token"
    csrf = Browser._TOKEN.search(r.text).group(1)
    b.base = base_b
    r = b._send("POST", "/admin/customer_import/confirm", "import confirm",
                data={"csrf_token": csrf, "token": token.group(1)})
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    with engine.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM customers WHERE name = :n"),
                         {"n": name}).scalar_one()
    engine.dispose()
    if r.status_code != 200 or n != 1:
        return f"import: confirm on the other server answered {r.status_code}, {n} rows written"
    return None


def backup_and_restore(env: dict[str, str], admin_url: str, work: Path) -> tuple[str | None, str]:
    """``portal backup`` then ``portal restore`` into a new database and store."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    folder = work / "backup"
    out = subprocess.run([str(VENV / "flask"), "--app", "wsgi", "portal", "backup",
                          str(folder)], cwd=ROOT, env=env, capture_output=True, text=True)
    if out.returncode != 0:
        return f"backup failed: {out.stderr[-300:]}", ""
    admin = make_url(admin_url)
    name = f"multiproc_restored_{os.getpid()}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    target = dict(env, DATABASE_URL=admin.set(database=name).render_as_string(
        hide_password=False), STORAGE_PATH=str(work / "restored-storage"))
    out = subprocess.run([str(VENV / "flask"), "--app", "wsgi", "portal", "restore",
                          str(folder)], cwd=ROOT, env=target, capture_output=True, text=True)
    summary = next((line for line in out.stdout.splitlines() if line.startswith("restored")),
                   "")
    if out.returncode != 0 or "restore verified" not in out.stdout:
        return f"restore failed: {out.stdout[-300:]}{out.stderr[-300:]}", summary
    return None, summary


MAJOR = """mutation($c: ID!, $d: String!) { registerComplaint(input: {customerId: $c,
  channel: PHONE, type: COMPLAINT, cause: QUALITY, severity: MAJOR, majorReason: "集体投诉",
  description: $d}) { ok errors { code message } result { number } } }"""


class OutboxPeers:
    """A real SMTP server (aiosmtpd) and a webhook stand-in, on loopback, counting deliveries."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        from aiosmtpd.controller import Controller

        self.mails: list[str] = []
        self.posts: list[str] = []
        self.lock = threading.Lock()
        peers = self

        class Box:
            async def handle_DATA(self, server, session, envelope):
                from email import message_from_bytes

                with peers.lock:
                    peers.mails.append(message_from_bytes(envelope.content)["Message-ID"])
                return "250 OK"

        class Hook(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with peers.lock:
                    peers.posts.append(json.loads(body)["markdown"]["content"])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

            def log_message(self, *args) -> None:
                pass

        self.smtp_port = free_port()
        self.smtp = Controller(Box(), hostname="127.0.0.1", port=self.smtp_port)
        self.smtp.start()
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.hook_url = f"http://127.0.0.1:{self.http.server_address[1]}/cgi-bin/webhook/send"

    def env(self) -> dict[str, str]:
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.smtp_port), "SMTP_TLS": "none",
                "SMTP_FROM": "portal@example.cn", "WECOM_WEBHOOK_URL": self.hook_url + "?key=k",
                "PUBLIC_BASE_URL": "https://archive.example.cn"}

    def close(self) -> None:
        self.smtp.stop()
        self.http.shutdown()


def outbox_phase(services: Services, bases: list[str], token: str, customers: list[int],
                 env: dict[str, str], db_url: str, stats: Stats) -> tuple[str | None, dict]:
    """Major complaints on both servers, the second server killed mid-run, two senders at
    once; every committed escalation reaches the general manager exactly once per channel."""
    import requests
    from sqlalchemy import create_engine, text

    peers = OutboxPeers()
    try:
        stop = time.time() + 6
        killed = threading.Event()
        refused = Counter()

        def register(i: int) -> None:
            k = 0
            while time.time() < stop:
                k += 1
                base = bases[(i + k) % len(bases)]
                try:
                    gql(base, token, stats, "major complaint", MAJOR, {
                        "c": f"Customer:{customers[(i * 5 + k) % len(customers)]}",
                        "d": f"外发通知测试 {i}-{k}"})
                except requests.RequestException:
                    refused[base] += 1       # the killed server: connection refused / reset

        threads = [threading.Thread(target=register, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(3)
        services.kill_server(bases[1])
        killed.set()
        for t in threads:
            t.join()
        send_env = dict(env, **peers.env())
        senders = [subprocess.Popen([str(VENV / "flask"), "--app", "wsgi", "portal",
                                     "send-notifications"], cwd=ROOT, env=send_env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                   for _ in range(2)]
        outputs = [p.communicate(timeout=120)[0] for p in senders]
        engine = create_engine(db_url)
        with engine.connect() as conn:
            committed = conn.execute(text(
                "SELECT count(*) FROM complaints WHERE description LIKE '外发通知测试%'"
            )).scalar_one()
            rows = conn.execute(text(
                "SELECT o.id, o.channel, o.status FROM outbox_messages o "
                "JOIN notifications n ON n.id = o.notification_id "
                "JOIN complaints c ON n.target_type = 'Complaint' "
                "AND n.target_id = CAST(c.id AS VARCHAR) "
                "WHERE c.description LIKE '外发通知测试%' AND n.kind = 'complaint.major'"
            )).all()
            everything = conn.execute(text("SELECT id, channel, status FROM outbox_messages")).all()
        engine.dispose()
        mail_ids = list(peers.mails)
        expected_mail = {f"<outbox-{r.id}@customer-archive>" for r in everything
                         if r.channel == "email"}
        expected_posts = sum(1 for r in everything if r.channel == "wecom")
        figures = {"committed": committed, "outbox": len(everything),
                   "escalation_messages": len(rows), "mails": len(peers.mails),
                   "webhooks": len(peers.posts), "refused_by_killed_server": sum(refused.values()),
                   "not_sent": sum(1 for r in everything if r.status != "sent")}
        problems = []
        if committed == 0:
            problems.append("no major complaint was committed")
        if len(rows) != 2 * committed:
            problems.append(f"{len(rows)} outbox rows for {committed} committed escalations "
                            "(expected e-mail + 企业微信 each)")
        if figures["not_sent"]:
            problems.append(f"{figures['not_sent']} messages not sent: {outputs}")
        if sorted(mail_ids) != sorted(expected_mail) or len(set(mail_ids)) != len(mail_ids):
            problems.append(f"e-mails delivered {len(mail_ids)} ({len(set(mail_ids))} distinct) "
                            f"for {len(expected_mail)} queued")
        if len(peers.posts) != expected_posts or len(set(peers.posts)) != len(peers.posts):
            problems.append(f"webhooks delivered {len(peers.posts)} "
                            f"({len(set(peers.posts))} distinct) for {expected_posts} queued")
        return ("outbox: " + "; ".join(problems)) if problems else None, figures
    finally:
        peers.close()


def create_database(admin_url: str) -> str:
    """A fresh database for this run on the throwaway server; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(admin_url)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    dbname = f"multiproc_{os.getpid()}"
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{dbname}"'))
        conn.execute(text(f'CREATE DATABASE "{dbname}"'))
    engine.dispose()
    return admin.set(database=dbname).render_as_string(hide_password=False)


def production_env(db_url: str, redis_url: str, work: Path) -> dict[str, str]:
    env = dict(os.environ, PORTAL_CONFIG="production", DATABASE_URL=db_url,
               SECRET_KEY="multiproc-check-secret-key-0123456789",
               AUDIT_HMAC_KEY="multiproc-check-audit-key-0123456789",
               RATELIMIT_STORAGE_URI=redis_url, STORAGE_PATH=str(work / "storage"),
               FLASK_APP="wsgi")
    env.pop("MULTIPROC_CHECK", None)
    return env


@dataclass
class Company:
    """What the load needs of tests/factories.py's world: API tokens, the counter archive,
    the archives complaints are registered on and a few usernames."""

    tokens: dict[str, str]
    counter_id: int
    complaint_customers: list[int]
    sales2: str
    service_name: str
    lock_user: str


def build_company(env: dict[str, str]) -> Company:
    """Migrate, then create the company with API tokens for the load."""
    subprocess.run([str(VENV / "flask"), "--app", "wsgi", "portal", "migrate"], cwd=ROOT,
                   env=env, check=True, stdout=subprocess.DEVNULL)
    os.environ.update({k: env[k] for k in ("PORTAL_CONFIG", "DATABASE_URL", "SECRET_KEY",
                                            "AUDIT_HMAC_KEY", "STORAGE_PATH")})
    from portal import create_app
    from portal.extensions import db
    from portal.services import outbox
    from tests.factories import build_world
    from tests.graphql.conftest import make_token

    app = create_app("production")
    logging.getLogger().setLevel(logging.WARNING)  # the app's INFO lines are for servers
    with app.app_context():
        w = build_world(db.session)
        tokens = {name: make_token(db.session, getattr(w, name)) for name in (
            "sales1", "supervisor", "service", "reception", "gm", "auditor", "manager")}
        w.gm.email = "gm@example.cn"
        outbox.set_preferences(db.session, w.gm, [("email", "complaint"),
                                                  ("wecom", "complaint")])
        counter_id = w.customers["sales1"][0].id
        w.customers["sales1"][0].notes = "0"
        db.session.commit()
        company = Company(tokens=tokens, counter_id=counter_id,
                          complaint_customers=[c.id for cs in w.customers.values() for c in cs],
                          sales2=w.sales2.username, service_name=w.service.username,
                          lock_user=w.sales3.username)
        db.session.remove()
        db.engine.dispose()
    return company


class Load:
    """The bounded mixed load: counter increments with ``expectedVersion`` by two users,
    complaint and reception writes, GraphQL and portal reads, from THREADS threads."""

    def __init__(self, base: str, company: Company, portal_users: dict[str, Browser],
                 stats: Stats) -> None:
        self.base = base
        self.company = company
        self.portal_users = portal_users
        self.stats = stats
        self.increments: Counter[str] = Counter()
        self.conflicts: Counter[str] = Counter()
        self.numbers: list[str] = []
        self.lock = threading.Lock()
        self.stop = 0.0

    def run(self) -> None:
        self.stop = time.time() + SECONDS
        threads = [threading.Thread(target=self.worker, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def gql(self, who: str, kind: str, query: str, variables=None):
        return gql(self.base, self.company.tokens[who], self.stats, kind, query, variables)

    def increment(self, who: str) -> None:
        counter_id = self.company.counter_id
        r = self.gql(who, "counter read", COUNTER_READ % counter_id)
        node = (r.json().get("data") or {}).get("node") if r.status_code == 200 else None
        if not node:
            return
        n = int(node["notes"] or 0)
        r = self.gql(who, "counter write", COUNTER_WRITE, {
            "id": f"Customer:{counter_id}", "n": str(n + 1), "v": node["version"]})
        if r.status_code == 200:
            p = r.json()["data"]["updateCustomer"]
            with self.lock:
                if p["ok"]:
                    self.increments[who] += 1
                elif [e["code"] for e in p["errors"]] == ["conflict"]:
                    self.conflicts[who] += 1

    def register_complaint(self, i: int, k: int) -> None:
        customers = self.company.complaint_customers
        cid = customers[(i * 7 + k) % len(customers)]
        r = self.gql("service", "complaint write", COMPLAINT,
                     {"c": f"Customer:{cid}", "d": f"负载测试投诉 {i}-{k}"})
        if r.status_code == 200:
            p = r.json()["data"]["registerComplaint"]
            if p["ok"]:
                with self.lock:
                    self.numbers.append(p["result"]["number"])

    def worker(self, i: int) -> None:
        reads = {
            4: lambda: self.gql("gm", "graphql read", "{ customers(first: 50) { totalCount "
                                "nodes { name owner { username } } } }"),
            5: lambda: self.gql("auditor", "graphql read", "{ auditEntries(first: 20) { "
                                "totalCount nodes { action outcome } } }"),
            6: lambda: self.portal_users[self.company.sales2].get("/admin/customer/"),
            7: lambda: self.portal_users[self.company.service_name].get("/admin/complaint/"),
        }
        k = 0
        while time.time() < self.stop:
            k += 1
            step = (i + k) % 8
            if step in (0, 1):
                self.increment("sales1" if step == 0 else "supervisor")
            elif step == 2:
                self.register_complaint(i, k)
            elif step == 3:
                self.gql("reception", "reception write", RECEPTION, {"n": f"访客{i}-{k}"})
            else:
                reads[step]()


def lockout_holds(base: str, username: str, stats: Stats) -> bool:
    """Every request is a new connection (any worker): 5 wrong passwords, then the right
    one is refused."""
    b = Browser(base, stats)
    for _ in range(5):
        b.login(username, "wrong-password")
    return b.login(username).status_code != 302


def rate_limit_probe(base: str, stats: Stats) -> tuple[int | None, int, bool]:
    """The per-address rate limit across workers (20 per minute in the configuration):
    the attempt that first got 429, the login POSTs made before in this minute, and whether
    the limit held."""
    first_429 = None
    used_before = stats.kinds["login"]  # login POSTs already counted in this minute
    probe = Browser(base, stats)
    page = probe.get("/login", "login page")
    form = {"username": "nobody", "password": "x",
            "csrf_token": Browser._TOKEN.search(page.text).group(1)}
    for attempt in range(1, 81):
        r = probe._send("POST", "/login", "rate limit probe", data=form)
        if r.status_code == 429:
            first_429 = attempt
            break
    limit_ok = first_429 is not None and first_429 + used_before <= 21  # 20 per minute
    if first_429 is not None:
        after = [probe._send("POST", "/login", "rate limit probe", data=form).status_code
                 for _ in range(6)]
        limit_ok = limit_ok and all(s == 429 for s in after)
    return first_429, used_before, limit_ok


def audit_verify(env: dict[str, str]) -> str | None:
    verify = subprocess.run([str(VENV / "flask"), "--app", "wsgi", "portal",
                             "audit-verify"], cwd=ROOT, env=env, capture_output=True,
                            text=True)
    if verify.returncode != 0:
        return f"audit-verify failed: {verify.stdout[-300:]}{verify.stderr[-300:]}"
    return None


def complaint_numbers_and_counter(db_url: str, counter_id: int
                                  ) -> tuple[list[str], str | None]:
    """Every complaint number, and the counter kept in the customer's notes."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(make_url(db_url))
    with engine.connect() as conn:
        all_numbers = [r[0] for r in conn.execute(text(
            "SELECT number FROM complaints ORDER BY number"))]
        final = conn.execute(text("SELECT notes FROM customers WHERE id = :i"),
                             {"i": counter_id}).scalar_one()
    engine.dispose()
    return all_numbers, final


def gap_free(all_numbers: list[str], registered: list[str]) -> tuple[bool, dict]:
    """Numbers are unique, gap-free per month and exactly those the load registered."""
    by_period: dict[str, list[int]] = {}
    for num in all_numbers:
        by_period.setdefault(num[:4], []).append(int(num[4:]))
    gapless = all(sorted(v) == list(range(1, len(v) + 1)) for v in by_period.values())
    ok = gapless and len(set(all_numbers)) == len(all_numbers) \
        and sorted(registered) == sorted(all_numbers)
    return ok, by_period


def five_hundreds(stats: Stats) -> int:
    return sum(n for s, n in stats.status.items() if s >= 500)


def summary_line(s: dict) -> str:
    delivered = s["outbox"]
    return (
        f"{s['requests']} requests {s['5xx']} 5xx | lockout "
        f"{'holds' if s['lockout_holds'] else 'BROKEN'} | rate limit 429 at attempt "
        f"{s['rate_limit_first_429']} (+{s['logins_before_probe']} earlier) | audit chain "
        f"{'verified' if s['audit_verify'] else 'BROKEN'} | complaints {s['complaints']} "
        f"{'gap-free' if s['gap_free'] else 'WITH GAPS'} | counter {s['counter_final']} = "
        f"{s['increments']} increments, {s['conflicts']} conflicts detected | import dry run "
        f"→ confirm on the other server {'ok' if s['import_across_servers'] else 'FAILED'} | "
        f"backup restored {'and verified' if s['backup_restored'] else 'FAILED'} "
        f"({s['restored']}) | outbox with a server "
        f"killed: {delivered.get('committed')} escalations committed, "
        f"{delivered.get('outbox')} queued → {delivered.get('mails')} e-mails "
        f"+ {delivered.get('webhooks')} webhooks "
        f"({delivered.get('refused_by_killed_server')} requests refused by the killed "
        f"server), "
        f"{'exactly once' if s['outbox_exactly_once'] else 'NOT exactly once'}")


def check(services: Services, work: Path, failures: list[str]) -> dict:
    """Every phase in order; a failed check is appended to ``failures``. Returns the
    summary figures."""
    t0 = time.time()
    admin_url = services.start_postgres()
    redis_url = services.start_redis()
    db_url = create_database(admin_url)
    env = production_env(db_url, redis_url, work)
    company = build_company(env)

    base = services.start_gunicorn(env)
    second = services.start_gunicorn(env, "gunicorn-2.log")
    log(f"services up in {time.time() - t0:.1f}s: two app servers (gunicorn {WORKERS} "
        f"workers at {base}, {second}), PostgreSQL, Redis")
    stats = Stats()

    # portal sessions (3 logins: well under the 20/min per-address limit)
    portal_users = {}
    for name in (company.sales2, company.service_name):
        b = Browser(base, stats)
        r = b.login(name)
        if r.status_code != 302:
            failures.append(f"login of {name} answered {r.status_code}")
        portal_users[name] = b

    load = Load(base, company, portal_users, stats)
    load.run()
    total = sum(stats.status.values())
    log(f"load: {total} requests in {SECONDS}s from {THREADS} threads "
        f"({dict(stats.kinds)})")

    # several servers: a dry run on one, the confirmation on the other (before the
    # rate-limit probe uses up the sign-ins of this address)
    import_problem = import_across_servers(base, second, company.sales2, stats, db_url)
    lockout_ok = lockout_holds(base, company.lock_user, stats)
    first_429, used_before, limit_ok = rate_limit_probe(base, stats)
    n5xx = five_hundreds(stats)
    audit_problem = audit_verify(env)
    all_numbers, final = complaint_numbers_and_counter(db_url, company.counter_id)
    numbers_ok, by_period = gap_free(all_numbers, load.numbers)
    successes = sum(load.increments.values())
    backup_problem, restored = backup_and_restore(env, admin_url, work)
    # notifications leave the building exactly once, one app server killed mid-run
    outbox_problem, delivered = outbox_phase(services, [base, second], company.tokens["service"],
                                             company.complaint_customers, env, db_url, stats)
    failures.extend(p for p in (
        import_problem,
        None if lockout_ok else "lockout: the right password logged in after 5 failures",
        None if limit_ok else (f"rate limit: first 429 at attempt {first_429} "
                               f"(+{used_before} earlier logins); per-process stores would "
                               "allow ~3x20"),
        f"{n5xx} responses were 5xx: {stats.errors[:3]}" if n5xx else None,
        audit_problem,
        None if numbers_ok else f"complaint numbers not gap-free/unique: {by_period}",
        None if int(final or 0) == successes else (f"lost update: counter {final}, "
                                                   f"{successes} successful increments"),
        backup_problem,
        outbox_problem,
    ) if p)
    n5xx = five_hundreds(stats)
    if n5xx and not any("5xx" in f for f in failures):
        failures.append(f"{n5xx} responses were 5xx: {stats.errors[:3]}")
    return {
        "requests": total, "5xx": n5xx, "status": dict(stats.status),
        "lockout_holds": lockout_ok, "rate_limit_first_429": first_429,
        "logins_before_probe": used_before,
        "audit_verify": audit_problem is None, "complaints": len(all_numbers),
        "gap_free": numbers_ok, "increments": successes,
        "conflicts": sum(load.conflicts.values()),
        "counter_final": final, "seconds": SECONDS, "workers": WORKERS,
        "app_servers": 2, "import_across_servers": import_problem is None,
        "backup_restored": backup_problem is None,
        "restored": restored, "outbox_exactly_once": outbox_problem is None,
        "outbox": delivered,
    }


def main() -> int:
    if os.environ.get("MULTIPROC_CHECK") != "1":
        log("skipped (set MULTIPROC_CHECK=1 to run)")
        return 0
    work = Path(tempfile.mkdtemp(prefix="multiproc."))
    services = Services(work)
    failures: list[str] = []
    try:
        summary = check(services, work, failures)
        out = os.environ.get("MULTIPROC_SUMMARY_FILE")
        if out:
            Path(out).write_text(json.dumps(summary, indent=2))
        log(summary_line(summary))
        if failures:
            for f in failures:
                log("FAILED: " + f)
            tail = (work / "gunicorn.log").read_text(errors="replace")[-2000:] + \
                (work / "gunicorn-2.log").read_text(errors="replace")[-1000:]
            print(tail, file=sys.stderr)
            return 1
        return 0
    finally:
        services.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
