"""规则设置 and 工作日历 (system administrator): through portal.services.configuration."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date
from typing import Any

from flask import flash, redirect, request, url_for
from flask_admin import expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views import common
from admin_views.base import ScopedModelView, add_view
from models import CalendarDay, Setting
from portal import clock, setting_specs
from portal.extensions import db
from portal.services import configuration, workcalendar


class SettingView(ScopedModelView):
    """规则设置: one page, settings grouped by area with labels, explanations, units and
    ranges; each area saves in one step; "恢复默认" is an explicit button with confirmation.
    The raw row editor is gone (its trash icon reset a rule without saying so)."""

    column_list = ("key", "value", "updated_at")
    column_export_list = ("key", "value", "description", "updated_at")
    column_labels = {"key": _l("设置项"), "value": _l("取值"), "description": _l("说明"),
                     "updated_at": _l("更新时间"), "updated_by_id": _l("更新人")}
    endpoint_verbs = {"save_view": ("change",), "reset_view": ("delete",)}

    @expose("/")
    def index_view(self) -> Any:
        groups = configuration.settings_by_area(db.session)
        return self.render("admin/settings_console.html", groups=groups,
                           areas=setting_specs.AREAS, units=setting_specs.UNITS,
                           role_labels=common.role_labels(),
                           can_change=self.allowed("change"), can_reset=self.allowed("delete"))

    @expose("/save/", methods=("POST",))
    def save_view(self) -> Any:
        area = request.form.get("area") or ""
        values: dict[str, Any] = {k[len("value:"):]: v.strip() for k, v in request.form.items()
                                  if k.startswith("value:")}
        # a set of roles is a list of ticked boxes (none ticked: the empty set)
        for key in (k[len("roles:"):] for k in request.form if k.startswith("roles:")):
            values[key] = [v.strip() for v in request.form.getlist(f"value:{key}")]
        done: list[list[str]] = []
        if values and self.run_service(
                lambda s, a: done.append(configuration.update_settings(s, a, values))):
            flash(gettext("已保存 %(count)s 项设置，下一次请求起生效。", count=len(done[0]))
                  if done[0] else gettext("没有修改。"), "success")
        return redirect(url_for(".index_view") + (f"#area-{area}" if area.isalnum() else ""))

    @expose("/reset/", methods=("POST",))
    def reset_view(self) -> Any:
        key = request.form.get("key") or ""
        if self.run_service(lambda s, a: configuration.reset_setting(s, a, key)):
            spec = setting_specs.spec_for(key)
            flash(gettext("已恢复默认值：%(setting)s。",
                          setting=gettext(spec.label) if spec else key), "success")
        return redirect(url_for(".index_view"))


class CalendarDayView(ScopedModelView):
    column_list = ("day", "kind", "name")
    column_export_list = ("day", "kind", "name")
    column_default_sort = ("day", True)
    column_choices = {"kind": common.DAY_KIND}
    column_filters = (common.choice_filter(CalendarDay.kind, _l("类型"), common.DAY_KIND),)
    column_labels = {"day": _l("日期"), "kind": _l("类型"), "name": _l("名称")}
    form_create_only = ("day",)
    form_columns = ("kind", "name")
    form_choices = {"kind": common.DAY_KIND}
    create_service = configuration.add_calendar_day
    update_service = configuration.update_calendar_day
    delete_service = configuration.delete_calendar_day
    list_template = "admin/calendar_list.html"
    # The calendar belongs to the "setting" area, which has no "add": adding a day is a change
    # of the settings (before, /new/ needed setting.add, which no grant can hold).
    endpoint_verbs = {"create_view": ("change",), "month_view": ("view",),
                      "set_days_view": ("change",), "import_view": ("change",)}

    @expose("/month/")
    def month_view(self) -> Any:
        """The month grid: click a day to set it (节假日 / 调休上班日 / 正常)."""
        today = clock.today()
        year, month = _month_arg(request.args.get("month"), today)
        selected = _date_arg(request.args.get("day"))
        overrides = workcalendar.month_days(db.session, year, month)
        weeks = []
        for week in pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
            cells = []
            for d in week:
                row = overrides.get(d)
                kind = row.kind if row else ("weekend" if d.weekday() >= 5 else "normal")
                working = kind == "workday" or (kind == "normal")
                cells.append({"date": d, "in_month": d.month == month, "kind": kind,
                              "name": row.name if row else None, "working": working,
                              "today": d == today, "selected": d == selected})
            weeks.append(cells)
        prev_month, next_month = workcalendar.adjacent_months(year, month)
        sel_row = overrides.get(selected) if selected else None
        if selected and sel_row is None:
            sel_row = db.session.get(CalendarDay, selected)
        covered = workcalendar.official_years()
        return self.render(
            "admin/calendar_month.html", year=year, month=month, weeks=weeks,
            selected=selected, selected_row=sel_row,
            prev_month=prev_month, next_month=next_month,
            this_month=f"{today:%Y-%m}", covered=covered,
            year_configured=workcalendar.year_configured(db.session, year),
            can_change=self.allowed("change"), list_url=self.get_url(".index_view"))

    @expose("/set/", methods=("POST",))
    def set_days_view(self) -> Any:
        data = {k: request.form.get(k) for k in ("day", "until", "kind", "name")}
        back = request.form.get("month") or (data["day"] or "")[:7]
        if self.run_service(lambda s, a: workcalendar.set_days(s, a, data)):
            flash(gettext("日历已保存。之后登记的投诉按新日历计算期限；已登记投诉的期限不变。"),
                  "success")
        return redirect(url_for(".month_view", month=back or None, day=data["day"] or None))

    @expose("/import/", methods=("POST",))
    def import_view(self) -> Any:
        year = request.form.get("year") or ""
        result: list[Any] = []

        def run(s: Any, a: Any) -> Any:
            result.append(workcalendar.import_official_year(s, a, year))
        if self.run_service(run):
            r = result[0]
            flash(gettext("已导入 %(year)s 年法定节假日：%(holidays)s 天节假日，"
                          "%(workdays)s 天调休上班日（%(changed)s 天有变化）。",
                          year=r.year, holidays=r.holidays, workdays=r.workdays,
                          changed=r.changed), "success")
        month = f"{year}-01" if year.isdigit() else None
        return redirect(url_for(".month_view", month=month))


def _month_arg(raw: str | None, today: date) -> tuple[int, int]:
    try:
        y, m = (int(x) for x in (raw or "").split("-")[:2])
        if 2000 <= y <= 2100 and 1 <= m <= 12:
            return y, m
    except ValueError:
        pass
    return today.year, today.month


def _date_arg(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return None


def register(admin: Any) -> None:
    add_view(admin, SettingView, Setting, _l("规则设置"), _l("系统设置"), endpoint="setting")
    add_view(admin, CalendarDayView, CalendarDay, _l("工作日历"), _l("系统设置"),
             endpoint="calendarday")
