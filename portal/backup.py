"""Backups that restore: the database, the file store and a manifest, in one folder.

``flask --app wsgi portal backup DIR`` writes

- ``database.dump`` (PostgreSQL, ``pg_dump --format=custom``) or ``database.sqlite3`` (SQLite,
  through the online backup API, so a running portal is copied consistently);
- ``files/<sha256>``: every object of the file store, read through the store (which verifies
  each checksum on the way);
- ``manifest.json``: the format, the time, the Alembic revision, the checksum of the database
  file, per table the row count and a fingerprint of its rows, the audit-chain head, and every
  file's size.

On PostgreSQL the fingerprints and the dump come from ONE snapshot: the fingerprints are read in
a repeatable-read transaction whose snapshot is exported to ``pg_dump --snapshot``, so the
manifest describes exactly what the dump holds even while the portal keeps writing.

``restore DIR`` refuses a non-empty target (database or store), checks every checksum of the
folder first, restores, then proves the result: the same row counts and fingerprints as the
manifest, the audit chain verifies, every file is present with its checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from portal import clock
from portal.storage import Storage, digest

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.dump"
FILES_DIR = "files"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, in one line."""


@dataclass
class RestoreReport:
    tables: int = 0
    rows: int = 0
    files: int = 0
    audit_entries: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canonical(value: Any) -> Any:
    """One text form per value, so a row fingerprints the same before and after a restore."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def _user_tables(conn: Connection) -> list[Table]:
    meta = MetaData()
    names = sorted(n for n in inspect(conn).get_table_names() if n != "sqlite_sequence")
    meta.reflect(bind=conn, only=names)
    return [meta.tables[n] for n in names]


def table_figures(conn: Connection) -> dict[str, dict[str, Any]]:
    """Row count and a SHA-256 over the rows in primary-key order, per table."""
    figures: dict[str, dict[str, Any]] = {}
    for table in _user_tables(conn):
        order = list(table.primary_key.columns) or list(table.columns)
        h = hashlib.sha256()
        rows = 0
        result = conn.execute(select(table).order_by(*order)).yield_per(2000)
        for row in result:
            h.update(json.dumps([_canonical(v) for v in row], ensure_ascii=False,
                                default=str).encode())
            h.update(b"\n")
            rows += 1
        figures[table.name] = {"rows": rows, "fingerprint": h.hexdigest()}
    return figures


def _audit_head(conn: Connection) -> dict[str, Any] | None:
    row = conn.execute(text("SELECT seq, last_hash FROM audit_chain_head WHERE id = 1")).first()
    return {"seq": row.seq, "last_hash": row.last_hash} if row else None


def _revision(conn: Connection) -> str | None:
    try:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:
        return None


# ------------------------------------------------------------------------------ PostgreSQL tools

def _pg_tool(conn: Connection, name: str) -> str:
    """The pg_dump / pg_restore matching the server's major version (Debian keeps one folder per
    version; a newer client also works), else the one on PATH; ``PG_BIN_DIR`` overrides."""
    configured = os.environ.get("PG_BIN_DIR")
    candidates = [Path(configured) / name] if configured else []
    major = int(conn.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    base = Path("/usr/lib/postgresql")
    if base.is_dir():
        versions = sorted((int(p.name) for p in base.iterdir() if p.name.isdigit()), reverse=True)
        candidates += [base / str(v) / "bin" / name for v in versions if v >= major]
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(f"{name} not found (install the PostgreSQL client {major} or set PG_BIN_DIR)")


def _libpq_env(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the PostgreSQL command-line tools; the password goes through the
    environment, never on the command line."""
    u = make_url(url)
    args = ["--host", u.host or "localhost", "--port", str(u.port or 5432),
            "--username", u.username or "postgres", "--dbname", u.database or "postgres"]
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = u.password
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{Path(cmd[0]).name} failed: {last[-1] if last else done.returncode}")


# ------------------------------------------------------------------------------ backup

def _prepare_target(dest: Path) -> None:
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty; back up into a new folder")
    (dest / FILES_DIR).mkdir(parents=True, exist_ok=True)


def _copy_files(store: Storage, dest: Path) -> dict[str, int]:
    files: dict[str, int] = {}
    for key in sorted(store.iter_keys()):
        data = store.get(key)          # verified against its checksum by the store
        target = dest / FILES_DIR / key
        target.write_bytes(data)
        files[key] = len(data)
    return files


def backup(engine: Engine, store: Storage, dest: Path) -> dict[str, Any]:
    """Write a complete backup into ``dest`` (new or empty); return the manifest."""
    dest = Path(dest)
    _prepare_target(dest)
    url = engine.url.render_as_string(hide_password=False)
    if engine.dialect.name == "sqlite":
        db_file, figures, head, revision = _backup_sqlite(engine, dest)
    elif engine.dialect.name == "postgresql":
        db_file, figures, head, revision = _backup_postgresql(engine, url, dest)
    else:  # pragma: no cover - the product runs on these two
        raise BackupError(f"unsupported database {engine.dialect.name}")
    files = _copy_files(store, dest)
    manifest = {
        "format": FORMAT,
        "created_at": clock.now().isoformat(),
        "database": {"dialect": engine.dialect.name, "file": db_file.name,
                     "sha256": _sha256_file(db_file), "alembic_revision": revision},
        "tables": figures,
        "audit_chain_head": head,
        "files": files,
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                 encoding="utf-8")
    return manifest


