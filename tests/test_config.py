"""Configuration: production refuses to start without its secrets and database, says so in one
line (no traceback), reports an unreachable database in one line, and never loads demo data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Customer, User
from portal import create_app
from portal.config import ConfigError, ProductionConfig

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = {"SECRET_KEY": "s" * 32, "DATABASE_URL": "sqlite://",
            "AUDIT_HMAC_KEY": "audit-key-for-tests"}
GOOD_SECRETS = {"SECRET_KEY": "s" * 32, "AUDIT_HMAC_KEY": "audit-key-for-tests"}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in (*REQUIRED, "PORTAL_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def _flask(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run the real ``flask --app wsgi …`` as an operator would, in a clean environment."""
    base = {k: v for k, v in os.environ.items() if k not in (*REQUIRED, "PORTAL_CONFIG")}
    base.update({"FLASK_APP": "wsgi", "PORTAL_CONFIG": "production", **env})
    return subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT, env=base,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


def _one_line(result: subprocess.CompletedProcess) -> str:
    out = (result.stdout + result.stderr).strip()
    assert "Traceback" not in out, out
    assert len(out.splitlines()) == 1, f"expected one line, got:\n{out}"
    return out


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_production_refuses_to_start_without(missing: str, clean_env: pytest.MonkeyPatch):
    for key, value in REQUIRED.items():
        if key != missing:
            clean_env.setenv(key, value)
    with pytest.raises(ConfigError) as info:
        create_app("production")
    message = str(info.value)
    assert "\n" not in message
    assert missing in message
    assert "refuses to start" in message


def test_production_starts_with_everything_set(clean_env: pytest.MonkeyPatch):
    for key, value in REQUIRED.items():
        clean_env.setenv(key, value)
    app = create_app("production")
    assert app.config["PORTAL_CONFIG"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["LOAD_DEMO_DATA"] is False


def test_production_refuses_a_short_secret_key(clean_env: pytest.MonkeyPatch):
    for key, value in REQUIRED.items():
        clean_env.setenv(key, value)
    clean_env.setenv("SECRET_KEY", "short")
    with pytest.raises(ConfigError, match="SECRET_KEY is too short"):
        create_app("production")


def test_production_never_loads_demo_data_by_default():
    assert ProductionConfig.LOAD_DEMO_DATA is False


def test_cli_missing_configuration_is_one_line_without_traceback():
    result = _flask("portal", "check", env={})
    assert result.returncode != 0
    line = _one_line(result)
    assert line.startswith("error: production configuration refuses to start")
    for name in REQUIRED:
        assert name in line


def test_cli_missing_secret_key_only(database_url: str):
    result = _flask("portal", "check",
                    env={"DATABASE_URL": database_url, "AUDIT_HMAC_KEY": "audit-key-for-tests"})
    assert result.returncode != 0
    line = _one_line(result)
    assert "SECRET_KEY" in line and "DATABASE_URL" not in line


def test_cli_unreachable_database_is_one_line():
    result = _flask("portal", "check",
                    env={**GOOD_SECRETS,
                         "DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"})
    assert result.returncode != 0
    line = _one_line(result)
    assert line.startswith("error: database unreachable (")
    assert line.endswith(")")


def test_cli_check_passes_on_a_reachable_database(database_url: str):
    result = _flask("portal", "check", env={**GOOD_SECRETS, "DATABASE_URL": database_url})
    assert result.returncode == 0, result.stdout + result.stderr
    assert _one_line(result) == "ok: production configuration, database reachable"


def test_production_refuses_demo_data_and_changes_nothing(database_url: str,
                                                          clean_env: pytest.MonkeyPatch):
    app = create_app("production", SQLALCHEMY_DATABASE_URI=database_url, **GOOD_SECRETS)
    from portal.extensions import db

    with app.app_context():
        before = (db.session.scalar(select(func.count()).select_from(User)),
                  db.session.scalar(select(func.count()).select_from(Customer)))
        db.session.remove()
        result = app.test_cli_runner().invoke(args=["portal", "demo-data"])
        assert result.exit_code != 0
        assert "demo data is never loaded in production" in result.output
        after = (db.session.scalar(select(func.count()).select_from(User)),
                 db.session.scalar(select(func.count()).select_from(Customer)))
        db.session.remove()
        db.engine.dispose()
    assert after == before
