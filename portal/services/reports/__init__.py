"""Reports for the portal (and any other door): monthly complaint statistics (R-COMP-8),
reception statistics (R-RECV-3), credit usage and the over-limit list (R-CRED-7, R-CRED-8).

Each ``*_report`` returns a ``Report``: the headline figures, tables (header + rows, used for
the page and the CSV export) and bar charts rendered server-side as SVG. All data comes from
the area services, so it is scoped by the policy exactly as they are. No Flask here.
"""

from __future__ import annotations

from portal.services.reports.builders import (
    COUNT,
    ITEM,
    YES,
    complaint_report,
    credit_usage,
    default_month,
    over_limit,
    reception_report,
    usage_tone,
)
from portal.services.reports.charts import (
    TONE_COLOURS,
    bar_chart_svg,
    column_chart_svg,
)
from portal.services.reports.model import LABELS, Chart, Report, Table, _cell, localize, to_csv

__all__ = ['COUNT', 'Chart', 'ITEM', 'LABELS', 'Report', 'TONE_COLOURS', 'Table', 'YES', '_cell', 'bar_chart_svg', 'column_chart_svg', 'complaint_report', 'credit_usage', 'default_month', 'localize', 'over_limit', 'reception_report', 'to_csv', 'usage_tone']
