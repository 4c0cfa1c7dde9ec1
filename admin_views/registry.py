"""Builds the Admin instance for one app and registers every area's views.

Each module named in ``AREA_MODULES`` exposes ``register(admin)``.
"""

from __future__ import annotations

import importlib

from flask import Flask, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_login import current_user

AREA_MODULES = ["customers", "reception", "complaints", "credit", "files", "imports", "reports",
                "org", "users", "settings", "audit", "grants"]


class HomeView(AdminIndexView):
    """The home page; anonymous users are sent to the login page."""

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated)

    def inaccessible_callback(self, name, **kwargs):  # noqa: ANN001, ANN003, ANN201
        return redirect(url_for("login", next=request.full_path.rstrip("?")))

    @expose("/")
    def index(self):  # noqa: ANN201
        return self.render("admin/index.html")


def build_admin(app: Flask) -> Admin:
    admin = Admin(app, name="客户档案", index_view=HomeView(url="/admin"))
    for name in AREA_MODULES:
        try:
            module = importlib.import_module(f"admin_views.{name}")
        except ModuleNotFoundError as exc:  # area not built yet
            if exc.name != f"admin_views.{name}":
                raise
            continue
        module.register(admin)
    return admin
