"""GraphQL door of receivables (R-CRED-9, R-CRED-10) and penalty notices (R-COMP-11): the
same service functions as the portal's 应收账款 and 处罚通知单 pages, the same CSV.

Queries need the same grants as the pages: ``credit.view`` for the ageing, the summary and the
collection list (rows scoped by it), ``penalty.view`` for HR's penalty list; the ``csv`` field
needs ``credit.export`` / ``penalty.export``. Refusals are audited once and answered with a
FORBIDDEN error and ``null``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from graphql_api.reports import run_report
from graphql_api.types.reports import export_csv
from portal.services import credit_reports, penalties, report_access, reports
from portal.services import receivables as rc


def _run(info: Info, family: str, where: str, call: Callable[[Any, Any], Any]) -> Any:
    return run_report(info, family, where, call)


def _csv(info: Info, report: reports.Report, family: str, name: str) -> str:
    return export_csv(info, report, name, name, family)


@strawberry.type(description="A customer's open items by age on the date asked (R-CRED-9).")
class AgeingRow:
    customer_id: strawberry.ID
    code: str
    name: str
    kind: str = strawberry.field(description="credit_sale (赊销), prepayment (预付) or both.")
    salesperson: str | None
    limit: Decimal
    term_days: int | None
    balance: Decimal
    not_due: Decimal
    days_1_to_30: Decimal
    days_31_to_60: Decimal
    days_61_to_90: Decimal
    over_90_days: Decimal
    past_due: Decimal
    frozen: bool = strawberry.field(description="Has a past-due balance: no new credit sale "
                                                "or prepayment without an over-limit approval.")

    @classmethod
    def of(cls, r: rc.AgeingRow) -> AgeingRow:
        b = r.buckets
        return cls(customer_id=strawberry.ID(f"Customer:{r.customer_id}"), code=r.code,
                   name=r.name, kind=r.kind, salesperson=r.owner_name or None, limit=r.limit,
                   term_days=r.term_days, balance=r.balance, not_due=b["current"],
                   days_1_to_30=b["d1_30"], days_31_to_60=b["d31_60"],
                   days_61_to_90=b["d61_90"], over_90_days=b["d90_plus"],
                   past_due=r.past_due, frozen=r.frozen)


@strawberry.type(description="Ageing summed per salesperson (the customer's owner).")
class SalespersonAgeing:
    salesperson: str | None
    customers: int
    frozen: int
    balance: Decimal
    past_due: Decimal


@strawberry.type(description="应收账款账龄: who owes us what, how late, and who is frozen.")
class ReceivablesAgeing:
    _report: strawberry.Private[reports.Report]
    as_of: date
    total_balance: Decimal
    total_past_due: Decimal
    frozen_count: int
    rows: list[AgeingRow]
    by_salesperson: list[SalespersonAgeing]

    @strawberry.field(description="The portal's CSV. Needs credit.export.")
    def csv(self, info: Info) -> str | None:
        return _csv(info, self._report, "receivables", "receivablesAgeing")


def _by_salesperson(rows: list[rc.AgeingRow]) -> list[SalespersonAgeing]:
    return [SalespersonAgeing(salesperson=a["owner_name"] or None, customers=a["customers"],
                              frozen=a["frozen"], balance=a["balance"],
                              past_due=a["past_due"]) for a in rc.by_salesperson(rows)]


@strawberry.type(description="The general manager's approval of a monthly summary.")
class SummaryApproval:
    month: str
    status: str = strawberry.field(description="submitted | approved")
    version: int
    customer_count: int
    total_balance: Decimal
    total_past_due: Decimal
    submitted_by: str
    submitted_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    comment: str | None

    @classmethod
    def of(cls, a: Any) -> SummaryApproval:
        return cls(month=a.month, status=a.status, version=a.version,
                   customer_count=a.customer_count, total_balance=a.total_balance,
                   total_past_due=a.total_past_due, submitted_by=a.submitted_by.full_name,
                   submitted_at=a.submitted_at,
                   approved_by=a.approved_by.full_name if a.approved_by else None,
                   approved_at=a.approved_at, comment=a.comment)


@strawberry.type(description="《预付、赊销客户汇总表》 of a month (R-CRED-10).")
class CreditSummary:
    _report: strawberry.Private[reports.Report]
    month: str
    as_of: date
    rows: list[AgeingRow]
    total_limit: Decimal
    total_balance: Decimal
    total_past_due: Decimal
    limits_in_force: Decimal
    company_ceiling: Decimal | None = strawberry.field(description="null: no ceiling set.")
    approval: SummaryApproval | None

    @strawberry.field(description="The portal's CSV. Needs credit.export.")
    def csv(self, info: Info) -> str | None:
        return _csv(info, self._report, "receivables", "creditSummary")


@strawberry.type(description="An open item due by the month's end (本月催收清单).")
class CollectionItem:
    customer_id: strawberry.ID
    code: str
    name: str
    kind: str
    salesperson: str | None
    booked_on: date
    due_on: date
    days_past_due: int
    amount: Decimal
    open_amount: Decimal


@strawberry.type(description="One confirmed penalty for HR (R-COMP-11).")
class PenaltyRow:
    notice_id: strawberry.ID
    complaint_number: str
    person: str
    department: str
    ground: str = strawberry.field(description="substantiated | late_staff | late_manager")
    amount: Decimal
    confirmed_at: datetime


@strawberry.type
class ReceivablesQueries:
    @strawberry.field(description="R-CRED-9 ageing per customer and per salesperson on asOf "
                                  "(default today). Needs credit.view; rows in its scope.")
    def receivables_ageing(self, info: Info, as_of: date | None = None
                           ) -> ReceivablesAgeing | None:
        def call(s: Any, u: Any) -> ReceivablesAgeing:
            day = report_access.day_arg(as_of)
            rows = rc.ageing(s, u, day)
            report = credit_reports.ageing_report(s, u, day, rows=rows)
            return ReceivablesAgeing(
                _report=report, as_of=day, total_balance=sum((r.balance for r in rows),
                                                             Decimal(0)),
                total_past_due=sum((r.past_due for r in rows), Decimal(0)),
                frozen_count=sum(1 for r in rows if r.frozen),
                rows=[AgeingRow.of(r) for r in rows], by_salesperson=_by_salesperson(rows))

        return _run(info, "receivables", "receivablesAgeing", call)

    @strawberry.field(description='R-CRED-10 《预付、赊销客户汇总表》 of month ("YYYY-MM", '
                                  "default: last month) with its approval. Needs credit.view.")
    def credit_summary(self, info: Info, month: str | None = None) -> CreditSummary | None:
        def call(s: Any, u: Any) -> CreditSummary:
            value = report_access.month_arg("credit_summary", month)
            summary = rc.monthly_summary(s, u, value)
            report = credit_reports.summary_report(s, u, value, summary=summary)
            t = summary.totals
            return CreditSummary(
                _report=report, month=value, as_of=summary.as_of,
                rows=[AgeingRow.of(r) for r in summary.rows], total_limit=t["limit"],
                total_balance=t["balance"], total_past_due=t["past_due"],
                limits_in_force=summary.limits_total,
                company_ceiling=summary.ceiling if summary.ceiling > 0 else None,
                approval=SummaryApproval.of(summary.approval) if summary.approval else None)

        return _run(info, "receivables", "creditSummary", call)

    @strawberry.field(description='The collection list of month ("YYYY-MM", default this '
                                  "month): open items due by its end. Needs credit.view.")
    def collection_list(self, info: Info, month: str | None = None
                        ) -> list[CollectionItem] | None:
        def call(s: Any, u: Any) -> list[CollectionItem]:
            value = report_access.month_arg("collection", month)
            return [CollectionItem(customer_id=strawberry.ID(f"Customer:{x['customer_id']}"),
                                   code=x["code"], name=x["name"], kind=x["kind"],
                                   salesperson=x["owner_name"] or None,
                                   booked_on=x["booked_on"], due_on=x["due_on"],
                                   days_past_due=x["days_past_due"], amount=x["amount"],
                                   open_amount=x["open_amount"])
                    for x in rc.collection_list(s, u, value)]

        return _run(info, "receivables", "collectionList", call)

    @strawberry.field(description='R-COMP-11 penalties confirmed in month ("YYYY-MM", '
                                  "default this month), for HR. Needs penalty.view.")
    def penalty_list(self, info: Info, month: str | None = None) -> list[PenaltyRow] | None:
        def call(s: Any, u: Any) -> list[PenaltyRow]:
            value = report_access.month_arg("penalties", month)
            return [PenaltyRow(notice_id=strawberry.ID(f"PenaltyNotice:{x['notice_id']}"),
                               complaint_number=x["complaint_number"], person=x["person"],
                               department=x["department"], ground=x["ground"],
                               amount=x["amount"], confirmed_at=x["confirmed_at"])
                    for x in penalties.hr_list(s, u, value)]

        return _run(info, "penalties", "penaltyList", call)
