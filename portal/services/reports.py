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
from portal.services import complaint_slices, complaints, credit
from portal.services.cells import csv_cell
from portal.services.errors import N_, PermissionDenied, Term

# Labels of the closed vocabularies: English msgids whose Chinese is the glossary word the
# lists use too (one label per value: quality is 质量 everywhere). Each page shows one
# language: ``localize`` translates a report for the reader.
LABELS: dict[str, dict[str, str]] = {
    "type": {"inquiry": N_("Inquiry"), "suggestion": N_("Suggestion"),
             "complaint": N_("Complaint")},
    "cause": {"quality": N_("Quality"), ComplaintCause.SERVICE.value: N_("Service"),
              "attitude": N_("Attitude"), "delivery": N_("Delivery"),
              "billing": N_("Billing"), "other": N_("Other")},
    "severity": {"general": N_("General complaint"), "major": N_("Major complaint")},
    "status": {"registered": N_("Registered"), "assigned": N_("Assigned"),
               "investigating": N_("Investigating"), "proposed": N_("Resolution proposed"),
               "approved": N_("Approved"), "replied": N_("Replied"), "closed": N_("Closed"),
               "rejected": N_("Rejected as unfounded")},
    "visitor_class": {"a": N_("Class A (VIP)"), "b": N_("Class B (business)"),
                      "c": N_("Class C (general)")},
    "outcome": {"pending": N_("To follow up"), "follow_up": N_("Following up"),
                "deal": N_("Deal"), "no_interest": N_("Not interested"), "other": N_("Other")},
}


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[Any]]


@dataclass
class Chart:
    """``kind``: "bar" (categories, horizontal) or "column" (a time series, in time order).
    ``tones``: per item, the colour's meaning ("danger", "warning", None). ``links``: per item,
    the URL a click on the bar opens (filled in by the door that knows its URLs)."""

    title: str
    items: list[tuple[str, float]]
    unit: str = ""
    kind: str = "bar"
    tones: list[str | None] = field(default_factory=list)
    keys: list[Any] = field(default_factory=list)
    links: list[str | None] = field(default_factory=list)
    dimension: str = ""
    # per item, the ``complaint_slices.Slice`` a click opens (complaint report only)
    slices: list[Any] = field(default_factory=list)

    def svg(self) -> str:
        if self.kind == "column":
            return column_chart_svg(self.title, self.items, self.unit)
        return bar_chart_svg(self.title, self.items, self.unit, tones=self.tones,
                             links=self.links)


