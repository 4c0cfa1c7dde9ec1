"""Test fixtures. The schema is built once per run through the real Alembic migrations into a
template database; each test gets a fresh copy (a file copy on SQLite, ``CREATE DATABASE …
TEMPLATE`` on PostgreSQL). Set ``DATABASE_URL=postgresql+psycopg://…`` to run on PostgreSQL."""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import create_app
from portal.extensions import db as _db

PG_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith(("postgresql", "postgres"))
# CI runs Hypothesis derandomised (the same examples every run, no example database): a red CI
# is reproducible and never a dice roll. Locally the default profile keeps exploring.
hypothesis_settings.register_profile("ci", derandomize=True, database=None,
                                     print_blob=True)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

_counter = itertools.count()


def _pg_admin_url() -> str:
    url = make_url(PG_URL.replace("postgres://", "postgresql+psycopg://", 1)
                   if PG_URL.startswith("postgres://") else PG_URL)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def _migrate(url: str, tmp: Path) -> None:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, STORAGE_PATH=str(tmp / "storage"))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("template")
    if ON_POSTGRES:
        admin_url = make_url(_pg_admin_url())
        name = f"portal_tmpl_{os.getpid()}"
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        _migrate(admin_url.set(database=name).render_as_string(hide_password=False), tmp)
        yield name
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
    else:
        path = tmp / "template.sqlite3"
        _migrate(f"sqlite:///{path}", tmp)
        yield str(path)


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> Iterator[str]:
    if ON_POSTGRES:
        admin_url = make_url(_pg_admin_url())
        name = f"portal_t_{os.getpid()}_{next(_counter)}_{uuid.uuid4().hex[:6]}"
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_db}"'))
        yield admin_url.set(database=name).render_as_string(hide_password=False)
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
    else:
        path = tmp_path / "test.sqlite3"
        shutil.copyfile(template_db, path)
        yield f"sqlite:///{path}"


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    """No test inherits a clock another test froze and did not restore."""
    from portal import clock

    clock.set_now(None)
    yield
    clock.set_now(None)


@pytest.fixture
def app_overrides() -> dict:
    """Override in a test module to change the app's configuration."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_overrides: dict) -> Iterator[Flask]:
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url,
                     STORAGE_PATH=str(tmp_path / "storage"), **app_overrides)
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def session(app: Flask):
    return _db.session


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login(app: Flask):
    """``login(user)`` → a test client whose session is that user's (via the real login form)."""
    from tests.factories import PASSWORD

    def _login(user, password: str = PASSWORD) -> FlaskClient:
        c = app.test_client()
        resp = c.post("/login", data={"username": user.username, "password": password})
        assert resp.status_code == 302, f"login of {user.username} failed: {resp.status_code}"
        if resp.headers["Location"].endswith("/login/code"):  # R-ROLE-6: the second factor
            from tests.factories import pass_second_factor

            resp = pass_second_factor(c, user)
            assert resp.status_code == 302, f"code of {user.username}: {resp.status_code}"
        return c
    return _login


@pytest.fixture
def world(session):
    """A small company: two departments, three branches, one user per role, a few customers."""
    from tests.factories import build_world

    return build_world(session)
