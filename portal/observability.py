"""What an operator sees: one log line per request, Prometheus metrics, liveness and readiness.

- **Logs.** ``LOG_FORMAT=json`` (the production default) writes one JSON object per line: every
  log record, and one ``request`` line per request with the request id, user id, method, route
  (the URL rule, not the raw path, so ids do not explode the cardinality), status, duration and
  the number of SQL statements. ``LOG_FORMAT=text`` (development) writes the same readably.
- **Metrics.** ``GET /metrics`` in the Prometheus text format, only with
  ``Authorization: Bearer $METRICS_TOKEN`` (404 when no token is configured, 403 with a wrong
  one; put it behind a network rule as well). Under gunicorn with several workers set
  ``PROMETHEUS_MULTIPROC_DIR`` to an empty folder (see docs/deployment.md) so the figures of
  all workers add up.
- **Health.** ``/healthz`` is liveness (the process answers; no dependency is touched, so a
  database outage does not make the orchestrator restart every app server); ``/readyz`` is
  readiness (database, file store and Redis reachable; 503 with the failing part otherwise).
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from flask import Flask, Response, g, has_request_context, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from portal import audit
from portal.extensions import db

log = logging.getLogger("portal.request")

# Request latencies of a portal: most answers within tens of milliseconds, exports longer.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

REQUESTS = Counter("portal_http_requests_total", "HTTP requests answered",
                   ["route", "method", "status"])
LATENCY = Histogram("portal_http_request_duration_seconds", "Time to answer a request",
                    ["route"], buckets=_BUCKETS)
SERVER_ERRORS = Counter("portal_http_server_errors_total", "Answers with a 5xx status", ["route"])
SQL_STATEMENTS = Histogram("portal_sql_statements_per_request", "SQL statements per request",
                           buckets=(1, 2, 4, 8, 16, 32, 64, 128))
AUDIT_APPEND = Histogram("portal_audit_append_seconds", "Time to append one audit entry",
                         buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5))
LOGIN_FAILURES = Counter("portal_login_failures_total", "Refused sign-in attempts")
AUDIT_DENIED = Counter("portal_audit_denied_total", "Refused attempts recorded in the audit log",
                       ["action"])


# ------------------------------------------------------------------------------ logging

class JsonFormatter(logging.Formatter):
    """One JSON object per line; the request fields of a ``request`` line become keys."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if fields:
            data.update(fields)
        elif has_request_context():
            data["request_id"] = g.get("request_id")
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items() if k != "event")
        return line


def configure_logging(app: Flask) -> None:
    fmt = (app.config.get("LOG_FORMAT") or "text").lower()
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "_portal", False):
            root.removeHandler(old)
    handler._portal = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(app.config.get("LOG_LEVEL") or logging.INFO)


# ------------------------------------------------------------------------------ per request

@event.listens_for(Engine, "before_cursor_execute")
def _count_statement(conn, cursor, statement, parameters, context, executemany) -> None:
    if has_request_context():
        g._sql_statements = g.get("_sql_statements", 0) + 1


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "<unmatched>"


def _user_id() -> int | None:
    user = g.get("_login_user")
    return getattr(user, "id", None) if user is not None and user.is_authenticated else None


def _observe_audit(entry: Any, seconds: float) -> None:
    AUDIT_APPEND.observe(seconds)
    if entry.outcome != "ok":
        AUDIT_DENIED.labels(entry.action).inc()
        if entry.action.startswith("auth.login"):
            LOGIN_FAILURES.inc()


def _record_request(response: Response) -> Response:
    started = g.get("_started")
    if started is None:
        return response
    duration = time.perf_counter() - started
    route = _route()
    statements = g.get("_sql_statements", 0)
    REQUESTS.labels(route, request.method, str(response.status_code)).inc()
    LATENCY.labels(route).observe(duration)
    SQL_STATEMENTS.observe(statements)
    if response.status_code >= 500:
        SERVER_ERRORS.labels(route).inc()
    if route not in ("/healthz", "/readyz", "/metrics") or response.status_code >= 400:
        log.info("%s %s %s", request.method, route, response.status_code, extra={"fields": {
            "event": "request", "request_id": g.get("request_id"), "user_id": _user_id(),
            "method": request.method, "route": route, "status": response.status_code,
            "duration_ms": round(duration * 1000, 1), "sql_statements": statements}})
    return response


