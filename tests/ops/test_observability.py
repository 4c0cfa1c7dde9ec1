"""Operators can see it (issue 20): one structured log line per request, Prometheus metrics
behind a token, liveness and readiness told apart."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from portal import observability

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def app_overrides() -> dict:
    return {"METRICS_TOKEN": TOKEN}


def _metric(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        m = re.match(rf"{re.escape(name)}(\{{(.*)\}})? ([0-9.e+-]+)$", line)
        if not m:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total


def _scrape(client) -> str:
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200
    assert resp.mimetype == "text/plain"
    return resp.get_data(as_text=True)


def test_healthz_is_liveness_and_readyz_checks_the_database_and_the_store(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "database": "ok", "storage": "ok", "redis": "ok"}


def test_readyz_503_when_redis_is_configured_but_unreachable(app, client):
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["status"] == "unavailable" and body["redis"].startswith("unavailable")
    assert body["database"] == "ok"


def test_metrics_need_the_token(app, client):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    app.config["METRICS_TOKEN"] = None
    assert client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404


def test_metrics_count_requests_per_route_errors_logins_audit_and_the_pool(
        world, login, client):
    before = _scrape(client)
    c = login(world.sales1)
    for _ in range(3):
        assert c.get("/admin/customer/").status_code == 200
    assert c.get("/admin/customer/details/?id=999999").status_code == 404
    bad = client.post("/login", data={"username": world.sales1.username, "password": "wrong"})
    assert bad.status_code == 401
    after = _scrape(client)

    def grew(name: str, **labels: str) -> float:
        return _metric(after, name, **labels) - _metric(before, name, **labels)

    assert grew("portal_http_requests_total", route="/admin/customer/", method="GET",
                status="200") == 3
    assert grew("portal_http_request_duration_seconds_count", route="/admin/customer/") == 3
    assert grew("portal_http_requests_total", route="/admin/customer/details/",
                status="404") == 1
    assert grew("portal_login_failures_total") == 1
    assert grew("portal_audit_append_seconds_count") >= 2     # login ok, login failed, 404 denied
    assert "portal_db_pool_checked_out" in after
    assert "portal_sql_statements_per_request_bucket" in after


def test_one_json_log_line_per_request_with_id_user_route_status_duration_and_sql(
        world, login):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(observability.JsonFormatter())
    logger = logging.getLogger("portal.request")
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        c = login(world.sales1)
        stream.truncate(0)
        stream.seek(0)
        resp = c.get("/admin/customer/", headers={"X-Request-Id": "req-abc-123"})
        assert resp.status_code == 200
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    line = lines[0]
    assert line["event"] == "request"
    assert line["request_id"] == "req-abc-123"
    assert line["user_id"] == world.sales1.id
    assert line["route"] == "/admin/customer/"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["sql_statements"] >= 2
    assert line["level"] == "info" and line["ts"].endswith("Z")


def test_production_logs_are_json_and_development_logs_are_text(database_url, tmp_path):
    from portal import create_app

    prod = create_app("production", SQLALCHEMY_DATABASE_URI=database_url,
                      SECRET_KEY="production-secret-key-123", AUDIT_HMAC_KEY="audit-key-1234",
                      STORAGE_PATH=str(tmp_path / "storage"))
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "_portal", False)]
    assert len(handlers) == 1
    assert isinstance(handlers[0].formatter, observability.JsonFormatter)
    assert prod.config["LOG_FORMAT"] == "json"
    create_app("development", SQLALCHEMY_DATABASE_URI=database_url,
               STORAGE_PATH=str(tmp_path / "storage"))
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "_portal", False)]
    assert len(handlers) == 1
    assert isinstance(handlers[0].formatter, observability.TextFormatter)
    logging.getLogger().removeHandler(handlers[0])
