"""Databases for the benchmark (one per size, migrated with the real Alembic migrations) and the
app configured the way it ships (production config, with CSRF, rate limit and Secure cookies
off so a load generator on plain HTTP can talk to it)."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

WORK = Path(__file__).resolve().parent / ".work"

APP_OVERRIDES = {
    "SECRET_KEY": "bench-secret-key-not-for-production",
    "AUDIT_HMAC_KEY": "bench-audit-key",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
    "GRAPHQL_MAX_PAGE_SIZE": 10000,
    "GRAPHQL_MAX_COST": 10_000_000,
    "GRAPHQL_MAX_TOKENS": 100_000,
}


def make_app(url: str, **extra: object) -> Flask:
    from portal import create_app

    storage = WORK / "storage"
    storage.mkdir(parents=True, exist_ok=True)
    return create_app("production", SQLALCHEMY_DATABASE_URI=url, STORAGE_PATH=str(storage),
                      **{**APP_OVERRIDES, **extra})


def fresh_database(base_url: str | None, size: int, tag: str = "") -> str:
    """Create (or recreate) an empty database for ``size`` customers and migrate it."""
    name = f"bench_{size}{tag}"
    if base_url and base_url.startswith("postgresql"):
        admin = make_url(base_url)
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        url = admin.set(database=name).render_as_string(hide_password=False)
    else:
        WORK.mkdir(parents=True, exist_ok=True)
        path = WORK / f"{name}.sqlite3"
        for suffix in ("", "-wal", "-shm", "-journal"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        url = f"sqlite:///{path}"
    migrate(url)
    return url


def existing_database(base_url: str | None, size: int, tag: str = "") -> str | None:
    name = f"bench_{size}{tag}"
    if base_url and base_url.startswith("postgresql"):
        admin = make_url(base_url)
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                 {"n": name}).first()
        engine.dispose()
        return admin.set(database=name).render_as_string(hide_password=False) if found else None
    path = WORK / f"{name}.sqlite3"
    return f"sqlite:///{path}" if path.exists() else None


def migrate(url: str) -> None:
    """Alembic upgrade to head on a bare Flask app (db + migrate only), so a half-built admin or
    GraphQL module elsewhere cannot stop the data generation."""
    from flask_migrate import upgrade

    import models  # noqa: F401
    from portal.config import BASE_DIR
    from portal.extensions import db
    from portal.extensions import migrate as migrate_ext

    app = Flask("bench_migrate")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_TRACK_MODIFICATIONS=False)
    db.init_app(app)
    migrate_ext.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True)
    with app.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


def normalize_url(url: str) -> str:
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def env_database_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    return normalize_url(url) if url else None
