"""``flask --app wsgi portal reconcile-files [--delete]``: compare the file store with the rows.

Reports blobs without a row (orphans, e.g. left by a crash between the write and the commit),
leftover temporary files (interrupted writes), and rows whose content is missing or altered.
``--delete`` removes orphans and temporary files; rows are never touched. Exit status 1 when a
row's content is missing or altered (or, without ``--delete``, when anything was found).
"""

from __future__ import annotations

import sys

import click

from portal.cli import friendly_errors, portal_cli
from portal.extensions import db


@portal_cli.command("reconcile-files")
@click.option("--delete", is_flag=True, help="Remove orphan blobs and leftover temporary files.")
@friendly_errors
def reconcile_files_command(delete: bool) -> None:
    """Report orphan blobs and rows whose stored content is missing or altered."""
    from portal.services import files

    report = files.reconcile(db.session, delete=delete)
    for key in report.orphans:
        click.echo(f"orphan blob (no row): {key}{' — deleted' if delete else ''}")
    for path in report.temp_files:
        click.echo(f"leftover temporary file: {path}{' — deleted' if delete else ''}")
    for fid in report.missing:
        click.echo(f"file #{fid}: stored content MISSING", err=True)
    for fid in report.altered:
        click.echo(f"file #{fid}: stored content ALTERED (checksum mismatch)", err=True)
    click.echo(f"checked {report.checked_rows} rows: {len(report.orphans)} orphans, "
               f"{len(report.temp_files)} temporary files, {len(report.missing)} missing, "
               f"{len(report.altered)} altered, {report.deleted} deleted")
    if report.missing or report.altered or (not delete and not report.clean):
        sys.exit(1)
