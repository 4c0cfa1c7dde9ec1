"""应收账款 (R-CRED-9, R-CRED-10): finance's page — who owes us what, how late, and who is frozen
(ageing per customer and per salesperson) — the monthly 《预付、赊销客户汇总表》 with finance's
submission and the general manager's approval, and the month's collection list. Each page
exports CSV and XLSX. Data and rules: ``portal.services.receivables`` / ``credit_reports``."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_admin import BaseView, expose
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from admin_views.base import actor, record_denied, translated
from admin_views.reports import chart_svg, export_response, localized_report, refused_page
from models import CreditSummaryApproval
from portal import policy
from portal.extensions import db
from portal.services import credit_reports, receivables, report_access
from portal.services.errors import DomainError, PermissionDenied
from portal.services.unit import form_version

TABS = [("ageing", _l("应收账龄"), "receivables.index"),
        ("summary", _l("预付、赊销客户汇总表"), "receivables.summary"),
        ("collection", _l("催收清单"), "receivables.collection")]


class ReceivablesView(BaseView):
    """Guarded by ``credit.view`` (the rows are scoped by it); exports need ``credit.export``;
    submitting the summary needs ``credit.review``, approving it ``credit.approve_summary``."""

    # the 待办 inbox links a summary approval to ``details_view`` of the view of its model
    model = CreditSummaryApproval

    def is_accessible(self) -> bool:
        return report_access.may_open(actor(), "receivables")

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Any:
        return refused_page("receivables")

    def _show(self, active: str, build: Any, params: list[tuple], filename: str,
              **extra: Any) -> Any:
        report = None
        try:
            report = build()
        except PermissionDenied:  # audited by the service verb
            abort(403)
        except DomainError as exc:
            flash(translated(exc), "error")
        fmt = request.args.get("format")
        if fmt and report is not None:
            return export_response("receivables", report, fmt, filename)
        can_export = report_access.may_export(actor(), "receivables")
        args = {k: v for k, v in request.args.items() if k != "format"}
        if report is not None:  # the page shows the reader's half of "中文 / English"
            report = localized_report(report)
        charts = [Markup(chart_svg(c)) for c in report.charts] if report else []
        return self.render("admin/receivables.html", tabs=TABS, active=active, report=report,
                           charts=charts, params=params, can_export=can_export,
                           csv_url=url_for(request.endpoint, **args, format="csv"),
                           xlsx_url=url_for(request.endpoint, **args, format="xlsx"),
                           money=receivables.money, **extra), 200 if report else 400

    @expose("/")
    def index(self) -> Any:
        raw = request.args.get("as_of") or report_access.day_arg(None).isoformat()

        def build() -> Any:
            return credit_reports.ageing_report(db.session, actor(),
                                                report_access.day_arg(raw))

        return self._show("ageing", build, [("as_of", _l("截至日期"), "date", raw)],
                          f"ageing-{raw}")

    @expose("/summary")
    def summary(self) -> Any:
        month = request.args.get("month") or report_access.default_month("credit_summary")
        state: dict[str, Any] = {}

        def build() -> Any:
            value = report_access.month_arg("credit_summary", month)
            s = receivables.monthly_summary(db.session, actor(), value)
            state["approval"], state["approved"] = s.approval, s.approved
            return credit_reports.summary_report(db.session, actor(), value, summary=s)

        user = actor()
        return self._show("summary", build, [("month", _l("月份"), "month", month)],
                          f"credit-summary-{month}", month=month, state=state,
                          can_submit=receivables.may_submit(user),
                          can_approve=policy.can(user, "credit.approve_summary"))

    @expose("/details/")
    def details_view(self) -> Any:
        """A summary approval (from the 待办 inbox): its month's summary page."""
        approval = db.session.get(CreditSummaryApproval, _int(request.args.get("id")) or 0)
        if approval is None:
            return redirect(url_for(".summary"))
        return redirect(url_for(".summary", month=approval.month))

    @expose("/summary/submit", methods=("POST",))
    def summary_submit(self) -> Any:
        return self._write("credit.review", "submit_summary", gettext("已提交总经理审批。"))

    @expose("/summary/approve", methods=("POST",))
    def summary_approve(self) -> Any:
        return self._write("credit.approve_summary", "approve_summary",
                           gettext("汇总表已审批。"))

    def _write(self, action: str, verb: str, done: str) -> Any:
        if not policy.can(actor(), action):
            record_denied(action, "credit_summary")
            abort(403)
        month = (request.form.get("month") or "").strip()
        try:
            if verb == "submit_summary":
                receivables.submit_summary(db.session, actor(), month)
            else:
                receivables.approve_summary(
                    db.session, actor(), month, request.form.get("comment") or "",
                    expected_version=form_version(request.form.get("version")))
        except PermissionDenied:
            abort(403)
        except DomainError as exc:
            flash(translated(exc), "error")
        else:
            flash(done, "success")
        return redirect(url_for(".summary", month=month) if month else url_for(".summary"))

    @expose("/collection")
    def collection(self) -> Any:
        month = request.args.get("month") or report_access.default_month("collection")
        return self._show("collection",
                          lambda: credit_reports.collection_report(
                              db.session, actor(), report_access.month_arg("collection", month)),
                          [("month", _l("月份"), "month", month)], f"collection-{month}")


def _int(raw: Any) -> int | None:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


def register(admin: Any) -> None:
    admin.add_view(ReceivablesView(name=_l("应收账款"), category=_l("客户信用"),
                                   endpoint="receivables", url="receivables"))
