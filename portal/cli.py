"""``flask --app wsgi portal …``: the operator's commands. Each prints one clear line on a
configuration or database problem instead of a traceback."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import OperationalError

from portal.extensions import db, orm_session

portal_cli = AppGroup("portal", help="Customer-archive portal commands.")


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            click.echo(f"error: database unreachable ({reason})", err=True)
            sys.exit(2)
    return wrapper


@portal_cli.command("migrate")
@friendly_errors
def migrate_command() -> None:
    """Bring the database schema up to date (Alembic migrations)."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("database schema is up to date")


@portal_cli.command("check")
@friendly_errors
def check_command() -> None:
    """Check configuration and database connectivity."""
    from sqlalchemy import text

    db.session.execute(text("SELECT 1"))
    click.echo(f"ok: {current_app.config['PORTAL_CONFIG']} configuration, database reachable")


@portal_cli.command("create-user")
@click.option("--username", prompt=True)
@click.option("--full-name", prompt=True)
@click.option("--role", "roles", multiple=True, default=["sysadmin"], show_default=True,
              help="Role to grant; repeat for several.")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Asked for interactively (never echoed) when omitted.")
@friendly_errors
def create_user_command(username: str, full_name: str, roles: tuple[str, ...],
                        password: str) -> None:
    """Create a user, e.g. the first system administrator of a production install."""
    from portal.services import users
    from portal.services.errors import DomainError

    try:
        user = users.bootstrap_user(db.session, username=username, full_name=full_name,
                                    password=password, roles=list(roles))
    except DomainError as exc:
        click.echo(f"error: {exc.translated()}", err=True)
        sys.exit(1)
    click.echo(f"created user {user.username} with roles {', '.join(sorted(user.roles))}")


@portal_cli.command("audit-verify")
@click.option("--record", is_flag=True,
              help="Record the result as an audit entry, shown as 'last verified' at the top of "
                   "the audit log (use it in the scheduled job).")
@friendly_errors
def audit_verify_command(record: bool) -> None:
    """Walk the audit chain and report the first broken link (R-AUD-2)."""
    from portal import audit

    if record:
        from portal.services import audit_log

        report = audit_log.record_verification(orm_session(), None)
        db.session.commit()
    else:
        report = audit.verify(db.session)
    if report.ok:
        click.echo(f"audit chain intact: {report.verified} entries verified")
        return
    click.echo(f"audit chain BROKEN at entry #{report.broken_at}: {report.problem} "
               f"({report.verified} entries verified before it)", err=True)
    sys.exit(1)


@portal_cli.command("demo-data")
@friendly_errors
def demo_data_command() -> None:
    """Load the demo company (development only; idempotent)."""
    if current_app.config["PORTAL_CONFIG"] == "production":
        click.echo("error: demo data is never loaded in production", err=True)
        sys.exit(1)
    from portal import demo

    summary = demo.load(db.session)
    click.echo(summary)
    from portal.cli_demo import two_factor_note

    click.echo(two_factor_note())




def _load_command_modules() -> None:
    """Each area adds its commands in ``portal/cli_<area>.py``; import them all here."""
    import importlib
    import pkgutil

    import portal

    for info in pkgutil.iter_modules(portal.__path__):
        if info.name.startswith("cli_"):
            importlib.import_module(f"portal.{info.name}")


_load_command_modules()