# ------------------------------------------------------------------------------ metrics

class _ScrapeTimeCollector:
    """Figures read when Prometheus scrapes: the connection pool of this process and the
    outbox backlog (one COUNT, only on scrape)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self):
        with self.app.app_context():
            pool = db.engine.pool
            for name, reader in (("checked_out", "checkedout"), ("size", "size"),
                                 ("overflow", "overflow")):
                fn = getattr(pool, reader, None)
                if callable(fn):
                    gauge = GaugeMetricFamily(f"portal_db_pool_{name}",
                                              f"Database connection pool: {name}")
                    gauge.add_metric([], float(fn()))
                    yield gauge
            backlog = outbox_backlog()
            if backlog is not None:
                for state, count in backlog.items():
                    gauge = GaugeMetricFamily("portal_outbox_messages",
                                              "Outbox messages by state", labels=["state"])
                    gauge.add_metric([state], float(count))
                    yield gauge


def outbox_backlog() -> dict[str, int] | None:
    """Messages waiting, failed (to be retried) and dead, when the outbox exists."""
    try:
        from portal.services import outbox
    except ImportError:  # pragma: no cover - before the outbox existed
        return None
    try:
        return outbox.backlog(db.session)
    finally:
        db.session.remove()


def exposition(app: Flask) -> bytes:
    """The process-wide metrics (all workers' under PROMETHEUS_MULTIPROC_DIR) followed by the
    figures read at scrape time; the text format allows the two blocks side by side."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        base = CollectorRegistry()
        multiprocess.MultiProcessCollector(base)
    else:
        from prometheus_client import REGISTRY as base
    scraped = CollectorRegistry()
    scraped.register(_ScrapeTimeCollector(app))
    return generate_latest(base) + generate_latest(scraped)


# ------------------------------------------------------------------------------ health

def _check_database() -> str | None:
    try:
        db.session.execute(text("SELECT 1"))
        return None
    except Exception as exc:
        db.session.rollback()
        return type(exc).__name__


def _check_storage() -> str | None:
    from portal import storage

    try:
        store = storage.current()
        root = getattr(store, "root", None)
        if root is not None:
            # the folder appears with the first upload; until then its parent must take it
            existing = next((p for p in (root, *root.parents) if p.exists()), None)
            if existing is None or not os.access(existing, os.W_OK):
                return "not writable"
        else:
            store.exists("0" * 64)
        return None
    except Exception as exc:
        return type(exc).__name__


def _check_redis(app: Flask) -> str | None:
    uri = app.config.get("RATELIMIT_STORAGE_URI") or ""
    if not uri.startswith(("redis://", "rediss://")):
        return None
    try:
        import redis

        redis.Redis.from_url(uri, socket_connect_timeout=1, socket_timeout=1).ping()
        return None
    except Exception as exc:
        return type(exc).__name__


def init_app(app: Flask) -> None:
    if not app.testing:
        configure_logging(app)
    if _observe_audit not in audit.append_observers:
        audit.append_observers.append(_observe_audit)

    @app.before_request
    def _start_clock() -> None:
        g._started = time.perf_counter()
        g._sql_statements = 0

    app.after_request(_record_request)

    @app.route("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.route("/readyz")
    def readyz():
        checks = {"database": _check_database(), "storage": _check_storage(),
                  "redis": _check_redis(app)}
        body = {name: ("ok" if problem is None else f"unavailable ({problem})")
                for name, problem in checks.items()}
        if any(checks.values()):
            return jsonify(status="unavailable", **body), 503
        return jsonify(status="ok", **body)

    @app.route("/metrics")
    def metrics():
        token = app.config.get("METRICS_TOKEN")
        if not token:
            return jsonify(errors=[{"message": "Not found."}]), 404
        import hmac

        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), str(token).encode()):
            return jsonify(errors=[{"message": "Forbidden."}]), 403
        return Response(exposition(app), mimetype=CONTENT_TYPE_LATEST)
