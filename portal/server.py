"""``flask --app wsgi portal serve``: gunicorn with defaults that suit this app.

- sync workers, ``2 × cores + 1`` (at most 16): the app is CPU-bound Python over a database
  connection per worker; each worker holds its own pool;
- ``timeout`` 120 s (streamed exports), graceful shutdown 30 s, keep-alive 5 s behind a proxy;
- workers are recycled after 1,000 (± 100) requests to keep memory flat;
- forwarded headers: gunicorn trusts ``X-Forwarded-Proto`` only from ``FORWARDED_ALLOW_IPS``
  (default 127.0.0.1, the local nginx); the app itself takes the client address from
  ``X-Forwarded-For`` only when ``PROXY_COUNT`` says how many proxies are in front
  (portal/__init__.py applies Werkzeug's ProxyFix) — the address matters for the per-address
  rate limit and the audit log;
- with ``METRICS_TOKEN`` set, a fresh ``PROMETHEUS_MULTIPROC_DIR`` is prepared so /metrics adds
  up every worker's figures.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import tempfile
from typing import Any


class ServerError(Exception):
    pass


def default_workers() -> int:
    return min(2 * (os.cpu_count() or 1) + 1, 16)


def gunicorn_options(bind: str, workers: int | None, timeout: int) -> dict[str, Any]:
    return {
        "bind": bind,
        "workers": workers or default_workers(),
        "worker_class": "sync",
        "timeout": timeout,
        "graceful_timeout": 30,
        "keepalive": 5,
        "max_requests": 1000,
        "max_requests_jitter": 100,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        "accesslog": None,          # the app logs one line per request itself (observability)
        "errorlog": "-",
        "preload_app": False,
        # gunicorn ≥ 27 opens a control socket at one path per user; two instances on a host
        # (or a test beside a running server) would fight over it. Not needed to run the app.
        "control_socket_disable": True,
    }


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def serve(bind: str, workers: int | None, timeout: int) -> None:
    try:
        from gunicorn.app.base import BaseApplication
    except ImportError as exc:
        raise ServerError("gunicorn is not installed; install the 'prod' extra") from exc

    options = gunicorn_options(bind, workers, timeout)
    if os.environ.get("METRICS_TOKEN") and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = tempfile.mkdtemp(prefix="portal-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        options["child_exit"] = _child_exit
    elif os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        for entry in os.listdir(folder):       # stale files of an earlier run
            path = os.path.join(folder, entry)
            shutil.rmtree(path) if os.path.isdir(path) else os.unlink(path)
        options["child_exit"] = _child_exit

    class PortalApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                if value is not None and key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> Any:
            from wsgi import app

            return app

    # Workers fork from this process. The Flask CLI has pushed an application context for its
    # command; inherited, it would be shared by every request of a worker, and ``g`` (the
    # request id, the signed-in user) would carry over from one request to the next. Gunicorn
    # therefore runs in a fresh, empty context-variable context.
    contextvars.Context().run(PortalApplication().run)