def _backup_sqlite(engine: Engine, dest: Path) -> tuple[Path, dict, dict | None, str | None]:
    source = engine.url.database
    if not source or source == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    target = dest / SQLITE_FILE
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    # the figures describe the copy itself: it is the snapshot
    copy = create_engine(f"sqlite:///{target}")
    try:
        with copy.connect() as conn:
            return target, table_figures(conn), _audit_head(conn), _revision(conn)
    finally:
        copy.dispose()


def _backup_postgresql(engine: Engine, url: str,
                       dest: Path) -> tuple[Path, dict, dict | None, str | None]:
    target = dest / PG_FILE
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            args, env = _libpq_env(url)
            _run([_pg_tool(conn, "pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                  f"--snapshot={snapshot}", "--file", str(target), *args], env)
            return target, table_figures(conn), _audit_head(conn), _revision(conn)


# ------------------------------------------------------------------------------ restore

def read_manifest(src: Path) -> dict[str, Any]:
    path = Path(src) / MANIFEST
    if not path.is_file():
        raise BackupError(f"{src} holds no {MANIFEST}; not a backup folder")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def check_folder(src: Path, manifest: dict[str, Any]) -> list[str]:
    """Every checksum of the backup folder, before anything is restored."""
    problems = []
    db_file = Path(src) / manifest["database"]["file"]
    if not db_file.is_file():
        problems.append(f"{db_file.name} is missing")
    elif _sha256_file(db_file) != manifest["database"]["sha256"]:
        problems.append(f"{db_file.name} does not match its checksum")
    for key in manifest["files"]:
        path = Path(src) / FILES_DIR / key
        if not path.is_file():
            problems.append(f"file {key[:12]}… is missing")
        elif digest(path.read_bytes()) != key:
            problems.append(f"file {key[:12]}… does not match its checksum")
    return problems


def _target_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        names = set(inspect(conn).get_table_names()) - {"sqlite_sequence"}
    return not names


def restore(engine: Engine, store: Storage, src: Path) -> RestoreReport:
    """Restore ``src`` into an EMPTY database and an EMPTY store, then verify the result."""
    src = Path(src)
    manifest = read_manifest(src)
    if manifest["database"]["dialect"] != engine.dialect.name:
        raise BackupError(f"the backup is of {manifest['database']['dialect']}, the target is "
                          f"{engine.dialect.name}")
    problems = check_folder(src, manifest)
    if problems:
        raise BackupError("the backup folder is damaged: " + "; ".join(problems[:5]))
    if not _target_is_empty(engine):
        raise BackupError("the target database is not empty; restore into a new database")
    if any(True for _ in store.iter_keys()):
        raise BackupError("the target file store is not empty; restore into a new store")
    db_file = src / manifest["database"]["file"]
    if engine.dialect.name == "sqlite":
        _restore_sqlite(engine, db_file)
    else:
        with engine.connect() as conn:
            tool = _pg_tool(conn, "pg_restore")
        args, env = _libpq_env(engine.url.render_as_string(hide_password=False))
        _run([tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              *args, str(db_file)], env)
    for key in manifest["files"]:
        stored = store.put((src / FILES_DIR / key).read_bytes())
        if stored != key:  # pragma: no cover - checked above; content addressing guarantees it
            raise BackupError(f"file {key[:12]}… was stored under another key")
    return verify_restored(engine, store, manifest)


def _restore_sqlite(engine: Engine, db_file: Path) -> None:
    target = engine.url.database
    if not target or target == ":memory:":
        raise BackupError("restore into a SQLite file, not an in-memory database")
    engine.dispose()
    src = sqlite3.connect(db_file)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def verify_restored(engine: Engine, store: Storage, manifest: dict[str, Any]) -> RestoreReport:
    """Compare the restored database and store with the manifest, and walk the audit chain."""
    from sqlalchemy.orm import Session

    from portal import audit

    report = RestoreReport()
    with engine.connect() as conn:
        figures = table_figures(conn)
    expected = manifest["tables"]
    for name in sorted(set(expected) | set(figures)):
        if name not in figures:
            report.problems.append(f"table {name} is missing")
        elif name not in expected:
            report.problems.append(f"table {name} is not in the backup")
        elif figures[name] != expected[name]:
            report.problems.append(
                f"table {name}: {figures[name]['rows']} rows, expected {expected[name]['rows']}"
                + ("" if figures[name]["rows"] != expected[name]["rows"]
                   else " (same count, different content)"))
    report.tables = len(figures)
    report.rows = sum(f["rows"] for f in figures.values())
    for key in manifest["files"]:
        try:
            store.get(key)  # raises on a missing blob or a checksum mismatch
        except Exception as exc:
            report.problems.append(f"file {key[:12]}…: {type(exc).__name__}")
        else:
            report.files += 1
    with Session(engine) as session:
        chain = audit.verify(session)
    report.audit_entries = chain.verified
    if not chain.ok:
        report.problems.append(f"audit chain broken at #{chain.broken_at}: {chain.problem}")
    return report


def describe(manifest: dict[str, Any]) -> Iterable[str]:
    rows = sum(t["rows"] for t in manifest["tables"].values())
    head = manifest.get("audit_chain_head") or {}
    yield (f"{manifest['database']['dialect']} database: {len(manifest['tables'])} tables, "
           f"{rows} rows (revision {manifest['database']['alembic_revision']})")
    yield f"files: {len(manifest['files'])} ({sum(manifest['files'].values())} bytes)"
    yield f"audit chain head: #{head.get('seq', 0)}"
