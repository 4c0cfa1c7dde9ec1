"""Reports: the report model (tables, charts), its localisation and its CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from models.enums import ComplaintCause
from portal.services.cells import csv_cell
from portal.services.errors import N_, Term
from portal.services.reports.charts import bar_chart_svg, column_chart_svg

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
