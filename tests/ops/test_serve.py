"""The production server command (issue 20): ``flask --app wsgi portal serve`` runs gunicorn with
several workers; /metrics adds up all workers; behind a proxy (``PROXY_COUNT=1``) the client
address comes from X-Forwarded-For, so the audit log and the per-address rate limit see the
real client."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, select

from models import AuditEntry

ROOT = Path(__file__).resolve().parents[2]
FLASK = Path(sys.executable).parent / "flask"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(database_url, tmp_path):
    pytest.importorskip("gunicorn")
    port = _free_port()
    env = {**os.environ, "PORTAL_CONFIG": "production", "DATABASE_URL": database_url,
           "SECRET_KEY": "serve-test-secret-key-1234", "AUDIT_HMAC_KEY": "serve-test-audit-key",
           "STORAGE_PATH": str(tmp_path / "storage"), "METRICS_TOKEN": "t0ken",
           "PROXY_COUNT": "1", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    (tmp_path / "metrics").mkdir()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(FLASK), "--app", "wsgi", "portal", "serve", "--bind",
                             f"127.0.0.1:{port}", "--workers", "2"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start:\n" + (tmp_path / "serve.log").read_text())
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_serve_runs_workers_that_add_up_in_metrics_and_see_the_forwarded_client(
        server, database_url):
    assert requests.get(f"{server}/readyz", timeout=5).json()["status"] == "ok"
    seen = set()
    with requests.Session() as http:
        for _ in range(30):       # spread over both workers by the kernel
            resp = http.get(f"{server}/login", timeout=5)
            assert resp.status_code == 200
            seen.add(resp.headers["X-Request-Id"])
    assert len(seen) == 30, "a request id was reused: requests share an application context"
    # a failed sign-in from a client behind the proxy
    page = requests.get(f"{server}/login", timeout=5)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "the login form has a CSRF token"
    # production cookies are Secure: the proxy terminates TLS and says so
    cookie = "; ".join(f"{c.name}={c.value}" for c in page.cookies)
    resp = requests.post(f"{server}/login", timeout=5,
                         headers={"X-Forwarded-For": "203.0.113.7", "Cookie": cookie,
                                  "X-Forwarded-Proto": "https",
                                  "Referer": server.replace("http:", "https:") + "/login"},
                         data={"username": "nobody", "password": "wrong-password",
                               "csrf_token": token.group(1)})
    assert resp.status_code == 401
    # nothing of an earlier request (``g``) carries over into this one
    assert resp.headers.get("X-Request-Id") not in seen
    metrics = requests.get(f"{server}/metrics", timeout=5,
                           headers={"Authorization": "Bearer t0ken"}).text
    served = sum(float(v) for v in re.findall(
        r'portal_http_requests_total\{[^}]*route="/login"[^}]*status="200"[^}]*\} ([0-9.e+]+)',
        metrics))
    assert served >= 31, metrics[:2000]
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            addrs = conn.scalars(select(AuditEntry.remote_addr).where(
                AuditEntry.action == "auth.login")).all()
    finally:
        engine.dispose()
    assert "203.0.113.7" in addrs, addrs
