"""The monthly security report page (R-AUD-5) for whoever holds ``security_report.view`` (by
default the security auditor): a month picker (company time), the headline figures and one
table per section with coloured badges, and the CSV (``security_report.export``). Everything
comes from ``portal.services.security_report``; a refused visit leaves one denied entry."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, request, url_for
from flask_admin import BaseView, expose
from flask_babel import lazy_gettext as _l

from admin_views.base import actor, translated
from admin_views.reports import export_response, refused_page
from portal.extensions import orm_session
from portal.services import report_access
from portal.services import security_report as svc
from portal.services.errors import DomainError, PermissionDenied


class SecurityReportView(BaseView):
    """One page: ``?month=YYYY-MM`` (default: the previous month until the 10th, as the
    other monthly reports), ``&format=csv`` for the export."""

    def is_accessible(self) -> bool:
        return report_access.may_open(actor(), "security_report")

    def is_visible(self) -> bool:
        return self.is_accessible()

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        return refused_page("security_report")

    @expose("/")
    def index(self) -> Any:
        value = (request.args.get("month")
                 or report_access.default_month("security_report")).strip()[:32]
        report = None
        try:
            report = svc.monthly_report(orm_session(), actor(),
                                        report_access.month_arg("security_report", value))
        except PermissionDenied:  # audited by the service verb
            abort(403)
        except DomainError as exc:
            flash(translated(exc), "error")
        fmt = request.args.get("format")
        if fmt and report is not None:
            return export_response("security_report", report, fmt,
                                   f"security-report-{report.month_text}")
        can_export = report_access.may_export(actor(), "security_report")
        csv_url = url_for(".index", month=value, format="csv")
        return self.render("admin/security_report.html", report=report, month=value,
                           can_export=can_export, csv_url=csv_url), \
            200 if report is not None else 400


def register(admin: Any) -> None:
    admin.add_view(SecurityReportView(name=_l("月度安全报告"), category=_l("安全"),
                                      endpoint="security_report", url="security-report"))
