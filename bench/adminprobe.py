"""Find the admin portal's customer list view (Flask-Admin) in a built app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, url_for

from models import Customer


@dataclass
class CustomerView:
    view: Any
    list_url: str
    export_url: str | None
    page_size: int


def find_customer_view(app: Flask) -> CustomerView | None:
    admins = app.extensions.get("admin") or []
    if not isinstance(admins, list | tuple):
        admins = [admins]
    for admin in admins:
        for view in getattr(admin, "_views", []):
            if getattr(view, "model", None) is Customer:
                with app.test_request_context():
                    list_url = url_for(f"{view.endpoint}.index_view")
                    try:
                        export_url = url_for(f"{view.endpoint}.export", export_type="csv")
                    except Exception:
                        export_url = None
                return CustomerView(view, list_url, export_url, int(view.page_size or 20))
    return None
