"""Builds the Admin instance for one app and registers every area's views.

Each module named in ``AREA_MODULES`` exposes ``register(admin)``. The home page shows, per
user, the work waiting on them (admin_views/home.py: lists from the service predicates, each
row one click from its action), then the counts their grants make meaningful; every count is
computed through the policy and links to the matching filtered list.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from flask import Flask, redirect, request, url_for
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.theme import Bootstrap4Theme
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from portal import policy
from portal.extensions import db

AREA_MODULES = ["customers", "corrections", "archive_loans", "joint_events", "receptions", "complaints", "credit", "receivables", "penalties",
                "files", "imports", "reports", "org", "users", "pending", "settings", "outbox",
                "audit", "security_report", "grants", "inbox", "menu_links"]


@dataclass
class HomeCard:
    label: Any
    count: int
    url: str | None
    tone: str = "primary"


class HomeView(AdminIndexView):
    """The home page; anonymous users are sent to the login page."""

    def is_accessible(self) -> bool:
        return bool(current_user.is_authenticated)

    def inaccessible_callback(self, name, **kwargs):
        return redirect(url_for("login", next=request.full_path.rstrip("?")))

    def _view_for(self, model: type) -> Any:
        for view in self.admin._views:
            if getattr(view, "model", None) is model and hasattr(view, "presets"):
                return view
        return None

    def _card(self, model: type, label: Any, preset: str | None, tone: str = "primary"
              ) -> HomeCard | None:
        """Count of ``model`` rows in the user's scope (narrowed by the view's preset)."""
        if not policy.can(current_user, "view", model):
            return None
        view = self._view_for(model)
        stmt = policy.scope(select(func.count()).select_from(model), current_user, model)
        if preset and view is not None and preset in view.presets:
            stmt = stmt.where(view.presets[preset][1](current_user))
        elif preset:
            return None
        count = db.session.scalar(stmt) or 0
        url = None
        if view is not None:
            url = url_for(f"{view.endpoint}.index_view", **({"preset": preset} if preset else {}))
        return HomeCard(label, count, url, tone)

    def cards(self) -> list[HomeCard]:
        from models import Complaint, CreditEvaluation, Customer, PenaltyNotice, ReceptionRecord

        user = current_user
        scope_labels = {"own": _l("我的客户"), "branch": _l("本展厅客户"),
                        "department": _l("本部门客户"), "all": _l("全部客户")}
        wanted: list[tuple[type, Any, str | None, str]] = []
        if policy.can(user, "customer.be_owner"):
            # the follow-ups due are a work list on the home page (admin_views/home.py)
            wanted += [(Customer, _l("我的客户"), "mine", "primary")]
        scopes = policy.scopes_for(user, "customer.view")
        if scopes and not policy.can(user, "customer.be_owner"):
            widest = next(s for s in ("all", "department", "branch", "own") if s in scopes)
            wanted.append((Customer, scope_labels[widest], None, "primary"))
        wanted += [
            (Complaint, _l("处理中的投诉"), "open", "info"),
            (Complaint, _l("超时投诉"), "overdue", "danger"),
            (CreditEvaluation, _l("到期待复评的信用评定"), "review_due", "warning"),
            (PenaltyNotice, _l("待确认的处罚通知单"), "draft", "warning"),
            (ReceptionRecord, _l("今日接待"), "today", "success"),
        ]
        cards = []
        for model, label, preset, tone in wanted:
            card = self._card(model, label, preset, tone)
            if card is not None:
                cards.append(card)
            if preset == "mine":
                claim = self._claim_card()
                if claim is not None:
                    cards.append(claim)
        return cards

    def _claim_card(self) -> HomeCard | None:
        """What the user may claim in their branch (R-CUST-2), linking to the claim page."""
        from models import Customer

        view = self._view_for(Customer)
        if view is None or not policy.can(current_user, "customer.claim") \
                or not hasattr(view, "claimable_rows") or not view.supports("claim_view"):
            return None
        rows = view.claimable_rows(current_user)
        return HomeCard(_l("可认领客户"), len(rows), url_for(f"{view.endpoint}.claim_view"),
                        "success")

    def alerts(self) -> list[tuple[str, Any, str | None]]:
        """(tone, message, link) shown above the cards."""
        from models import CalendarDay
        from portal.services import workcalendar

        alerts: list[tuple[str, Any, str | None]] = []
        if policy.can(current_user, "setting.change", CalendarDay):
            warning = workcalendar.next_year_warning(db.session)
            if warning is not None:
                text = (_l("%(year)s 年的工作日历（法定节假日和调休）尚未设置：可一键导入。",
                           year=warning.year) if warning.importable else
                        _l("%(year)s 年的工作日历（法定节假日和调休）尚未设置：内置数据尚未包含该年，"
                           "请在国务院办公厅公布后在月历中录入。", year=warning.year))
                alerts.append(("warning", text,
                               url_for("calendarday.month_view", month=f"{warning.year}-01")))
        return alerts

    @expose("/")
    def index(self):
        from admin_views import home

        cards = self.cards() if current_user.is_authenticated else []
        alerts = self.alerts() if current_user.is_authenticated else []
        sections = home.sections(current_user) if current_user.is_authenticated else []
        db.session.commit()  # the rotation's slots for today are created on first view
        return self.render("admin/index.html", cards=cards, alerts=alerts, sections=sections)


def build_admin(app: Flask) -> Admin:
    # Full-width (fluid) Bootstrap 4 layout: lists use the whole screen (issue 14).
    admin = Admin(app, name=_l("客户档案"), index_view=HomeView(name=_l("首页"), url="/admin"),
                  theme=Bootstrap4Theme(fluid=True))
    for name in AREA_MODULES:
        try:
            module = importlib.import_module(f"admin_views.{name}")
        except ModuleNotFoundError as exc:  # area not built yet
            if exc.name != f"admin_views.{name}":
                raise
            continue
        module.register(admin)
    return admin
