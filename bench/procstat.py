"""CPU time of processes and PostgreSQL backends from /proc, and statements from the
PostgreSQL server log (``log_line_prefix`` with ``[%p]``), for bench.cpuprobe and bench.httpbench."""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any

from sqlalchemy import text

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """user + system CPU of a process (all its threads), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def backends(admin: Any, db: str) -> list[int]:
    with admin.connect() as conn:
        return [r[0] for r in conn.execute(text(
            "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"), {"d": db})]


_LOGGED = re.compile(r"\[(\d+)\] LOG:  (statement|execute [^:]*): ?(.*)")


def count_statements(log: Path, offset: int, pids: set[int]) -> list[str]:
    with log.open("rb") as f:
        f.seek(offset)
        lines = f.read().decode("utf-8", "replace").splitlines()
    out = []
    for line in lines:
        m = _LOGGED.search(line)
        if m and int(m.group(1)) in pids:
            out.append(m.group(3)[:60])
    return out
