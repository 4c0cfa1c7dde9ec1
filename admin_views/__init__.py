"""The admin portal (Flask-Admin): one ScopedModelView base, one module per area."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
TRANSLATIONS = HERE / "translations"

log = logging.getLogger(__name__)


def _compile_catalogs() -> None:
    """Compile both catalogs (portal/translations and admin_views/translations) when their .mo
    is missing or older than the .po (also done by ``make translations``), so a fresh clone
    works without make; a read-only install simply keeps the shipped .mo files."""
    from portal.translations.catalogs import compile_stale

    compile_stale()


def init_admin(app: Flask) -> None:
    from admin_views.registry import build_admin

    # Our templates (admin/master.html, admin/index.html, …) win over Flask-Admin's own.
    app.jinja_loader = ChoiceLoader([FileSystemLoader(str(TEMPLATES)), app.jinja_loader])
    _compile_catalogs()
    babel_cfg = app.extensions.get("babel")
    if babel_cfg is not None and str(TRANSLATIONS) not in babel_cfg.translation_directories:
        babel_cfg.translation_directories.append(str(TRANSLATIONS))
    from admin_views.base import company_time

    app.jinja_env.filters["portal_dt"] = company_time
    # a role code shown by its name in the reader's language (``labels``: common.role_labels())
    app.jinja_env.filters["role_name_of"] = lambda code, labels: labels.get(code, code)
    build_admin(app)
