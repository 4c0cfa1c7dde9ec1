"""The report types: monthly complaint statistics (R-COMP-8), reception statistics (R-RECV-3),
credit usage and the over-limit list (R-CRED-7, R-CRED-8).

Every figure is copied from the result of the same service function the portal's report page
calls; labels and the CSV come from the same ``portal.services.reports.Report`` the page renders
and exports. The ``csv`` field needs ``report.export`` like the portal's export link: without it
the field is ``null`` with a FORBIDDEN error (the figures stay), and the refusal is audited as
the portal audits it.
"""

from __future__ import annotations

import enum
from datetime import date
from decimal import Decimal
from typing import Any

import strawberry
from flask_babel import gettext
from strawberry.types import Info

from graphql_api.permissions import ShownError, _camel
from portal.services import report_access, reports
from portal.services.errors import DomainError


def refuse(info: Info, action: str, target: str, where: str) -> ShownError:
    """Record one 'denied' audit entry (``report_access.refuse``, as the portal's report pages
    do) and return the FORBIDDEN error to raise."""
    ctx = info.context
    return shown(report_access.refuse(ctx.session, ctx.user, action, target, f"graphql {where}"))


def shown(exc: DomainError) -> ShownError:
    """A domain error from a report service as a shown GraphQL error (translated message,
    ``extensions.code`` FORBIDDEN, VALIDATION, …, plus the field and rule when known)."""
    extra: dict[str, Any] = {}
    if exc.field:
        extra["field"] = _camel(exc.field)
    if exc.rule:
        extra["rule"] = exc.rule
    return ShownError(exc.translated(gettext), code=exc.code.upper(), **extra)


def export_csv(info: Info, report: reports.Report, filename: str, where: str,
               family: str = "reports") -> str:
    """The portal's CSV of ``report``, decided by ``report_access.export`` exactly as the
    portal's ``?format=csv`` (the grant, the audit of a refusal, formula cells neutralised):
    without the grant a FORBIDDEN error (audited once)."""
    ctx = info.context
    try:
        out = report_access.export(ctx.session, ctx.user, family, report, "csv", filename,
                                   f"graphql {where}.csv", gettext)
    except DomainError as exc:
        raise shown(exc) from None
    return str(out.body)


CSV_DESCRIPTION = ("The same CSV the portal exports (UTF-8 with BOM; cells a spreadsheet would "
                   "run as formulas are prefixed with '). Needs report.export: otherwise null "
                   "with a FORBIDDEN error.")


@strawberry.type(description="One line of a count table: the raw key, the label the portal "
                             "shows, and the count.")
class ReportCount:
    key: str
    label: str
    count: int


def counts(kind: str, values: dict[str, int]) -> list[ReportCount]:
    """Counts in the portal's order (the vocabulary's order, then any other key)."""
    from flask_babel import gettext

    names = reports.LABELS.get(kind, {})
    order = list(names) + [k for k in values if k not in names]
    return [ReportCount(key=k, label=gettext(names[k]) if k in names else k,
                        count=int(values[k])) for k in order if k in values]


# --- R-COMP-8 -------------------------------------------------------------------------------


@strawberry.type(description="R-COMP-8 客户投诉月度统计: complaints registered in the month "
                             "(company time) that you may see.")
