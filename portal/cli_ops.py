"""Operator commands: ``backup DIR`` and ``restore DIR`` (see portal/backup.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from portal import storage
from portal.backup import BackupError, backup, describe, read_manifest, restore
from portal.cli import friendly_errors, portal_cli
from portal.extensions import db


@portal_cli.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@friendly_errors
def backup_command(directory: Path) -> None:
    """Back up the database, the file store and a manifest into DIRECTORY (new or empty)."""
    db.session.remove()
    try:
        manifest = backup(db.engine, storage.current(), directory)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for line in describe(manifest):
        click.echo(line)
    click.echo(f"backup written to {directory}")


@portal_cli.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@friendly_errors
def restore_command(directory: Path) -> None:
    """Restore a backup into the configured EMPTY database and file store, then verify it
    (row counts and fingerprints, the audit chain, every file's checksum)."""
    db.session.remove()
    try:
        for line in describe(read_manifest(directory)):
            click.echo(f"backup: {line}")
        report = restore(db.engine, storage.current(), directory)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"restored {report.tables} tables, {report.rows} rows, {report.files} files; "
               f"audit chain {report.audit_entries} entries")
    if not report.ok:
        for problem in report.problems:
            click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    click.echo("restore verified: row counts and fingerprints match, audit chain intact, "
               "every file checksum OK")
