"""``flask --app wsgi portal banner``: where the portal answers and, outside production, the
demo logins (one per role of domain.md)."""

from __future__ import annotations

import unicodedata

import click
from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from portal.cli import portal_cli
from portal.extensions import db

BASE_URL = "http://127.0.0.1:5000"


def _width(text: str) -> int:
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(width - _width(text), 0)


def demo_table() -> list[str]:
    """The demo logins as aligned lines: username, role (中文 / English), password."""
    from models.enums import Role
    from portal.demo import DEMO_LOGINS
    from portal.policy import ROLE_LABELS

    header = ("用户名 username", "角色 role", "密码 password", "说明")
    rows = [header]
    for username, role, password, description in DEMO_LOGINS:
        english, chinese = ROLE_LABELS[Role(role)]
        rows.append((username, f"{chinese} / {english}", password, description))
    widths = [max(_width(r[i]) for r in rows) for i in range(3)]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  " + "  ".join(_pad(row[i], widths[i]) for i in range(3)) + "  " + row[3])
        if n == 0:
            lines.append("  " + "  ".join("-" * w for w in widths) + "  " + "-" * 8)
    return lines


def two_factor_note() -> str:
    """R-ROLE-6: how a newcomer signs in as an administrator or the general manager."""
    from portal.demo import DEMO_TOTP_SECRET

    return ("  双因素登录 two-factor sign-in (管理员与总经理 administrators and the general "
            "manager):\n"
            f"    add the key {DEMO_TOTP_SECRET} to an authenticator app, or print the current "
            "code with `flask --app wsgi portal demo-code`")


@portal_cli.command("demo-code")
def demo_code_command() -> None:
    """Print the current two-factor code of the demo accounts (development only)."""
    import sys

    if current_app.config["PORTAL_CONFIG"] == "production":
        click.echo("error: there are no demo accounts in production", err=True)
        sys.exit(1)
    from portal.demo import DEMO_TOTP_SECRET
    from portal.services import two_factor

    step = two_factor.time_step()
    click.echo(f"{two_factor.code_at(DEMO_TOTP_SECRET, step)}  (valid for about "
               f"{int(two_factor.STEP_SECONDS - two_factor.wall_clock() % two_factor.STEP_SECONDS)}"
               " s; the previous and the next code are accepted too)")


def _demo_loaded() -> bool | None:
    """Whether the demo company is in the database; None when the database cannot tell."""
    from portal.demo import is_loaded

    try:
        return is_loaded(db.session)
    except SQLAlchemyError:
        db.session.rollback()
        return None


@portal_cli.command("banner")
def banner_command() -> None:
    """Print the portal's addresses and, outside production, the demo logins."""
    click.echo("客户档案管理系统 / Customer-archive portal")
    click.echo(f"  管理后台 admin portal: {BASE_URL}/admin")
    click.echo(f"  GraphQL API:           {BASE_URL}/graphql")
    if current_app.config["PORTAL_CONFIG"] == "production":
        return
    from portal.demo import COMPANY_NAME, DEMO_PASSWORD

    click.echo("")
    click.echo(f"演示账号 demo logins ({COMPANY_NAME}; development only, every demo account "
               f"uses the password {DEMO_PASSWORD}):")
    for line in demo_table():
        click.echo(line)
    click.echo("  More demo accounts with the same password: sales2…sales6, supervisor2, "
               "supervisor3, manager2, service2, reception2, reception3.")
    click.echo(two_factor_note())
    loaded = _demo_loaded()
    if loaded is False:
        click.echo("  (demo data not loaded yet: run `flask --app wsgi portal demo-data`)")
    elif loaded is None:
        click.echo("  (database not ready: run `flask --app wsgi portal migrate` first)")
