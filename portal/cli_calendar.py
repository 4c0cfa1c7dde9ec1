"""``flask --app wsgi portal calendar-import --year 2026``: the official holidays and make-up
working days (国务院办公厅) of a year into the working-day calendar (R-COMP-2)."""

from __future__ import annotations

import sys

import click

from portal import clock
from portal.cli import friendly_errors, portal_cli
from portal.extensions import db


@portal_cli.command("calendar-import")
@click.option("--year", "years", type=int, multiple=True,
              help="Year to import; repeat for several. Default: this year and next.")
@click.option("--skip-missing", is_flag=True,
              help="Only warn (exit 0) for a year the built-in data does not cover yet.")
@friendly_errors
def calendar_import_command(years: tuple[int, ...], skip_missing: bool) -> None:
    """Import official holidays and make-up working days from the chinesecalendar package.

    The package covers the years it was released for; a later year must be entered in the
    portal's calendar editor (系统设置 → 工作日历), or imported after upgrading the package,
    once the State Council has published it. Idempotent."""
    from portal.services import workcalendar
    from portal.services.errors import DomainError

    covered = workcalendar.official_years()
    span = f"{covered[0]}-{covered[1]}" if covered else "none"
    today = clock.today()
    failed = False
    for year in years or (today.year, today.year + 1):
        try:
            r = workcalendar.import_official_year_as_system(db.session, year)
        except DomainError:
            click.echo(f"warning: {year} is not in the built-in holiday data (covers {span}); "
                       f"enter it in the portal calendar editor or import it after upgrading "
                       f"the chinesecalendar package, once it is published", err=True)
            failed = True
            continue
        click.echo(f"{year}: {r.holidays} holidays and {r.workdays} make-up working days "
                   f"({r.changed} changed); built-in data covers {span}")
    if failed and not skip_missing:
        sys.exit(1)