class ComplaintStatistics:
    _report: strawberry.Private[reports.Report]
    _filename: strawberry.Private[str]
    year: int
    month: int
    period: str = strawberry.field(description='"YYYY-MM".')
    total: int = strawberry.field(description="Cases registered in the month.")
    closed: int = strawberry.field(
        description="Cases closed in the month (汇总上月份结案的案件), whenever registered.")
    closed_on_time: int
    on_time_rate: float | None = strawberry.field(
        description="Closed on time / closed in the month (0..1); null when none was closed.")
    avg_handling_hours: float | None = strawberry.field(
        description="Average hours from registration to closing of the cases closed in the "
                    "month.")
    avg_satisfaction: float | None = strawberry.field(description="1..5; null when no score.")
    satisfaction_count: int
    open_overdue: int
    by_type: list[ReportCount]
    by_cause: list[ReportCount]
    by_department: list[ReportCount] = strawberry.field(
        description="By responsible department (key and label: its name).")
    by_severity: list[ReportCount]
    by_status: list[ReportCount]
    closed_by_type: list[ReportCount] = strawberry.field(
        description="Cases closed in the month, by type.")
    closed_by_cause: list[ReportCount]
    closed_by_department: list[ReportCount]
    closed_by_severity: list[ReportCount]
    responsibility_by_department: list[ReportCount] = strawberry.field(
        description="R-COMP-11: cases closed in the month, by the department at fault.")
    responsibility_by_cause: list[ReportCount] = strawberry.field(
        description="quality | non_quality, of the cases closed in the month.")
    penalty_confirmed_total: Decimal = strawberry.field(
        description="Penalty notices of those cases confirmed by the general manager (元).")
    penalty_draft_total: Decimal
    penalty_waived_total: Decimal

    @strawberry.field(description=CSV_DESCRIPTION)
    def csv(self, info: Info) -> str | None:
        return export_csv(info, self._report, self._filename, "complaintStatistics")

    @classmethod
    def build(cls, stats: dict[str, Any], report: reports.Report) -> ComplaintStatistics:
        return cls(_report=report, _filename=f"complaints-{stats['period']}",
                   year=stats["year"], month=stats["month"], period=stats["period"],
                   total=stats["total"], closed=stats["closed"],
                   closed_on_time=stats["closed_on_time"], on_time_rate=stats["on_time_rate"],
                   avg_handling_hours=stats["avg_handling_hours"],
                   avg_satisfaction=stats["avg_satisfaction"],
                   satisfaction_count=stats["satisfaction_count"],
                   open_overdue=stats["open_overdue"],
                   by_type=counts("type", stats["by_type"]),
                   by_cause=counts("cause", stats["by_cause"]),
                   by_department=counts("department", stats["by_department"]),
                   by_severity=counts("severity", stats["by_severity"]),
                   closed_by_type=counts("type", stats["closed_by_type"]),
                   closed_by_cause=counts("cause", stats["closed_by_cause"]),
                   closed_by_department=counts("department", stats["closed_by_department"]),
                   closed_by_severity=counts("severity", stats["closed_by_severity"]),
                   by_status=counts("status", stats["by_status"]),
                   responsibility_by_department=counts(
                       "department", stats["fault_by_department"]),
                   responsibility_by_cause=counts("fault_cause", stats["fault_by_cause"]),
                   penalty_confirmed_total=stats["penalty_totals"]["confirmed"],
                   penalty_draft_total=stats["penalty_totals"]["draft"],
                   penalty_waived_total=stats["penalty_totals"]["waived"])


# --- R-RECV-3 -------------------------------------------------------------------------------


