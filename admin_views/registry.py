"""Builds the Admin instance for one app and registers every view."""

from __future__ import annotations

from flask import Flask, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_login import current_user


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
    return admin
