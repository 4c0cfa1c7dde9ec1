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


def sign_in(app: Flask, client: Any, username: str, password: str) -> int:
    """The portal's sign-in as a person does it: the password, then (R-ROLE-6: the general
    manager) the current code of the account's second factor. Returns the last status (302 on
    success). The replay guard's last step is cleared first: the benchmark signs the same
    account in several times within one 30-second step."""
    resp = client.post("/login", data={"username": username, "password": password})
    if resp.status_code != 302 or not resp.headers.get("Location", "").endswith("/login/code"):
        return resp.status_code
    from models import User
    from models.org import TwoFactor
    from portal.extensions import db
    from portal.services import secret_box, two_factor

    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(username=username)).scalar_one()
        record = db.session.get(TwoFactor, user.id)
        if record is None:
            return 401
        record.last_step = None
        secret = secret_box.open_(record.secret)
        db.session.commit()
        db.session.remove()
    code = two_factor.code_at(secret, two_factor.time_step())
    return client.post("/login/code", data={"code": code}).status_code
