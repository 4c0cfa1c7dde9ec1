"""Reports in the portal: monthly complaint statistics (R-COMP-8), reception statistics
(R-RECV-3), credit usage and the over-limit list (R-CRED-7, R-CRED-8). Each page shows the
headline figures, server-rendered SVG bar charts and tables, and exports CSV. The data comes
from ``portal.services.reports`` and is scoped by the policy; the page needs ``report.view``
and the CSV export ``report.export``."""

from __future__ import annotations

import contextlib
import re
from dataclasses import replace
from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import get_locale, gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from admin_views.base import actor, translated
from portal import policy
from portal.extensions import db, orm_session
from portal.services import complaint_slices, report_access, reports
from portal.services.errors import DomainError, PermissionDenied

TABS = [("complaints", _l("客户投诉"), "reports.complaints"),
        ("receptions", _l("来人来电"), "reports.reception"),
        ("credit", _l("授信使用"), "reports.credit"),
        ("over_limit", _l("超额度客户"), "reports.over_limit")]
PERIODS = [("day", _l("按日")), ("week", _l("按周")), ("month", _l("按月"))]
# Chinese-only words of the report service, translated on English pages (``localized``).
REPORT_WORDS = (_l("客户投诉月度统计"), _l("来人来电统计"), _l("授信额度执行情况"),
                _l("超额度客户（催收）"), _l("品质"), _l("是"), _l("未分配"))


class ReportsView(BaseView):
    """The report pages, guarded by ``report.view``."""

    def is_accessible(self) -> bool:
        return report_access.may_open(actor(), "reports")

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        return refused_page("reports")

    def _show(self, active: str, build: Any, params: list[tuple], filename: str) -> Any:
        report = None
        try:
            report = build()
        except PermissionDenied:  # already audited by the service verb
            abort(403)
        except DomainError as exc:
            flash(translated(exc), "error")
        fmt = request.args.get("format")
        if fmt and report is not None:
            return export_response("reports", report, fmt, filename)
        if report is not None:
            self._links(report)
            report = reports.localize(report, gettext)
        can_export = report_access.may_export(actor(), "reports")
        args = {k: v for k, v in request.args.items() if k not in ("format", "print")}
        endpoint = request.endpoint or ""
        values: dict[str, Any] = dict(args)
        csv_url = url_for(endpoint, **{**values, "format": "csv"})
        print_url = url_for(endpoint, **{**values, "print": "1"}) if active == "complaints" \
            else None
        charts = [Markup(c.svg()) for c in report.charts if c.items] \
            if report else []
        template = "admin/reports/print.html" if request.args.get("print") and print_url \
            else "admin/reports/report.html"
        return self.render(template, tabs=TABS, active=active,
                           report=report, charts=charts, params=params,
                           can_export=can_export, csv_url=csv_url, print_url=print_url,
                           ), 200 if report is not None else 400

    def _links(self, report: Any) -> None:
        """Click-through from a bar: a customer bar opens the customer; a bar of the monthly
        complaint report opens the complaint list showing the complaints it counts."""
        complaints_open = policy.can(actor(), "complaint.view")
        for chart in report.charts:
            if chart.dimension == "customer" and chart.keys:
                chart.links = [url_for("customer.details_view", id=k) if k else None
                               for k in chart.keys]
            elif chart.slices and complaints_open:
                chart.links = [url_for("complaint.index_view", **s.url_args())
                               for s in chart.slices]

    @expose("/")
    def index(self) -> Any:
        return redirect(url_for(".complaints"))

    @expose("/complaints")
    def complaints(self) -> Any:
        value = request.args.get("month") or report_access.default_month("complaints")

        def build() -> Any:
            y, m = complaint_slices.parse_month(report_access.month_arg("complaints", value))
            return reports.complaint_report(db.session, actor(), y, m)

        return self._show("complaints", build, [("month", _l("月份"), "month", value, None)],
                          f"complaints-{value}")

    @expose("/reception")
    def reception(self) -> Any:
        period = request.args.get("period") or "day"
        first, last = report_access.reception_range()
        start = request.args.get("start") or first.isoformat()
        end = request.args.get("end") or last.isoformat()
        params = [("period", _l("统计周期"), "select", period, PERIODS),
                  ("start", _l("开始"), "date", start, None),
                  ("end", _l("结束"), "date", end, None)]
        return self._show("receptions",
                          lambda: reports.reception_report(db.session, actor(), period, start,
                                                           end),
                          params, f"reception-{start}-{end}")

    @expose("/credit")
    def credit(self) -> Any:
        month = request.args.get("month") or report_access.default_month("credit_usage")
        return self._show("credit", lambda: reports.credit_usage(
                              db.session, actor(), report_access.month_arg("credit_usage", month)),
                          [("month", _l("月份"), "month", month, None)], f"credit-{month}")

    @expose("/over-limit")
    def over_limit(self) -> Any:
        return self._show("over_limit", lambda: reports.over_limit(db.session, actor()), [],
                          f"over-limit-{report_access.day_arg(None):%Y%m%d}")


