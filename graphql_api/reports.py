"""The report fields of the root query (mixed into ``Query``): the portal's reports, through
the same service functions and the same checks.

- ``report.view`` is required first, as the portal's report pages require it; a refusal is
  audited once ('denied', action ``report.view``, target ``reports``) and answered with a
  FORBIDDEN error and ``null``.
- The figures are the results of ``complaints.monthly_statistics``,
  ``reception.statistics``, ``credit.usage_report`` and ``credit.over_limit_customers``
  (scoped by the policy there; refusals inside them are audited by the service verbs);
  the labels and the CSV come from ``portal.services.reports`` built on those same results.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from graphql_api.types.reports import (
    ComplaintStatistics,
    CreditUsageReport,
    OverLimitReport,
    ReceptionStatistics,
    ReportPeriod,
    shown,
)
from portal.services import complaints, credit, reception, report_access, reports
from portal.services.errors import DomainError


def run_report(info: Info, family: str, where: str, call: Callable[[Any, Any], Any]) -> Any:
    """``call(session, user)`` after ``report_access.check_open`` (the portal's guard of the
    same report pages); a refusal or a bad argument is a shown error and ``null``."""
    ctx = info.context
    try:
        report_access.check_open(ctx.session, ctx.user, family, f"graphql {where}")
        return call(ctx.session, ctx.user)
    except DomainError as exc:  # the verbs rolled back (and audited a refusal)
        ctx.session.rollback()
        raise shown(exc) from None


def _run(info: Info, where: str, call: Callable[[Any, Any], Any]) -> Any:
    return run_report(info, "reports", where, call)


@strawberry.type
class ReportQueries:
    @strawberry.field(description="R-COMP-8 monthly complaint statistics (default: the previous "
                                  "month until the 10th, then the current one). Needs "
                                  "report.view.")
    def complaint_statistics(self, info: Info, year: int | None = None,
                             month: int | None = None) -> ComplaintStatistics | None:
        def call(session: Any, user: Any) -> ComplaintStatistics:
            y, m = report_access.complaint_month(year, month)
            stats = complaints.monthly_statistics(session, user, y, m)
            report = reports.complaint_report(session, user, y, m, stats=stats)
            return ComplaintStatistics.build(stats, report)

        return _run(info, "complaintStatistics", call)

    @strawberry.field(description="R-RECV-3 reception statistics by day, week or month over "
                                  "[start, end] (company dates, inclusive; default: the first "
                                  "of this month to today). Needs report.view.")
    def reception_statistics(self, info: Info, period: ReportPeriod = ReportPeriod.DAY,
                             start: date | None = None, end: date | None = None
                             ) -> ReceptionStatistics | None:
        start_d, end_d = report_access.reception_range(start, end)

        def call(session: Any, user: Any) -> ReceptionStatistics:
            stats = reception.statistics(session, user, period.value, start_d, end_d)
            report = reports.reception_report(session, user, period.value, start_d, end_d,
                                              stats=stats)
            return ReceptionStatistics.build(stats, report)

        return _run(info, "receptionStatistics", call)

    @strawberry.field(description='Credit usage of a month ("YYYY-MM", default: this month), '
                                  "R-CRED-7. Needs report.view and credit.view; the read is "
                                  "audited.")
    def credit_usage(self, info: Info, month: str | None = None) -> CreditUsageReport | None:
        def call(session: Any, user: Any) -> CreditUsageReport:
            value = report_access.month_arg("credit_usage", month)
            rows = credit.usage_report(session, user, value)
            report = reports.credit_usage(session, user, value, rows=rows)
            return CreditUsageReport.build(value, rows, report)

        return _run(info, "creditUsage", call)

    @strawberry.field(description="R-CRED-8 customers above their credit limit, for collection. "
                                  "Needs report.view and credit.view; the read is audited.")
    def over_limit_customers(self, info: Info) -> OverLimitReport | None:
        def call(session: Any, user: Any) -> OverLimitReport:
            rows = credit.over_limit_customers(session, user)
            report = reports.over_limit(session, user, rows=rows)
            return OverLimitReport.build(report_access.day_arg(None), rows, report)

        return _run(info, "overLimitCustomers", call)
