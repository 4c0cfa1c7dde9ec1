"""The admin portal (Flask-Admin): one ScopedModelView base, one module per area."""

from __future__ import annotations

from flask import Flask


def init_admin(app: Flask) -> None:
    from admin_views.registry import build_admin

    build_admin(app)
