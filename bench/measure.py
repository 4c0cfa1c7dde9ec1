"""Measurement helpers: statement counting, timing loops, medians of paired ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


class StatementCounter:
    """Counts every statement sent to the database (``before_cursor_execute``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.statements: list[str] = []
        self.keep = False

    def _on(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1
        if self.keep:
            self.statements.append(statement)

    @contextmanager
    def counting(self, keep: bool = False):
        self.count = 0
        self.statements = []
        self.keep = keep
        event.listen(self.engine, "before_cursor_execute", self._on)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._on)


def per_call(fn: Callable[[], Any], min_time: float = 0.25, max_calls: int = 2000) -> float:
    """Seconds per call of ``fn``, looping until ``min_time`` has passed (one warm-up call)."""
    fn()
    calls = 0
    t0 = time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= min_time or calls >= max_calls:
            return elapsed / calls


def paired(fa: Callable[[], Any], fb: Callable[[], Any], runs: int, min_time: float = 0.25
           ) -> dict[str, float]:
    """Interleaved runs of ``fa`` and ``fb``; medians of each time and of the ratio a/b."""
    ta: list[float] = []
    tb: list[float] = []
    ratios: list[float] = []
    for _ in range(runs):
        a = per_call(fa, min_time)
        b = per_call(fb, min_time)
        ta.append(a)
        tb.append(b)
        ratios.append(a / b if b else float("nan"))
    return {"a": median(ta), "b": median(tb), "ratio": median(ratios)}


def ms(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "–"
    return f"{seconds * 1000:.2f}"


def x(ratio: float) -> str:
    if ratio != ratio:
        return "–"
    return f"{ratio:.2f}×"


def interleaved(fns: dict[str, Callable[[], Any]], runs: int, min_time: float = 0.25,
                base: str = "graphql") -> dict[str, Any]:
    """Runs of every ``fns`` entry in turn, ``runs`` times: the median time of each, and the
    median of the per-run ratios ``base`` ÷ each other entry (taken within one run)."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    ratios: dict[str, list[float]] = {k: [] for k in fns if k != base}
    for _ in range(runs):
        now = {k: per_call(fn, min_time) for k, fn in fns.items()}
        for k, t in now.items():
            times[k].append(t)
        for k in ratios:
            ratios[k].append(now[base] / now[k] if now[k] else float("nan"))
    return {"times": {k: median(v) for k, v in times.items()},
            "ratios": {k: median(v) for k, v in ratios.items()}}
