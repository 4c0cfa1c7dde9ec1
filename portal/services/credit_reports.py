"""Receivables reports (R-CRED-9, R-CRED-10) as ``reports.Report`` objects for the portal page,
the CSV/XLSX exports and GraphQL: the ageing (per customer and per salesperson, with who is
frozen), the monthly 《预付、赊销客户汇总表》 and the month's collection list. The figures come
from ``portal.services.receivables``; labels follow the other reports (Chinese / English)."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from models import User
from portal.services import receivables as rc
from portal.services.cells import xlsx_cell
from portal.services.reports import Chart, Report, Table


class Word(str):
    """A "中文 / English" vocabulary word in a table cell (a kind, an age bucket, a status):
    a page shows the reader's half, while data cells (names, codes) are left as they are."""

    __slots__ = ()


class Badge(Word):
    """A status cell: text in the CSV/XLSX, a coloured badge on the page."""

    tone: str = "secondary"

    def __new__(cls, text: str, tone: str = "secondary") -> Badge:
        obj = super().__new__(cls, text)
        obj.tone = tone
        return obj


KIND_LABELS = {"credit_sale": Word("赊销 / credit sale"), "prepayment": Word("预付 / prepayment"),
               "both": Word("赊销+预付 / credit sale and prepayment")}
BUCKET_LABELS = {"current": Word("未到期 / not due"), "d1_30": Word("≤30天 / ≤ 30 days"),
                 "d31_60": Word("31–60天 / 31–60 days"), "d61_90": Word("61–90天 / 61–90 days"),
                 "d90_plus": Word(">90天 / > 90 days")}


def frozen_badge(frozen: bool) -> Badge:
    return Badge("冻结 / frozen", "danger") if frozen else Badge("正常 / normal", "success")


_AGE_HEADER = [BUCKET_LABELS[b] for b in rc.BUCKETS]


def _customer_table(title: str, rows: list[rc.AgeingRow]) -> Table:
    header = ["编号 / code", "客户 / customer", "类型 / kind", "业务员 / salesperson",
              "信用额度 / limit", "期限(天) / term", "余额 / balance", *_AGE_HEADER,
              "逾期合计 / past due", "状态 / status"]
    body = [[r.code, r.name, KIND_LABELS[r.kind], r.owner_name or "—", r.limit,
             r.term_days if r.term_days is not None else "—", r.balance,
             *[r.buckets[b] for b in rc.BUCKETS], r.past_due, frozen_badge(r.frozen)]
            for r in rows]
    return Table(title, header, body)


def _salesperson_table(rows: list[rc.AgeingRow]) -> Table:
    header = ["业务员 / salesperson", "客户数 / customers", "冻结 / frozen",
              "余额 / balance", *_AGE_HEADER, "逾期合计 / past due"]
    body = [[a["owner_name"] or "未分配 / unassigned", a["customers"], a["frozen"],
             a["balance"], *[a[b] for b in rc.BUCKETS], a["past_due"]]
            for a in rc.by_salesperson(rows)]
    return Table("按业务员 / by salesperson", header, body)


def _totals(rows: list[rc.AgeingRow]) -> dict[str, Decimal]:
    out = {b: sum((r.buckets[b] for r in rows), Decimal(0)) for b in rc.BUCKETS}
    out["balance"] = sum((r.balance for r in rows), Decimal(0))
    out["past_due"] = sum((r.past_due for r in rows), Decimal(0))
    return out