def refused_page(family: str) -> Any:
    """A report page the user may not open: the sign-in page, or a 403 with one denied audit
    entry (``report_access.check_open``)."""
    if actor() is None:
        return redirect(url_for("login", next=request.full_path.rstrip("?")))
    with contextlib.suppress(PermissionDenied):  # audited; the answer is the 403
        report_access.check_open(orm_session(), actor(), family,
                                 f"admin {request.method} {request.path}")
    return abort(403)


def export_response(family: str, report: Any, fmt: str, filename: str) -> Any:
    """``?format=csv`` (or ``xlsx``) of a report page, decided by ``report_access.export``:
    refused → 403 (audited), a format the report has not → 400 with the message."""
    try:
        out = report_access.export(orm_session(), actor(), family, report, fmt, filename,
                                   f"admin {request.method} {request.path}", gettext)
    except PermissionDenied:
        abort(403)
    except DomainError as exc:
        return Response(translated(exc), status=400, mimetype="text/plain")
    return Response(out.body, mimetype=out.mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{out.filename}"',
                             "Cache-Control": "no-store"})


def register(admin: Any) -> None:
    admin.add_view(ReportsView(name=_l("统计报表"), category=_l("报表"), endpoint="reports",
                               url="reports"))


# ------------------------------------------------------------------ the reader's language
_HAN = re.compile(r"[\u3400-\u9fff]")
_LEADING_WORDS = re.compile(r"^([^\s\d—(]+)(.*)$", re.S)
_PERIOD = re.compile(r"\((day|week|month)\)$")


def localized(text: Any, zh: bool) -> Any:
    """The service writes labels as "中文 / English" (its CSV keeps both): a page shows the
    reader's half. A Chinese-only label (an enum word, a title) is translated in English."""
    if not isinstance(text, str):
        return text
    if " / " in text and _HAN.search(text.split(" / ", 1)[0]):
        left, right = text.split(" / ", 1)
        return left if zh else right
    if zh or not _HAN.search(text):
        return text
    match = _LEADING_WORDS.match(text)
    if match is None:
        return text
    word, rest = match.groups()
    translated = gettext(word)
    return text if translated == word else translated + rest


def localized_report(report: Any) -> Any:
    """A copy of ``report`` with its labels, headers, enum words and chart titles in the
    reader's language; data (customer names, branches) is left as it is."""
    zh = str(get_locale()).startswith("zh")
    tables = [reports.Table(localized(t.title, zh), [localized(h, zh) for h in t.header],
                            [[_localized_cell(c, i, zh) for i, c in enumerate(row)]
                             for row in t.rows]) for t in report.tables]
    charts = [reports.Chart(localized(c.title, zh), [(localized(k, zh), v) for k, v in c.items],
                            c.unit) for c in report.charts]
    title = _PERIOD.sub(lambda m: f"（{dict(PERIODS)[m.group(1)]}）", localized(report.title, zh))
    return replace(report, title=title,
                   figures=[(localized(k, zh), _localized_cell(v, 1, zh))
                            for k, v in report.figures],
                   tables=tables, charts=charts)


def _localized_cell(cell: Any, index: int, zh: bool) -> Any:
    """A row's label (first column), vocabulary words and badges in the reader's language;
    data cells as they are."""
    from portal.services.credit_reports import Badge, Word

    if isinstance(cell, Badge):
        return Badge(localized(cell, zh), cell.tone)
    if index == 0 or not isinstance(cell, str) or cell in ("是",) or isinstance(cell, Word):
        return localized(cell, zh)
    return cell


def chart_svg(chart: Any) -> str:
    zh = str(get_locale()).startswith("zh")
    return chart.svg().replace("无数据 / no data", localized("无数据 / no data", zh))