@strawberry.enum(description="The grain of reception statistics.")
class ReportPeriod(enum.Enum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@strawberry.type(description="Reception counts. Returning visitors are counted apart (R-RECV-2):"
                             " visits and calls are new receptions only.")
class ReceptionCounts:
    visits: int
    calls: int
    returning: int
    receptions: int = strawberry.field(description="visits + calls.")
    deals: int
    conversion: float = strawberry.field(description="deals / receptions (0..1).")


@strawberry.type(description="One line of a reception statistics table.")
class ReceptionStatRow:
    key: str | None = strawberry.field(
        description='The period\'s first day ("2025-03-17"), the visitor class ("a"), the '
                    'outcome ("deal"), or the global id of the staff member ("User:5"; null: '
                    'unassigned) or branch ("Branch:2").')
    label: str = strawberry.field(description="As the portal shows it.")
    visits: int
    calls: int
    returning: int
    receptions: int
    deals: int
    conversion: float


def _counts(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("visits", "calls", "returning", "receptions", "deals",
                                "conversion")}


_RECEPTION_TABLES = (("by_bucket", None), ("by_class", None), ("by_staff", "User"),
                     ("by_branch", "Branch"), ("by_outcome", None))


@strawberry.type(description="R-RECV-3 来人来电统计 over [start, end] (company dates, "
                             "inclusive) of the records in your report scope.")
class ReceptionStatistics:
    _report: strawberry.Private[reports.Report]
    _filename: strawberry.Private[str]
    period: ReportPeriod
    start: date
    end: date
    total: ReceptionCounts
    by_period: list[ReceptionStatRow] = strawberry.field(
        description="One row per day, week (from Monday) or month of the range.")
    by_class: list[ReceptionStatRow]
    by_staff: list[ReceptionStatRow]
    by_branch: list[ReceptionStatRow]
    by_outcome: list[ReceptionStatRow]

    @strawberry.field(description=CSV_DESCRIPTION)
    def csv(self, info: Info) -> str | None:
        return export_csv(info, self._report, self._filename, "receptionStatistics")

    @classmethod
    def build(cls, stats: Any, report: reports.Report) -> ReceptionStatistics:
        data = stats.as_dict()
        tables: dict[str, list[ReceptionStatRow]] = {}
        # the report's tables are built from the same rows in the same order: their first
        # column is the label the portal shows
        for (key, type_name), table in zip(_RECEPTION_TABLES, report.tables, strict=True):
            tables[key] = [
                ReceptionStatRow(key=(None if row["key"] is None else
                                      f"{type_name}:{row['key']}" if type_name else
                                      str(row["key"])),
                                 label=str(line[0]), **_counts(row))
                for row, line in zip(data[key], table.rows, strict=True)]
        return cls(_report=report, _filename=f"reception-{data['start']}-{data['end']}",
                   period=ReportPeriod(data["period"]), start=stats.start, end=stats.end,
                   total=ReceptionCounts(**_counts(data["total"])),
                   by_period=tables["by_bucket"], by_class=tables["by_class"],
                   by_staff=tables["by_staff"], by_branch=tables["by_branch"],
                   by_outcome=tables["by_outcome"])


# --- R-CRED-7 / R-CRED-8 --------------------------------------------------------------------


@strawberry.type(description="A customer's use of its credit line in the month.")
class CreditUsageRow:
    customer_id: strawberry.ID
    code: str
    name: str
    limit: Decimal
    outstanding_balance: Decimal
    usage_ratio: Decimal = strawberry.field(description="outstanding / limit (1 = 100%).")
    over_limit: bool
    recorded: bool = strawberry.field(
        description="True: the month's recorded usage review; false: live figures of a line "
                    "in force not reviewed yet.")


@strawberry.type(description="授信额度执行情况 of a month (R-CRED-7), the customers in your "
                             "credit scope.")
class CreditUsageReport:
    _report: strawberry.Private[reports.Report]
    _filename: strawberry.Private[str]
    month: str = strawberry.field(description='"YYYY-MM".')
    customer_count: int
    over_limit_count: int
    rows: list[CreditUsageRow]

    @strawberry.field(description=CSV_DESCRIPTION)
    def csv(self, info: Info) -> str | None:
        return export_csv(info, self._report, self._filename, "creditUsage")

    @classmethod
    def build(cls, month: str, rows: list[dict[str, Any]], report: reports.Report
              ) -> CreditUsageReport:
        return cls(_report=report, _filename=f"credit-{month}", month=month,
                   customer_count=len(rows),
                   over_limit_count=sum(1 for row in rows if row["over_limit"]),
                   rows=[CreditUsageRow(customer_id=strawberry.ID(f"Customer:{row['customer_id']}"),
                                        code=row["code"], name=row["name"], limit=row["limit"],
                                        outstanding_balance=row["outstanding_balance"],
                                        usage_ratio=row["usage_ratio"],
                                        over_limit=row["over_limit"], recorded=row["recorded"])
                         for row in rows])


@strawberry.type(description="A customer above its credit limit (no line in force: limit 0).")
class OverLimitRow:
    customer_id: strawberry.ID
    code: str
    name: str
    limit: Decimal
    outstanding_balance: Decimal
    excess: Decimal


@strawberry.type(description="R-CRED-8 超额度客户: customers above their limit today, for "
                             "collection (your credit scope), largest excess first.")
class OverLimitReport:
    _report: strawberry.Private[reports.Report]
    _filename: strawberry.Private[str]
    date: date
    customer_count: int
    total_excess: Decimal
    rows: list[OverLimitRow]

    @strawberry.field(description=CSV_DESCRIPTION)
    def csv(self, info: Info) -> str | None:
        return export_csv(info, self._report, self._filename, "overLimitCustomers")

    @classmethod
    def build(cls, today: date, rows: list[dict[str, Any]], report: reports.Report
              ) -> OverLimitReport:
        return cls(_report=report, _filename=f"over-limit-{today:%Y%m%d}", date=today,
                   customer_count=len(rows),
                   total_excess=sum((row["excess"] for row in rows), Decimal(0)),
                   rows=[OverLimitRow(customer_id=strawberry.ID(f"Customer:{row['customer_id']}"),
                                      code=row["code"], name=row["name"], limit=row["limit"],
                                      outstanding_balance=row["outstanding_balance"],
                                      excess=row["excess"])
                         for row in rows])
