"""The monthly security report page (R-AUD-5) for whoever holds ``security_report.view`` (by
default the security auditor): a month picker (company time), the headline figures and one
table per section with coloured badges, and the CSV (``security_report.export``). Everything
comes from ``portal.services.security_report``; a refused visit leaves one denied entry."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from admin_views.base import actor, record_denied, translated
from portal import policy
from portal.extensions import orm_session
from portal.services import reports
from portal.services import security_report as svc
from portal.services.errors import DomainError, PermissionDenied


class SecurityReportView(BaseView):
    """One page: ``?month=YYYY-MM`` (default: the previous month until the 10th, as the
    other monthly reports), ``&format=csv`` for the export."""

    def is_accessible(self) -> bool:
        user = actor()
        return user is not None and policy.can(user, svc.ACTION)

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        if actor() is None:
            return redirect(url_for("login", next=request.full_path.rstrip("?")))
        record_denied(svc.ACTION, "security_report")
        return abort(403)

    @expose("/")
    def index(self) -> Any:
        year, month = reports.default_month()
        value = (request.args.get("month") or f"{year:04d}-{month:02d}").strip()[:32]
        report = None
        try:
            report = svc.monthly_report(orm_session(), actor(), value)
        except PermissionDenied:  # audited by the service verb
            abort(403)
        except DomainError as exc:
            flash(translated(exc), "error")
        can_export = policy.can(actor(), svc.EXPORT)
        if request.args.get("format") == "csv" and report is not None:
            if not can_export:
                record_denied(svc.EXPORT, f"security-report-{value}")
                abort(403)
            return Response(svc.to_csv(report, gettext), mimetype="text/csv; charset=utf-8",
                            headers={"Content-Disposition": 'attachment; filename='
                                     f'"security-report-{report.month_text}.csv"',
                                     "Cache-Control": "no-store"})
        csv_url = url_for(".index", month=value, format="csv")
        return self.render("admin/security_report.html", report=report, month=value,
                           can_export=can_export, csv_url=csv_url), \
            200 if report is not None else 400


def register(admin: Any) -> None:
    admin.add_view(SecurityReportView(name=_l("月度安全报告"), category=_l("安全"),
                                      endpoint="security_report", url="security-report"))