@dataclass
class Report:
    key: str
    title: str
    figures: list[tuple[str, Any]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    notice: str | None = None
    title_params: dict[str, Any] = field(default_factory=dict)


def localize(report: Report, gettext: Any) -> Report:
    """The report in the reader's language: titles, figures, headers and the labels of the
    closed vocabularies (``Term`` cells) are msgids; data (names, numbers) stays as it is."""
    def t(text: Any) -> Any:
        return gettext(text) if isinstance(text, str) and text else text

    def cell(value: Any) -> Any:
        return gettext(value) if isinstance(value, Term) else value

    return Report(
        report.key, t(report.title) % report.title_params if report.title_params
        else t(report.title),
        [(t(label), cell(value)) for label, value in report.figures],
        [Table(t(tb.title), [t(h) for h in tb.header],
               [[cell(c) for c in row] for row in tb.rows]) for tb in report.tables],
        [Chart(t(c.title), [(cell(label), v) for label, v in c.items], t(c.unit) if c.unit
               and c.unit != "%" else c.unit, c.kind, c.tones, c.keys, c.links, c.dimension,
               c.slices)
         for c in report.charts],
        report.notice)

# ---------------------------------------------------------------------------------------------
# SVG bar charts and CSV
# ---------------------------------------------------------------------------------------------

TONE_COLOURS = {None: "#2f6fb0", "danger": "#c9302c", "warning": "#e6a23c",
                "success": "#3c9a5f"}


def _fmt(value: float) -> str:
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _text_width(text: str, size: int = 13) -> float:
    """Rendered width estimate: CJK characters are square, Latin about 0.58 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.58 for ch in text)


def bar_chart_svg(title: str, items: list[tuple[str, float]], unit: str = "",
                  width: int = 1000, *, tones: list[str | None] | None = None,
                  links: list[str | None] | None = None) -> str:
    """A horizontal bar chart as an inline SVG that fills the page width: one bar per item,
    its full label (the label column is as wide as the longest label, nothing is cut), the
    value at the end, a tooltip, a colour by meaning (``tones``) and, where given, a link
    per bar. Labels are escaped (they may come from data)."""
    row_h, top, right = 28, 36, 110
    label_w = int(min(max([_text_width(str(label)) for label, _ in items] + [60]) + 20,
                      width * 0.45))
    height = top + max(1, len(items)) * row_h + 10
    bar_w = width - label_w - right
    peak = max([float(v) for _, v in items] + [0.0])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'width="100%" viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="20" font-size="15" font-weight="bold" fill="#222">{escape(title)}'
        f"</text>",
    ]
    if not items:
        parts.append(f'<text x="{label_w}" y="{top + 17}" font-size="13" fill="#777">—</text>')
    for i, (label, value) in enumerate(items):
        y = top + i * row_h
        v = float(value)
        w = 0 if peak <= 0 else max(1 if v > 0 else 0, round(bar_w * v / peak))
        tone = tones[i] if tones and i < len(tones) else None
        color = TONE_COLOURS.get(tone, TONE_COLOURS[None])
        text = escape(str(label))
        bar = (f'<text x="{label_w - 8}" y="{y + 18}" font-size="13" fill="#333" '
               f'text-anchor="end">{text}</text>'
               f'<rect x="{label_w}" y="{y + 5}" width="{w}" height="{row_h - 10}" '
               f'fill="{color}" rx="2" data-tone="{tone or ""}"><title>{text}: {_fmt(v)}'
               f'{escape(unit)}</title></rect>'
               f'<text x="{label_w + w + 6}" y="{y + 18}" font-size="13" fill="#222">'
               f"{_fmt(v)}{escape(unit)}</text>")
        link = links[i] if links and i < len(links) else None
        if link:
            bar = f'<a href="{escape(link)}" class="report-bar-link">{bar}</a>'
        parts.append(bar)
    parts.append("</svg>")
    return "".join(parts)


def column_chart_svg(title: str, items: list[tuple[str, float]], unit: str = "",
                     width: int = 1000) -> str:
    """A time series as vertical columns in time order (items are given oldest first), the
    value above each column and the period below, rotated when they would not fit."""
    top, bottom, left, height = 40, 70, 10, 300
    n = max(1, len(items))
    slot = (width - left) / n
    col_w = max(4.0, min(48.0, slot * 0.7))
    plot_h = height - top - bottom
    peak = max([float(v) for _, v in items] + [0.0])
    rotate = max([_text_width(str(label), 12) for label, _ in items] + [0]) > slot - 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'width="100%" viewBox="0 0 {width} {height}" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="20" font-size="15" font-weight="bold" fill="#222">{escape(title)}'
        f"</text>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" '
        f'stroke="#bbb"/>',
    ]
    for i, (label, value) in enumerate(items):
        v = float(value)
        h = 0 if peak <= 0 else round(plot_h * v / peak)
        x = left + i * slot + (slot - col_w) / 2
        cx = x + col_w / 2
        text = escape(str(label))
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - h}" width="{col_w:.1f}" '
                     f'height="{h}" fill="{TONE_COLOURS[None]}" rx="2"><title>{text}: '
                     f'{_fmt(v)}{escape(unit)}</title></rect>')
        if v:
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h - h - 4}" font-size="12" '
                         f'fill="#222" text-anchor="middle">{_fmt(v)}</text>')
        ly = top + plot_h + 16
        if rotate:
            parts.append(f'<text x="{cx:.1f}" y="{ly}" font-size="12" fill="#333" '
                         f'text-anchor="end" transform="rotate(-45 {cx:.1f} {ly})">'
                         f"{text}</text>")
        else:
            parts.append(f'<text x="{cx:.1f}" y="{ly}" font-size="12" fill="#333" '
                         f'text-anchor="middle">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)


_cell = csv_cell  # one rule for every export (portal.services.cells)


def to_csv(report: Report, gettext: Any = None) -> str:
    """All tables of a report as one CSV (UTF-8 with BOM so Excel reads the Chinese), in the
    reader's language when ``gettext`` is given."""
    if gettext is not None:
        report = localize(report, gettext)
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
    return [(Term(names[k]) if k in names else k, counts[k]) for k in order if k in counts]


def _keys(kind: str, counts: dict[str, int]) -> list[Any]:
    names = LABELS.get(kind, {})
    order = list(names) + [k for k in counts if k not in names]
    return [k for k in order if k in counts]


def _slices(year: int, month: int, key: str, kind: str, keys: list[Any]) -> list[Any]:
    """The complaints behind each bar of a monthly chart (click-through)."""
    basis = "closed" if key.startswith("closed_") else "registered"
    return [complaint_slices.Slice(int(year), int(month), basis, kind, str(k)) for k in keys]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _check(actor: User) -> None:
    if not policy.can(actor, "report.view"):
        raise PermissionDenied("report.view", "reports")


ITEM, COUNT = N_("Item"), N_("Count")
YES = Term(N_("Yes"))


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
    r = Report("complaints", N_("Monthly complaint statistics %(period)s"),
               title_params={"period": s["period"]})
    r.figures = [(N_("Complaints registered"), s["total"]), (N_("Closed"), s["closed"]),
                 (N_("Closed on time"), _pct(s["on_time_rate"])),
                 (N_("Average handling time (hours)"),
                  "—" if s["avg_handling_hours"] is None else s["avg_handling_hours"]),
                 (N_("Average satisfaction (1-5)"),
                  "—" if s["avg_satisfaction"] is None else s["avg_satisfaction"]),
                 (N_("Open and overdue"), s["open_overdue"])]
    # R-COMP-8 "汇总上月份结案的案件": the cases closed in the month, whenever registered
    for key, kind, title in (("closed_by_type", "type", N_("Closed in the month, by type")),
                             ("closed_by_cause", "cause", N_("Closed in the month, by cause")),
                             ("closed_by_department", "department",
                              N_("Closed in the month, by department")),
                             ("closed_by_severity", "severity",
                              N_("Closed in the month, by severity"))):
        if key not in s:
            continue
        items = _labelled(kind, s[key])
        r.charts.append(Chart(title, items, keys=_keys(kind, s[key]), dimension=kind,
                              slices=_slices(year, month, key, kind, _keys(kind, s[key]))))
        r.tables.append(Table(title, [ITEM, COUNT], [[label, int(n)] for label, n in items]))
    for key, kind, title in (("by_type", "type", N_("Registered in the month, by type")),
                             ("by_cause", "cause", N_("Registered in the month, by cause")),
                             ("by_department", "department",
                              N_("Registered in the month, by department")),
                             ("by_severity", "severity",
                              N_("Registered in the month, by severity")),
                             ("by_status", "status", N_("Registered in the month, by status"))):
        items = _labelled(kind, s[key])
        r.charts.append(Chart(title, items, keys=_keys(kind, s[key]), dimension=kind,
                              slices=_slices(year, month, key, kind, _keys(kind, s[key]))))
        r.tables.append(Table(title, [ITEM, COUNT], [[label, int(n)] for label, n in items]))
    # R-COMP-11: whose fault it was, and the penalties of the cases closed in the month
    if "fault_by_department" in s:
        r.tables.append(Table(N_("Closed in the month, responsibility by department"),
                              [N_("Department"), COUNT],
                              [[k, int(n)] for k, n in s["fault_by_department"].items()]))
        causes = {"quality": Term(N_("Quality cause")),
                  "non_quality": Term(N_("Non-quality cause"))}
        r.tables.append(Table(N_("Responsibility, by cause"), [N_("Cause"), COUNT],
                              [[causes.get(k, k), int(n)]
                               for k, n in s["fault_by_cause"].items()]))
        labels = {"confirmed": Term(N_("Confirmed")), "draft": Term(N_("Awaiting the GM")),
                  "waived": Term(N_("Waived"))}
        r.tables.append(Table(N_("Penalty notices"), [N_("Status"), N_("Notices"), N_("Amount")],
                              [[labels[k], s["penalty_counts"][k], s["penalty_totals"][k]]
                               for k in ("confirmed", "draft", "waived")]))
    return r


def reception_report(session: Session, actor: User, period: str = "day",
                     start: Any = None, end: Any = None, *, stats: Any = None) -> Report:
    """R-RECV-3 reception statistics, from ``portal.services.reception.statistics`` (or its
    result ``stats`` when the caller already has it)."""
    _check(actor)
    r = Report("receptions", N_("Visitors and calls"))
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
    r.title = N_("Visitors and calls %(start)s – %(end)s")
    r.title_params = {"start": data["start"], "end": data["end"]}
    total = data["total"]
    r.figures = [(N_("Visits"), total["visits"]), (N_("Calls"), total["calls"]),
                 (N_("Returning visitors"), total["returning"]),
                 (N_("Deals"), total["deals"]),
                 (N_("Conversion"), _pct(total["conversion"]))]
    staff_ids = [row["key"] for row in data["by_staff"] if row["key"] is not None]
    names = dict(session.execute(select(User.id, User.full_name)
                                 .where(User.id.in_(staff_ids))).all()) if staff_ids else {}
    branch_ids = [row["key"] for row in data["by_branch"]]
    branches = dict(session.execute(select(Branch.id, Branch.name)
                                    .where(Branch.id.in_(branch_ids))).all()) \
        if branch_ids else {}
    header = [ITEM, N_("Visits"), N_("Calls"), N_("Returning visitors"), N_("Deals"),
              N_("Conversion")]

    def label(kind: str, key: Any) -> Any:
        if kind == "staff":
            return names.get(key, Term(N_("Unassigned"))) if key is not None \
                else Term(N_("Unassigned"))
        if kind == "branch":
            return branches.get(key, str(key))
        if kind in LABELS and key in LABELS[kind]:
            return Term(LABELS[kind][key])
        return str(key)

    for key, kind, title in (("by_bucket", "bucket", N_("By period")),
                             ("by_class", "visitor_class", N_("By visitor class")),
                             ("by_staff", "staff", N_("By staff member")),
                             ("by_branch", "branch", N_("By showroom")),
                             ("by_outcome", "outcome", N_("By outcome"))):
        source = sorted(data[key], key=lambda row: str(row["key"])) if kind == "bucket" \
            else data[key]
        rows = [[label(kind, row["key"]), row["visits"], row["calls"], row["returning"],
                 row["deals"], _pct(row["conversion"])] for row in source]
        r.tables.append(Table(title, header, rows))
        r.charts.append(Chart(title, [(row[0], row[1] + row[2]) for row in rows],
                              kind="column" if kind == "bucket" else "bar"))
    return r


def usage_tone(ratio: float) -> str | None:
    """Colour by meaning: over the limit red, from 80 % amber (near the limit)."""
    if ratio > 1:
        return "danger"
    if ratio >= 0.8:
        return "warning"
    return None


def credit_usage(session: Session, actor: User, month: str | None = None, *,
                 rows: list[dict[str, Any]] | None = None) -> Report:
    """Credit usage of a month (R-CRED-7): limit, outstanding balance, usage. ``rows``: the
    result of ``credit.usage_report`` when the caller already has it."""
    _check(actor)
    month = month or f"{clock.today():%Y-%m}"
    if rows is None:
        rows = credit.usage_report(session, actor, month)
    r = Report("credit", N_("Credit usage %(month)s"), title_params={"month": month})
    over = sum(1 for row in rows if row["over_limit"])
    r.figures = [(N_("Customers with credit"), len(rows)), (N_("Over the limit"), over)]
    r.tables.append(Table(N_("Usage"),
                          [N_("Code"), N_("Customer"), N_("Credit limit"),
                           N_("Outstanding balance"), N_("Usage"), N_("Over the limit"),
                           N_("Recorded")],
                          [[row["code"], row["name"], row["limit"],
                            row["outstanding_balance"], _pct(float(row["usage_ratio"])),
                            YES if row["over_limit"] else "", YES if row["recorded"] else ""]
                           for row in rows]))
    top = sorted(rows, key=lambda row: float(row["usage_ratio"]), reverse=True)[:30]
    r.charts.append(Chart(N_("Usage of the credit limit"),
                          [(row["name"], round(float(row["usage_ratio"]) * 100, 1))
                           for row in top], "%",
                          tones=[usage_tone(float(row["usage_ratio"])) for row in top],
                          keys=[row.get("customer_id") for row in top], dimension="customer"))
    return r


def over_limit(session: Session, actor: User, *,
               rows: list[dict[str, Any]] | None = None) -> Report:
    """Customers above their limit, for collection (R-CRED-8). ``rows``: the result of
    ``credit.over_limit_customers`` when the caller already has it."""
    _check(actor)
    if rows is None:
        rows = credit.over_limit_customers(session, actor)
    r = Report("over_limit", N_("Customers over their credit limit %(day)s"),
               title_params={"day": f"{clock.today():%Y-%m-%d}"})
    r.figures = [(N_("Customers over the limit"), len(rows)),
                 (N_("Total excess"), sum((row["excess"] for row in rows), Decimal(0)))]
    r.tables.append(Table(N_("Over the limit"),
                          [N_("Code"), N_("Customer"), N_("Credit limit"),
                           N_("Outstanding balance"), N_("Excess")],
                          [[row["code"], row["name"], row["limit"],
                            row["outstanding_balance"], row["excess"]] for row in rows]))
    r.charts.append(Chart(N_("Excess over the limit"),
                          [(row["name"], float(row["excess"])) for row in rows[:30]],
                          tones=["danger"] * min(30, len(rows)),
                          keys=[row.get("customer_id") for row in rows[:30]], dimension="customer"))
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
