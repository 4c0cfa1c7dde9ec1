"""The complaints behind one bar of the monthly complaint report (R-COMP-8 click-through).

A bar of the report is a *slice*: a company-time month, a basis (registered in the month or
closed in the month), a dimension (type, cause, severity, status or responsible department) and
one value of it. ``month_clause`` is the month condition the statistics use too, so a bar's
count and the list it opens cannot disagree; ``slice_condition`` adds the bar's value. Both
doors read the list through the policy's scope, as the statistics do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.sql.elements import ColumnElement

from models import Complaint, Department
from models.enums import ComplaintStatus
from portal.services.errors import N_, ValidationFailed

BASES = ("registered", "closed")
# dimension → the report's statistics key prefix; department is matched by name (the report
# groups by the department's name)
DIMENSIONS = ("type", "cause", "severity", "status", "department")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_clause(basis: str, start: Any, end: Any) -> ColumnElement[bool]:
    """Complaints registered (``basis="registered"``) or closed (``"closed"``) in [start, end)."""
    if basis == "closed":
        return and_(Complaint.status == ComplaintStatus.CLOSED.value,
                    Complaint.closed_at >= start, Complaint.closed_at < end)
    return and_(Complaint.registered_at >= start, Complaint.registered_at < end)


@dataclass(frozen=True)
class Slice:
    year: int
    month: int
    basis: str
    dimension: str
    value: str

    def url_args(self) -> dict[str, str]:
        """The query-string arguments a door puts on the complaint list's URL."""
        return {"report_month": f"{self.year:04d}-{self.month:02d}", "basis": self.basis,
                "dimension": self.dimension, "value": self.value}


def parse_month(raw: str) -> tuple[int, int]:
    """A company month written ``YYYY-MM`` (years 2000 to 2100, as the portal's month picker):
    ``(year, month)``, or ``ValidationFailed`` with a message for the reader. The one month
    validation of the monthly reports (complaint slices, the security report R-AUD-5)."""
    match = _MONTH.match((raw or "").strip())
    if not match:
        raise ValidationFailed(N_("Enter a month as YYYY-MM."), field="month")
    return check_month(int(match.group(1)), int(match.group(2)))


def check_month(year: Any, month: Any) -> tuple[int, int]:
    """``(year, month)`` of a monthly report, years 2000 to 2100 (as the portal's month
    picker), or ``ValidationFailed`` with the one message both doors show."""
    try:
        y, m = int(year), int(month)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Enter a month as YYYY-MM."), field="month") from None
    if not (2000 <= y <= 2100 and 1 <= m <= 12):
        raise ValidationFailed(N_("Enter a month as YYYY-MM."), field="month")
    return y, m


def parse_slice(args: dict[str, Any]) -> Slice | None:
    """The slice named by ``report_month``, ``basis``, ``dimension`` and ``value`` in ``args``
    (a request's arguments), or None when ``report_month`` is absent. Anything else is a
    ``ValidationFailed`` with a message for the reader."""
    raw = (args.get("report_month") or "").strip()
    if not raw:
        return None
    year, month = parse_month(raw)
    basis = args.get("basis") or "registered"
    if basis not in BASES:
        raise ValidationFailed(N_("Unknown report basis."), field="basis")
    dimension = args.get("dimension") or ""
    if dimension not in DIMENSIONS:
        raise ValidationFailed(N_("Unknown report dimension."), field="dimension")
    value = (args.get("value") or "").strip()
    if not value or len(value) > 200:
        raise ValidationFailed(N_("Choose a bar of the report."), field="value")
    return Slice(year, month, basis, dimension, value)


def slice_condition(s: Slice) -> ColumnElement[bool]:
    """The complaints one bar counts (the caller adds the policy's scope)."""
    from portal.services.complaints import month_bounds

    start, end = month_bounds(s.year, s.month)
    if s.dimension == "department":
        value_clause = Complaint.responsible_department_id.in_(
            select(Department.id).where(Department.name == s.value))
    else:
        value_clause = getattr(Complaint, s.dimension) == s.value
    return and_(month_clause(s.basis, start, end), value_clause)


def report_key(basis: str, dimension: str) -> str:
    """The statistics key of ``complaints.monthly_statistics`` for a basis and a dimension."""
    return f"{'closed_' if basis == 'closed' else ''}by_{dimension}"
