"""``flask --app wsgi portal tick``: the scheduled command (cron, every few minutes).

It records the events that time decides — overdue complaint reminders, major-complaint
escalations, void cards, expired ownerships, credit reviews due, monthly usage reviews,
declassifications — by calling ``tick(session, now)`` of every service module that has one.
State itself is derived at read time; this command only records events and notifications.

Idempotent: every event is keyed (``Notification.dedupe_key``, unique rows), so a second run,
or two runs at the same time, record nothing twice. On PostgreSQL an advisory lock also lets a
run that overlaps a running one skip instead of queueing behind it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
from flask import current_app
from sqlalchemy import text
from sqlalchemy.orm import Session

from portal import clock
from portal.cli import friendly_errors, portal_cli
from portal.extensions import db

TICK_MODULES = ("customers", "complaints", "credit", "files", "import_staging", "worklist")
ADVISORY_LOCK_KEY = 0x6B65_7469_636B  # "ketick": any constant shared by all runs


def tick_functions() -> list[tuple[str, Callable[[Session, datetime], dict[str, int]]]]:
    """``(name, tick)`` for every service module that exists and defines ``tick``."""
    found = []
    for name in TICK_MODULES:
        try:
            module = importlib.import_module(f"portal.services.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"portal.services.{name}":
                raise
            continue
        fn = getattr(module, "tick", None)
        if callable(fn):
            found.append((name, fn))
    return found


def run_all(session: Session, now: datetime) -> dict[str, dict[str, int]]:
    """Run every area's tick; each commits its own work. One area failing does not stop the
    others: its error is reported under the key ``error``."""
    results: dict[str, dict[str, Any]] = {}
    for name, fn in tick_functions():
        try:
            results[name] = dict(fn(session, now) or {})
            session.commit()
        except Exception as exc:
            session.rollback()
            results[name] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    return results


def _try_lock(session: Session) -> Any:
    """PostgreSQL: a session advisory lock on a dedicated connection; None elsewhere."""
    engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        return None
    conn = engine.connect()
    got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}).scalar()
    if not got:
        conn.close()
        return False
    return conn


@portal_cli.command("tick")
@click.option("--at", "at", default=None,
              help="Pretend it is this moment (ISO 8601, UTC if no zone); for testing.")
@friendly_errors
def tick_command(at: str | None) -> None:
    """Record time-driven events (reminders, void cards, reviews due…); safe to repeat."""
    now = clock.now()
    if at:
        try:
            now = datetime.fromisoformat(at)
        except ValueError:
            click.echo(f"error: --at {at!r} is not an ISO 8601 date-time", err=True)
            sys.exit(2)
        if now.tzinfo is None:
            now = now.replace(tzinfo=UTC)
    session = db.session
    lock = _try_lock(session)
    if lock is False:
        click.echo("another tick is running; nothing to do")
        return
    try:
        with clock.frozen(now):
            results = run_all(session, now)
    finally:
        if lock is not None:
            lock.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
            lock.close()
    # then deliver what the areas (and every service since the last run) queued
    try:
        from portal.outbox_web import send_pending

        results["outbox"] = send_pending(current_app, now=now).as_dict()
    except Exception as exc:
        session.rollback()
        results["outbox"] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
    failed = False
    for name, counts in results.items():
        if "error" in counts:
            failed = True
            click.echo(f"{name}: ERROR {counts['error']}", err=True)
            continue
        summary = ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing"
        click.echo(f"{name}: {summary}")
    if not results:
        click.echo("no area has a tick")
    if failed:
        sys.exit(1)
