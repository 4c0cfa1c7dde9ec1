"""Backups that restore (issue 20): the demo company is backed up with the operator's command,
restored into an empty database and an empty store elsewhere, and the restore is proved — the
same row counts and fingerprints, the audit chain verifies, every file's checksum is right.
Runs on whichever database the suite runs on (SQLite, or PostgreSQL with ``DATABASE_URL``)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from portal import backup, create_app, demo, storage
from portal.extensions import db
from tests.conftest import ON_POSTGRES, _pg_admin_url


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A brand-new, EMPTY database of the suite's kind (no migrations run)."""
    if not ON_POSTGRES:
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    admin = make_url(_pg_admin_url())
    name = f"portal_restore_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin.set(database=name).render_as_string(hide_password=False)
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def demo_company(app, session):
    demo.load(session)
    session.commit()
    assert any(True for _ in storage.current().iter_keys()), "the demo company has files"
    return app


@pytest.fixture
def restore_target(empty_database: str, tmp_path: Path):
    """A second app on the empty database and an empty store. Built before the first app's
    context is pushed (list it first in a test's arguments)."""
    return create_app("testing", SQLALCHEMY_DATABASE_URI=empty_database,
                      STORAGE_PATH=str(tmp_path / "restored-store"))


def test_backup_restores_elsewhere_with_the_same_rows_files_and_audit_chain(
        restore_target, demo_company, tmp_path):
    folder = tmp_path / "backup-1"
    result = demo_company.test_cli_runner().invoke(args=["portal", "backup", str(folder)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["customers"]["rows"] > 200
    assert manifest["audit_chain_head"]["seq"] > 0
    assert manifest["files"], "the file store was backed up"
    db_file = folder / manifest["database"]["file"]
    assert db_file.stat().st_size > 0

    restored = restore_target
    with restored.app_context():
        out = restored.test_cli_runner().invoke(args=["portal", "restore", str(folder)])
        assert out.exit_code == 0, out.output
        assert "restore verified" in out.output
        # independent proof, not the command's word for it
        report = backup.verify_restored(db.engine, storage.current(), manifest)
        assert report.ok, report.problems
        assert report.files == len(manifest["files"])
        assert report.audit_entries == manifest["audit_chain_head"]["seq"]
        verify = restored.test_cli_runner().invoke(args=["portal", "audit-verify"])
        assert verify.exit_code == 0 and "intact" in verify.output
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(demo_company, tmp_path):
    folder = tmp_path / "backup-2"
    runner = demo_company.test_cli_runner()
    assert runner.invoke(args=["portal", "backup", str(folder)]).exit_code == 0
    out = runner.invoke(args=["portal", "restore", str(folder)])
    assert out.exit_code == 1
    assert "not empty" in out.output


def test_backup_refuses_a_folder_that_is_not_empty(demo_company, tmp_path):
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "something").write_text("x")
    out = demo_company.test_cli_runner().invoke(args=["portal", "backup", str(folder)])
    assert out.exit_code == 1
    assert "not empty" in out.output


def test_a_damaged_backup_is_refused_before_anything_is_restored(
        restore_target, demo_company, tmp_path):
    folder = tmp_path / "backup-3"
    assert demo_company.test_cli_runner().invoke(
        args=["portal", "backup", str(folder)]).exit_code == 0
    victim = next((folder / "files").iterdir())
    victim.write_bytes(victim.read_bytes() + b"tampered")
    restored = restore_target
    with restored.app_context():
        out = restored.test_cli_runner().invoke(args=["portal", "restore", str(folder)])
        assert out.exit_code == 1
        assert "damaged" in out.output
        with db.engine.connect() as conn:
            from sqlalchemy import inspect
            assert not (set(inspect(conn).get_table_names()) - {"sqlite_sequence"})
        assert not list(storage.current().iter_keys())
        db.session.remove()
        db.engine.dispose()
