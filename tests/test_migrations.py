"""The schema built by the Alembic migrations is exactly the schema of the models, on whichever
database the suite runs (SQLite by default, PostgreSQL when ``DATABASE_URL`` is set); the
migrations go down to nothing and up again; SQLite enforces foreign keys."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from models import Branch, Grant
from portal.extensions import db


def _pending_diff() -> list:
    """What ``flask db migrate`` would put into a new revision (empty = schema equals models).
    Compared with the same options the app gives Alembic (``compare_type=True``)."""
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(ctx, db.metadata)


def _user_tables() -> set[str]:
    db.session.remove()
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def _head() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_migrated_schema_equals_models(app):
    diff = _pending_diff()
    assert diff == [], (
        "the models differ from the migrated schema; a model change needs a new migration "
        f"revision:\n{diff!r}")


def test_every_model_table_is_created_by_the_migrations(app):
    assert set(db.metadata.tables) <= _user_tables()


def test_downgrade_to_base_and_upgrade_again(app):
    head = _head()
    assert head is not None
    downgrade(revision="base")
    assert _user_tables() == set(), "downgrade to base must remove every table"
    assert _head() is None
    upgrade()
    assert _head() == head
    assert _pending_diff() == []
    # The data migrations ran again too: the default grants are back.
    assert db.session.scalar(select(Grant).limit(1)) is not None


def test_foreign_keys_are_enforced(app, session):
    """SQLite ignores foreign keys unless every connection asks for them; the app does."""
    if db.engine.dialect.name == "sqlite":
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    session.add(Branch(code="BX", name="无主展厅", department_id=987654))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert session.scalar(select(Branch).where(Branch.code == "BX")) is None