def ageing_report(session: Session, actor: User, as_of: date, *,
                  rows: list[rc.AgeingRow] | None = None) -> Report:
    """Finance's one page: who owes us what, how late, and who is frozen."""
    if rows is None:
        rows = rc.ageing(session, actor, as_of)
    totals = _totals(rows)
    frozen = [r for r in rows if r.frozen]
    r = Report("ageing", f"应收账款账龄 / receivables ageing {as_of:%Y-%m-%d}")
    r.figures = [("应收及预付余额 / balance", rc.money(totals["balance"])),
                 ("逾期合计 / past due", rc.money(totals["past_due"])),
                 ("冻结客户 / frozen customers", len(frozen)),
                 ("有余额客户 / customers with a balance", sum(1 for x in rows if x.balance))]
    r.charts.append(Chart("账龄分布(元) / ageing (yuan)",
                          [(BUCKET_LABELS[b], float(totals[b])) for b in rc.BUCKETS]))
    r.tables.append(_customer_table("按客户 / by customer", rows))
    r.tables.append(_salesperson_table(rows))
    return r


def summary_report(session: Session, actor: User, month: str, *,
                   summary: rc.Summary | None = None) -> Report:
    """《预付、赊销客户汇总表》 of the month with its approval state."""
    s = summary if summary is not None else rc.monthly_summary(session, actor, month)
    totals = s.totals
    r = Report("summary", f"《预付、赊销客户汇总表》 {month}（截至 / as of {s.as_of:%Y-%m-%d}）")
    a = s.approval
    if a is None:
        state = Badge("未提交 / not submitted", "secondary")
    elif a.status == "approved":
        state = Badge("总经理已审批 / approved by the GM", "success")
    else:
        state = Badge("待总经理审批 / awaiting the GM", "warning")
    r.figures = [("审批状态 / approval", state),
                 ("客户及供应商 / customers and suppliers", len(s.rows)),
                 ("授信额度合计 / limits", rc.money(totals["limit"])),
                 ("余额合计 / balance", rc.money(totals["balance"])),
                 ("逾期合计 / past due", rc.money(totals["past_due"])),
                 ("有效授信总额 / limits in force", rc.money(s.limits_total)),
                 ("公司授信总额上限 / company ceiling",
                  rc.money(s.ceiling) if s.ceiling > 0 else "未设 / none")]
    if a is not None and a.status == "approved":
        r.figures.append(("审批意见 / comment", a.comment or ""))
    r.tables.append(_customer_table("汇总表 / summary", s.rows))
    return r


def collection_report(session: Session, actor: User, month: str, *,
                      rows: list[dict[str, Any]] | None = None) -> Report:
    """The month's collection list (本月催收清单)."""
    if rows is None:
        rows = rc.collection_list(session, actor, month)
    r = Report("collection", f"催收清单 / collection list {month}")
    total = sum((x["open_amount"] for x in rows), Decimal(0))
    r.figures = [("应收合计 / to collect", rc.money(total)),
                 ("笔数 / items", len(rows)),
                 ("已逾期 / past due", sum(1 for x in rows if x["days_past_due"] > 0))]
    r.tables.append(Table("催收清单 / collection list",
                          ["编号 / code", "客户 / customer", "类型 / kind",
                           "业务员 / salesperson", "发生日 / booked", "到期日 / due",
                           "逾期天数 / days late", "账龄 / age", "金额 / amount",
                           "未收 / open"],
                          [[x["code"], x["name"], KIND_LABELS[x["kind"]],
                            x["owner_name"] or "—", x["booked_on"], x["due_on"],
                            x["days_past_due"], BUCKET_LABELS[x["bucket"]], x["amount"],
                            x["open_amount"]] for x in rows]))
    return r


def to_xlsx(report: Report) -> bytes:
    """The report as an Excel workbook: the figures, then one sheet per table; amounts are
    numbers with two decimals (formula-looking text is stored as text, never as a formula)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "概要"
    ws.append([report.title])
    for label, value in report.figures:
        ws.append([label, str(value)])
    for i, table in enumerate(report.tables):
        sheet = wb.create_sheet(f"表{i + 1}")
        sheet.append([table.title])
        sheet.append(list(table.header))
        for row in table.rows:
            sheet.append([_xlsx_cell(c) for c in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
        for col, width in zip("ABCDEFGHIJKLMNOP", (12, 24, 16, 14), strict=False):
            sheet.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


_xlsx_cell = xlsx_cell  # one rule for every export (portal.services.cells)
