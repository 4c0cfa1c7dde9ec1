"""``securityReport(month)`` (R-AUD-5): the portal's monthly security report through the same
service (``portal.services.security_report.monthly_report``) and the same grant
(``security_report.view``, by default the security auditor only). A refusal is audited once by
the service verb and answered with FORBIDDEN and ``null``; a bad month is a VALIDATION error on
``month``. Labels are in the caller's language; ``csv`` is the portal's export and needs
``security_report.export`` like the portal's link."""

from __future__ import annotations

from typing import Any

import strawberry
from flask_babel import gettext
from strawberry.types import Info

from graphql_api.reports import run_report
from graphql_api.types.reports import export_csv
from portal.services import report_access
from portal.services import security_report as svc


@strawberry.type(description="One line of a section: a key (the audit action, the kind of "
                             "refusal, the level or the login name), its label and its counts "
                             "in the section's column order.")
class SecurityReportRow:
    key: str
    label: str
    values: list[int]


@strawberry.type(description="One table of the security report.")
class SecurityReportSection:
    key: str
    title: str
    header: list[str]
    rows: list[SecurityReportRow]


@strawberry.type(description="A headline figure of the security report.")
class SecurityReportFigure:
    key: str
    label: str
    value: int


@strawberry.type(description="R-AUD-5 the monthly security report (company-time month).")
class SecurityReport:
    month: str
    figures: list[SecurityReportFigure]
    sections: list[SecurityReportSection]
    _report: strawberry.Private[Any]

    @strawberry.field(description="The portal's CSV export (UTF-8 with BOM); needs "
                                  "security_report.export, else null with FORBIDDEN (audited).")
    def csv(self, info: Info) -> str | None:
        return export_csv(info, self._report, f"security-report-{self.month}",
                          "securityReport", "security_report")

    @classmethod
    def build(cls, r: svc.SecurityReport) -> SecurityReport:
        return cls(
            month=r.month_text,
            figures=[SecurityReportFigure(key=k, label=gettext(label), value=v)
                     for k, label, v in r.figures],
            sections=[SecurityReportSection(
                key=s.key, title=gettext(s.title), header=[gettext(h) for h in s.header],
                rows=[SecurityReportRow(key=row.key,
                                        label=row.label if row.data else gettext(row.label),
                                        values=list(row.values)) for row in s.rows])
                for s in r.sections],
            _report=r)


@strawberry.type
class SecurityReportQueries:
    @strawberry.field(description='R-AUD-5 the monthly security report of a month ("YYYY-MM", '
                                  "company time; default: the previous month until the 10th, "
                                  "then the current one). Needs security_report.view (by "
                                  "default the security auditor only); a refusal is audited.")
    def security_report(self, info: Info, month: str | None = None) -> SecurityReport | None:
        def call(session: Any, user: Any) -> SecurityReport:
            value = report_access.month_arg("security_report", month)
            return SecurityReport.build(svc.monthly_report(session, user, value))

        return run_report(info, "security_report", "securityReport", call)
