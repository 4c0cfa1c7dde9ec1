"""A throwaway PostgreSQL cluster for the benchmark (Debian's postgresql packages).

The cluster lives in ``<work>/pgdata`` (``bench/.work`` unless ``--work``; ignored by git), listens on loopback only and is
stopped when the benchmark ends. As root, initdb and pg_ctl run as the ``postgres`` user."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

from bench.appdb import work_dir


def _find_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def ensure_installed() -> None:
    """Install Debian's postgresql when no pg_ctl is found (root only)."""
    if _find_bin("pg_ctl") and _find_bin("initdb"):
        return
    if os.geteuid() != 0:
        raise RuntimeError("PostgreSQL is not installed (no pg_ctl); install Debian's "
                           "postgresql package or pass --database-url")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """initdb + pg_ctl start on a free loopback port; ``stop()`` shuts it down."""

    def __init__(self, datadir: Path | None = None) -> None:
        self.datadir = datadir or work_dir() / "pgdata"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        self.superuser = "postgres" if self.as_postgres else os.environ.get("USER", "postgres")
        self.started = False

    def _run(self, argv: list[str], **kw) -> subprocess.CompletedProcess:
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)

    def start(self, reuse: bool = False) -> None:
        """initdb a fresh cluster; with ``reuse``, start the one kept in ``datadir`` instead
        (its generated databases survive between runs: ``python -m bench --reuse``)."""
        ensure_installed()
        if reuse and (self.datadir / "PG_VERSION").exists():
            self._stop_stale()
            ports = re.findall(r"^port = (\d+)", (self.datadir / "postgresql.conf").read_text(),
                               re.M)
            if ports:
                self.port = int(ports[-1])
                self._start_server()
                return
        if self.datadir.exists():
            self._stop_stale()
            shutil.rmtree(self.datadir)
        self.datadir.parent.mkdir(parents=True, exist_ok=True)
        self.datadir.mkdir()
        if self.as_postgres:
            shutil.chown(self.datadir, "postgres", "postgres")
        self._run([_find_bin("initdb"), "-D", str(self.datadir), "-U", self.superuser,
                   "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"])
        conf = self.datadir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(f"""
listen_addresses = '127.0.0.1'
port = {self.port}
unix_socket_directories = '{self.datadir}'
max_connections = 100
shared_buffers = 1GB
effective_cache_size = 8GB
work_mem = 32MB
maintenance_work_mem = 1GB
fsync = off
synchronous_commit = off
full_page_writes = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 8GB
checkpoint_timeout = 30min
autovacuum = on
jit = off
""")
        self._start_server()

    def _start_server(self) -> None:
        self._run([_find_bin("pg_ctl"), "-D", str(self.datadir), "-l",
                   str(self.datadir / "server.log"), "-w", "-t", "60", "start"])
        self.started = True
        for _ in range(50):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)

    def _stop_stale(self) -> None:
        if (self.datadir / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.CalledProcessError):
                self._run([_find_bin("pg_ctl"), "-D", str(self.datadir), "-m", "immediate",
                           "stop"])

    def stop(self) -> None:
        if self.started:
            try:
                self._run([_find_bin("pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w",
                           "stop"])
            finally:
                self.started = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.superuser}@127.0.0.1:{self.port}/{database}"

    def version(self) -> str:
        out = subprocess.run([_find_bin("postgres") or "postgres", "--version"],
                             capture_output=True, text=True)
        return out.stdout.strip()
