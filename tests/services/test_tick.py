"""The scheduled command ``flask --app wsgi portal tick``: runs every area's tick, prints the
counts, records nothing twice — also when two runs overlap."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from models import ComplaintReminder, User
from portal import clock
from portal.cli_tick import ADVISORY_LOCK_KEY, run_all, tick_functions
from portal.services import complaints, credit
from tests.conftest import ON_POSTGRES

MONDAY = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)
LATER = MONDAY + timedelta(hours=30)


def _overdue_inquiry(session, world):
    with clock.frozen(MONDAY):
        return complaints.register_complaint(session, world.service, {
            "customer_id": world.customers["sales1"][0].id, "channel": "phone",
            "type": "inquiry", "cause": "other", "description": "发票何时寄出"})


def _reminders(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count(ComplaintReminder.id)))


def test_tick_finds_every_area_that_has_a_tick():
    names = [name for name, _ in tick_functions()]
    assert "complaints" in names and "credit" in names
    assert names == [n for n in ("customers", "complaints", "credit", "files", "import_staging",
                                 "worklist") if n in names]


def test_R_COMP_7_tick_command_prints_counts_and_is_idempotent(app, session, world):
    _overdue_inquiry(session, world)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["portal", "tick", "--at", LATER.isoformat()])
    assert first.exit_code == 0, first.output
    assert "complaints: escalations=0, reminders=1, " in first.output
    assert "transfer_suggestions=0" in first.output
    assert "credit: " in first.output
    second = runner.invoke(args=["portal", "tick", "--at", (LATER + timedelta(minutes=5))
                                 .isoformat()])
    assert second.exit_code == 0, second.output
    assert "reminders=0" in second.output
    assert _reminders(session) == 1


def test_tick_command_rejects_a_bad_time(app):
    result = app.test_cli_runner().invoke(args=["portal", "tick", "--at", "tomorrow"])
    assert result.exit_code == 2 and "ISO 8601" in result.output


def test_tick_one_failing_area_does_not_stop_the_others(app, session, world, monkeypatch):
    _overdue_inquiry(session, world)

    def broken(session, now):
        raise RuntimeError("disk full")

    monkeypatch.setattr(credit, "tick", broken)
    results = run_all(session, LATER)
    assert results["credit"] == {"error": "RuntimeError: disk full"}
    assert results["complaints"]["reminders"] == 1


def _parallel_runs(app, n: int) -> list[dict]:
    from portal.extensions import db

    engine = create_engine(db.engine.url.render_as_string(hide_password=False),
                           poolclass=NullPool)
    results: list[dict] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run() -> None:
        try:
            with app.app_context(), Session(engine) as s:
                barrier.wait(timeout=30)
                results.append(run_all(s, LATER))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    engine.dispose()
    assert not errors, errors
    return results


def test_R_COMP_7_two_ticks_at_once_record_each_event_once(app, session, world):
    _overdue_inquiry(session, world)
    results = _parallel_runs(app, 2)
    assert all("error" not in r["complaints"] for r in results), results
    assert sum(r["complaints"]["reminders"] for r in results) == 1
    assert _reminders(session) == 1


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="advisory locks are PostgreSQL's")
def test_tick_command_skips_while_another_run_holds_the_lock(app, session, world):
    from portal.extensions import db

    _overdue_inquiry(session, world)
    with db.engine.connect() as holder:
        holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY})
        result = app.test_cli_runner().invoke(args=["portal", "tick", "--at",
                                                    LATER.isoformat()])
        holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY})
    assert result.exit_code == 0 and "another tick is running" in result.output
    assert _reminders(session) == 0
    assert session.get(User, world.service.id) is not None
