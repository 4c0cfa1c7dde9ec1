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


@portal_cli.command("serve", with_appcontext=False)
@click.option("--bind", default="127.0.0.1:8000", show_default=True,
              help="Address the proxy (nginx) forwards to.")
@click.option("--workers", type=int, default=None,
              help="Worker processes [default: 2 × cores + 1, at most 16].")
@click.option("--timeout", type=int, default=120, show_default=True,
              help="Seconds a request may take (streamed exports of a million rows included).")
def serve_command(bind: str, workers: int | None, timeout: int) -> None:
    """Serve the portal and the API in production with gunicorn (the ``prod`` extra)."""
    from portal.server import ServerError, serve

    try:
        serve(bind=bind, workers=workers, timeout=timeout)
    except ServerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@portal_cli.command("send-notifications")
@click.option("--loop", "loop_seconds", type=int, default=0,
              help="Keep running, sending every N seconds (a worker); 0 = once.")
@friendly_errors
def send_notifications_command(loop_seconds: int) -> None:
    """Deliver the queued e-mail / 企业微信 / 钉钉 messages (also done by ``tick``)."""
    import time

    from flask import current_app

    from portal.outbox_web import send_pending

    while True:
        report = send_pending(current_app)
        counts = ", ".join(f"{k}={v}" for k, v in report.as_dict().items())
        click.echo(f"outbox: {counts}")
        for error in report.errors[:5]:
            click.echo(f"  {error}", err=True)
        if loop_seconds <= 0:
            return
        time.sleep(loop_seconds)
