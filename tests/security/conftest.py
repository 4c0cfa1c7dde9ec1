"""Fixtures of the security campaign (security.md) and the plugin that prints its figures.

Fixtures: ``fingerprint()`` (every row of every table, audit log excluded), ``storage_print()``
(the storage folder), ``audit_mark()`` / ``audit_since(mark)``, ``clients[role]`` (one
logged-in test client per role), ``no_5xx(resp)`` (counts a response, fails on any 5xx),
``unchanged()`` (a context manager asserting that nothing but the audit log changed).

The plugin part (``pytest_sessionfinish`` / ``pytest_terminal_summary``) writes the counters of
``tests/security/campaign.py`` to ``CAMPAIGN_SUMMARY_FILE`` (default
``<basetemp>/campaign.json``) and prints one line: ``campaign: authz … | bad input … | …``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security import campaign

ROLES = ("sales", "supervisor", "dept_manager", "general_manager", "finance", "service",
         "reception", "auditor", "sysadmin", "secadmin", "secauditor")


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture
def fingerprint(session):
    def _fp(exclude: frozenset[str] = frozenset()) -> str:
        return campaign.db_fingerprint(session, exclude)
    return _fp


@pytest.fixture
def storage_print(app):
    def _sp() -> str:
        return campaign.storage_fingerprint(app.config["STORAGE_PATH"])
    return _sp


@pytest.fixture
def audit_mark(session):
    return lambda: campaign.audit_mark(session)


@pytest.fixture
def audit_since(session):
    return lambda mark: campaign.audit_since(session, mark)


@pytest.fixture
def no_5xx():
    return campaign.check_response


@pytest.fixture
def clients(world, login):
    """``clients[role]`` → a test client logged in as ``world.roles[role]`` (cached)."""

    class _Clients(dict):
        def __missing__(self, role: str) -> Any:
            c = login(world.roles[role])
            self[role] = c
            return c

    return _Clients()


@pytest.fixture
def unchanged(session, app):
    """``with unchanged(): …`` fails if any row (audit log excluded) or stored file changed.
    ``with unchanged(denied=1): …`` also wants exactly that many new 'denied' audit entries."""

    @contextlib.contextmanager
    def _unchanged(denied: int | None = None, exclude: frozenset[str] = frozenset()
                   ) -> Iterator[None]:
        before_db = campaign.table_prints(session, exclude)
        before_files = campaign.storage_fingerprint(app.config["STORAGE_PATH"])
        mark = campaign.audit_mark(session)
        yield
        changed = campaign.changed_tables(before_db, campaign.table_prints(session, exclude))
        assert not changed, f"rows changed in {changed}"
        assert campaign.storage_fingerprint(app.config["STORAGE_PATH"]) == before_files, \
            "stored files changed"
        if denied is not None:
            entries = [e for e in campaign.audit_since(session, mark) if e.outcome == "denied"]
            assert len(entries) == denied, [(e.action, e.detail) for e in entries]

    return _unchanged


# ------------------------------------------------------------------------------ plugin


def _summary_path(config: pytest.Config) -> Path:
    env = os.environ.get("CAMPAIGN_SUMMARY_FILE")
    if env:
        return Path(env)
    factory = getattr(config, "_tmp_path_factory", None)
    base = factory.getbasetemp() if factory is not None else Path("/tmp")
    return Path(base) / "campaign.json"


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # Registered by every campaign conftest (security, reliability): run once.
    if getattr(session.config, "_campaign_summary_path", None) is not None:
        return
    campaign.pip_audit_from_env()
    try:
        path = _summary_path(session.config)
        campaign.write_summary(path)
        session.config._campaign_summary_path = path  # type: ignore[attr-defined]
    except OSError:
        pass


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if getattr(config, "_campaign_printed", False):
        return
    config._campaign_printed = True  # type: ignore[attr-defined]
    terminalreporter.write_line("campaign: " + campaign.summary_line())
    path = getattr(config, "_campaign_summary_path", None)
    if path is not None:
        terminalreporter.write_line(f"campaign figures written to {path}")
