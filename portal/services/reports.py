"""Reports for the portal (and any other door): monthly complaint statistics (R-COMP-8),
reception statistics (R-RECV-3), credit usage and the over-limit list (R-CRED-7, R-CRED-8).

Each ``*_report`` returns a ``Report``: the headline figures, tables (header + rows, used for
the page and the CSV export) and bar charts rendered server-side as SVG. All data comes from
the area services, so it is scoped by the policy exactly as they are. No Flask here.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from html import escape
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Branch, User
from models.enums import ComplaintCause
from portal import clock, policy
from portal.services import complaints, credit
from portal.services.errors import N_, PermissionDenied

# Labels of the closed vocabularies (Chinese UI words of domain.md's glossary).
LABELS: dict[str, dict[str, str]] = {
    "type": {"inquiry": "咨询", "suggestion": "建议", "complaint": "投诉"},
    "cause": {"quality": "品质", ComplaintCause.SERVICE.value: "服务", "attitude": "态度", "delivery": "交付",
              "billing": "收费", "other": "其他"},
    "severity": {"general": "一般投诉", "major": "重大投诉"},
    "status": {"registered": "已登记", "assigned": "已分派", "investigating": "调查中",
               "proposed": "已提出方案", "approved": "已批准", "replied": "已答复",
               "closed": "已结案", "rejected": "不予受理"},
    "visitor_class": {"a": "A类（贵宾）", "b": "B类（商务）", "c": "C类（一般）"},
    "outcome": {"pending": "待跟进", "follow_up": "跟进中", "deal": "成交",
                "no_interest": "无意向", "other": "其他"},
}


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[Any]]


@dataclass
class Chart:
    title: str
    items: list[tuple[str, float]]
    unit: str = ""

    def svg(self) -> str:
        return bar_chart_svg(self.title, self.items, self.unit)


@dataclass
class Report:
    key: str
    title: str
    figures: list[tuple[str, Any]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notice: str | None = None


# ---------------------------------------------------------------------------------------------
# SVG bar charts and CSV
# ---------------------------------------------------------------------------------------------

PALETTE = ("#2f6fb0", "#e07b39", "#3c9a5f", "#b0413e", "#7a5ea8", "#9a8b3c", "#3c8f9a")


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def bar_chart_svg(title: str, items: list[tuple[str, float]], unit: str = "",
                  width: int = 640) -> str:
    """A horizontal bar chart as an inline SVG string: one labelled bar per item with its
    value at the end, readable at a glance. Labels are escaped (they may come from data)."""
    row_h, top, label_w, right = 26, 34, 170, 90
    height = top + max(1, len(items)) * row_h + 10
    bar_w = width - label_w - right
    peak = max([float(v) for _, v in items] + [0.0])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="20" font-size="15" font-weight="bold" fill="#222">{escape(title)}'
        f"</text>",
    ]
    if not items:
        parts.append(f'<text x="{label_w}" y="{top + 17}" font-size="13" fill="#777">'
                     f"{escape('无数据 / no data')}</text>")
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        v = float(value)
        w = 0 if peak <= 0 else max(1 if v > 0 else 0, round(bar_w * v / peak))
        color = PALETTE[i % len(PALETTE)]
        text = escape(str(label))
        short = text if len(str(label)) <= 14 else escape(str(label)[:13]) + "…"
        parts.append(f'<text x="{label_w - 8}" y="{y + 17}" font-size="13" fill="#333" '
                     f'text-anchor="end"><title>{text}</title>{short}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 4}" width="{w}" height="{row_h - 8}" '
                     f'fill="{color}" rx="2"><title>{text}: {_fmt(v)}{escape(unit)}</title>'
                     f"</rect>")
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 17}" font-size="13" fill="#222">'
                     f"{_fmt(v)}{escape(unit)}</text>")
    parts.append("</svg>")
    return "".join(parts)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """CSV cell; text that a spreadsheet would run as a formula is prefixed with '."""
    if value is None:
        return ""
    if isinstance(value, Decimal | int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(report: Report) -> str:
    """All tables of a report as one CSV (UTF-8 with BOM so Excel reads the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_cell(report.title)])
    for label, value in report.figures:
        writer.writerow([_cell(label), _cell(value)])
    for table in report.tables:
        writer.writerow([])
        writer.writerow([_cell(table.title)])
        writer.writerow([_cell(h) for h in table.header])
        for row in table.rows:
            writer.writerow([_cell(c) for c in row])
    return "\ufeff" + out.getvalue()


def _labelled(kind: str, counts: dict[str, int]) -> list[tuple[str, float]]:
    names = LABELS.get(kind, {})
    order = list(names) + [k for k in counts if k not in names]
    return [(names.get(k, k), counts[k]) for k in order if k in counts]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _check(actor: User) -> None:
    if not policy.can(actor, "report.view"):
        raise PermissionDenied("report.view", "reports")


# ---------------------------------------------------------------------------------------------
# The reports
# ---------------------------------------------------------------------------------------------


def complaint_report(session: Session, actor: User, year: int, month: int, *,
                     stats: dict[str, Any] | None = None) -> Report:
    """R-COMP-8 monthly complaint statistics (scoped). ``stats``: the result of
    ``complaints.monthly_statistics`` when the caller already has it (GraphQL)."""
    _check(actor)
    s = stats if stats is not None else complaints.monthly_statistics(session, actor, year,
                                                                      month)
    r = Report("complaints", f"客户投诉月度统计 {s['period']}")
    r.figures = [("投诉总数 / total", s["total"]), ("已结案 / closed", s["closed"]),
                 ("按时结案率 / on-time rate", _pct(s["on_time_rate"])),
                 ("平均处理时长(小时) / avg handling hours",
                  "—" if s["avg_handling_hours"] is None else s["avg_handling_hours"]),
                 ("平均满意度 / avg satisfaction (1-5)",
                  "—" if s["avg_satisfaction"] is None else s["avg_satisfaction"]),
                 ("超期未结 / open overdue", s["open_overdue"])]
    for key, kind, title in (("by_type", "type", "按类型 / by type"),
                             ("by_cause", "cause", "按原因 / by cause"),
                             ("by_department", "department", "按部门 / by department"),
                             ("by_severity", "severity", "按等级 / by severity"),
                             ("by_status", "status", "按状态 / by status")):
        items = _labelled(kind, s[key])
        r.charts.append(Chart(title, items))
        r.tables.append(Table(title, ["项目 / item", "数量 / count"],
                              [[label, int(n)] for label, n in items]))
    # R-COMP-8 "汇总上月份结案的案件": the cases closed in the month, whenever registered
    for key, kind, title in (("closed_by_type", "type", "本月结案按类型 / closed, by type"),
                             ("closed_by_cause", "cause", "本月结案按原因 / closed, by cause"),
                             ("closed_by_department", "department",
                              "本月结案按部门 / closed, by department"),
                             ("closed_by_severity", "severity",
                              "本月结案按等级 / closed, by severity")):
        items = _labelled(kind, s[key])
        r.tables.append(Table(title, ["项目 / item", "数量 / count"],
                              [[label, int(n)] for label, n in items]))
    # R-COMP-11: whose fault it was, and the penalties of the cases closed in the month
    if "fault_by_department" in s:
        items = list(s["fault_by_department"].items())
        r.tables.append(Table("本月结案责任部门 / responsibility by department",
                              ["部门 / department", "数量 / count"],
                              [[k, int(n)] for k, n in items]))
        causes = {"quality": "品质原因 / quality", "non_quality": "非品质原因 / non-quality"}
        r.tables.append(Table("责任原因 / cause", ["原因 / cause", "数量 / count"],
                              [[causes.get(k, k), int(n)]
                               for k, n in s["fault_by_cause"].items()]))
        labels = {"confirmed": "已确认 / confirmed", "draft": "待确认 / awaiting the GM",
                  "waived": "已免除 / waived"}
        r.tables.append(Table("处罚通知单 / penalty notices",
                              ["状态 / status", "张数 / notices", "金额 / amount"],
                              [[labels[k], s["penalty_counts"][k], s["penalty_totals"][k]]
                               for k in ("confirmed", "draft", "waived")]))
    return r


def reception_report(session: Session, actor: User, period: str = "day",
                     start: Any = None, end: Any = None, *, stats: Any = None) -> Report:
    """R-RECV-3 reception statistics, from ``portal.services.reception.statistics`` (or its
    result ``stats`` when the caller already has it)."""
    _check(actor)
    r = Report("receptions", "来人来电统计")
    try:
        from portal.services import reception
    except ModuleNotFoundError as exc:  # the reception area is not installed
        if exc.name != "portal.services.reception":
            raise
        r.notice = N_("Reception statistics are not available (the reception service is "
                      "missing).")
        return r
    if stats is None:
        stats = reception.statistics(session, actor, period, start, end)
    data = stats.as_dict()
    r.title = f"来人来电统计 {data['start']} — {data['end']} ({period})"
    total = data["total"]
    r.figures = [("来访 / visits", total["visits"]), ("来电 / calls", total["calls"]),
                 ("回头客 / returning", total["returning"]),
                 ("成交 / deals", total["deals"]),
                 ("成交率 / conversion", _pct(total["conversion"]))]
    staff_ids = [row["key"] for row in data["by_staff"] if row["key"] is not None]
    names = dict(session.execute(select(User.id, User.full_name)
                                 .where(User.id.in_(staff_ids))).all()) if staff_ids else {}
    branch_ids = [row["key"] for row in data["by_branch"]]
    branches = dict(session.execute(select(Branch.id, Branch.name)
                                    .where(Branch.id.in_(branch_ids))).all()) \
        if branch_ids else {}
    header = ["项目 / item", "来访 / visits", "来电 / calls", "回头客 / returning",
              "成交 / deals", "成交率 / conversion"]

    def label(kind: str, key: Any) -> str:
        if kind == "staff":
            return names.get(key, "未分配 / unassigned") if key is not None else "未分配"
        if kind == "branch":
            return branches.get(key, str(key))
        return LABELS.get(kind, {}).get(key, str(key))

    for key, kind, title in (("by_bucket", "bucket", "按时间 / by period"),
                             ("by_class", "visitor_class", "按客户类别 / by class"),
                             ("by_staff", "staff", "按接待人员 / by staff"),
                             ("by_branch", "branch", "按门店 / by branch"),
                             ("by_outcome", "outcome", "按结果 / by outcome")):
        rows = [[label(kind, row["key"]), row["visits"], row["calls"], row["returning"],
                 row["deals"], _pct(row["conversion"])] for row in data[key]]
        r.tables.append(Table(title, header, rows))
        r.charts.append(Chart(title, [(row[0], row[1] + row[2]) for row in rows]))
    return r


def credit_usage(session: Session, actor: User, month: str | None = None, *,
                 rows: list[dict[str, Any]] | None = None) -> Report:
    """Credit usage of a month (R-CRED-7): limit, outstanding balance, usage. ``rows``: the
    result of ``credit.usage_report`` when the caller already has it."""
    _check(actor)
    month = month or f"{clock.today():%Y-%m}"
    if rows is None:
        rows = credit.usage_report(session, actor, month)
    r = Report("credit", f"授信额度执行情况 {month}")
    over = sum(1 for row in rows if row["over_limit"])
    r.figures = [("授信客户 / customers with credit", len(rows)),
                 ("超额度 / over limit", over)]
    r.tables.append(Table("授信使用 / usage",
                          ["编号 / code", "客户 / customer", "信用额度 / limit",
                           "应收余额 / outstanding", "使用率 / usage", "超额度 / over",
                           "已评价 / recorded"],
                          [[row["code"], row["name"], row["limit"],
                            row["outstanding_balance"], _pct(float(row["usage_ratio"])),
                            "是" if row["over_limit"] else "", "是" if row["recorded"] else ""]
                           for row in rows]))
    r.charts.append(Chart("额度使用率 / usage of the limit",
                          [(row["name"], round(float(row["usage_ratio"]) * 100, 1))
                           for row in rows[:30]], "%"))
    return r


def over_limit(session: Session, actor: User, *,
               rows: list[dict[str, Any]] | None = None) -> Report:
    """Customers above their limit, for collection (R-CRED-8). ``rows``: the result of
    ``credit.over_limit_customers`` when the caller already has it."""
    _check(actor)
    if rows is None:
        rows = credit.over_limit_customers(session, actor)
    r = Report("over_limit", f"超额度客户（催收） {clock.today():%Y-%m-%d}")
    r.figures = [("超额度客户 / customers over limit", len(rows)),
                 ("超出合计 / total excess", sum((row["excess"] for row in rows), Decimal(0)))]
    r.tables.append(Table("超额度客户 / over limit",
                          ["编号 / code", "客户 / customer", "信用额度 / limit",
                           "应收余额 / outstanding", "超出 / excess"],
                          [[row["code"], row["name"], row["limit"],
                            row["outstanding_balance"], row["excess"]] for row in rows]))
    r.charts.append(Chart("超出金额 / excess over the limit",
                          [(row["name"], float(row["excess"])) for row in rows[:30]]))
    return r


def default_month(today: date | None = None) -> tuple[int, int]:
    """The month a monthly report defaults to: the previous one until the 10th (R-COMP-8's
    'by the 10th of the next month'), the current one afterwards."""
    today = today or clock.today()
    if today.day <= 10:
        first = today.replace(day=1)
        prev = date.fromordinal(first.toordinal() - 1)
        return prev.year, prev.month
    return today.year, today.month
