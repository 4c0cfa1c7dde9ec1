"""Who may open and export which report, in which format, and the months and dates the reports
take: the one decision that the portal's report pages and the GraphQL report fields both call
(issue 13: report export guards were written in each door).

A report belongs to a *family* that names its grants: the statistics pages (``report.view`` /
``report.export``), receivables (``credit.view`` / ``credit.export``, CSV and XLSX), HR's
penalty list (``penalty.view`` / ``penalty.export``) and the security report
(``security_report.view`` / ``security_report.export``). A refusal leaves one 'denied' audit
entry, committed on its own, and raises ``PermissionDenied``; a bad argument (a month, a date,
an export format) raises ``ValidationFailed`` with the message both doors show. No Flask here:
a door passes its ``gettext`` and a ``where`` for the audit detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from models.enums import AuditOutcome
from portal import audit, clock, policy
from portal.services import complaint_slices
from portal.services.errors import N_, PermissionDenied, ValidationFailed

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MIMETYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX}


@dataclass(frozen=True)
class Family:
    view: str  # the grant that opens the report
    export: str  # the grant that exports it
    target: str  # what a refused opening names in the audit log
    formats: tuple[str, ...] = ("csv",)
    # the CSV keeps the service's "中文 / English" labels (finance's and HR's files) rather
    # than the reader's language
    bilingual: bool = False


FAMILIES: dict[str, Family] = {
    "reports": Family("report.view", "report.export", "reports"),
    "receivables": Family("credit.view", "credit.export", "receivables", ("csv", "xlsx"),
                          bilingual=True),
    "penalties": Family("penalty.view", "penalty.export", "penalty_list", bilingual=True),
    "security_report": Family("security_report.view", "security_report.export",
                              "security_report"),
}


def may_open(user: Any, family: str) -> bool:
    return user is not None and policy.can(user, FAMILIES[family].view)


def may_export(user: Any, family: str) -> bool:
    return user is not None and policy.can(user, FAMILIES[family].export)


def refuse(session: Session, user: Any, action: str, target: Any, where: str
           ) -> PermissionDenied:
    """Roll back, commit one 'denied' audit entry (``where``: the door and the place, e.g.
    ``"graphql creditSummary"``) and return the error to raise."""
    session.rollback()
    audit.record(session, user, action, target, outcome=AuditOutcome.DENIED.value,
                 detail=where[:500])
    session.commit()
    return PermissionDenied(action, target)


def check_open(session: Session, user: Any, family: str, where: str) -> None:
    """``PermissionDenied`` (audited once) unless ``user`` may open the family's reports."""
    f = FAMILIES[family]
    if not may_open(user, family):
        raise refuse(session, user, f.view, f.target, where)


@dataclass(frozen=True)
class Export:
    body: str | bytes
    mimetype: str
    filename: str


def export(session: Session, user: Any, family: str, report: Any, fmt: str | None, name: str,
           where: str, gettext: Any = None) -> Export:
    """The file of ``report`` in ``fmt`` (``csv`` or, for receivables, ``xlsx``) named
    ``name.<fmt>``: a format the family does not offer is a ``ValidationFailed``; an export
    without the family's export grant is refused (audited once, target ``name``). Formula-
    looking cells are neutralised by the writers (``portal.services.cells``)."""
    f = FAMILIES[family]
    fmt = (fmt or "").strip().lower()
    if fmt not in f.formats:
        raise ValidationFailed(N_("This report is exported as %(formats)s only."),
                               field="format", formats=", ".join(x.upper() for x in f.formats))
    if not may_export(user, family):
        raise refuse(session, user, f.export, name, where)
    words = None if f.bilingual else gettext
    body: str | bytes
    if family == "security_report":
        from portal.services import security_report

        body = security_report.to_csv(report, words)
    elif fmt == "xlsx":
        from portal.services import credit_reports

        body = credit_reports.to_xlsx(report)
    else:
        from portal.services import reports

        body = reports.to_csv(report, words)
    return Export(body, MIMETYPES[fmt], f"{name}.{fmt}")


# ------------------------------------------------------------------ arguments and defaults
def _previous_month(today: date) -> date:
    return today.replace(day=1) - timedelta(days=1)


def default_month(report: str, today: date | None = None) -> str:
    """The month (``YYYY-MM``) a monthly report opens on. The complaint statistics and the
    security report: the previous month until the 10th (R-COMP-8's 'by the 10th of the next
    month'), then the current one; the credit summary: the previous month (approved after the
    month ends); credit usage, the collection list and HR's penalties: this month."""
    today = today or clock.today()
    if report in ("complaints", "security_report"):
        day = _previous_month(today) if today.day <= 10 else today
    elif report == "credit_summary":
        day = _previous_month(today)
    elif report in ("credit_usage", "collection", "penalties"):
        day = today
    else:
        raise KeyError(report)
    return f"{day:%Y-%m}"


def month_arg(report: str, raw: str | None) -> str:
    """The month a monthly report shows: ``raw`` (``YYYY-MM``, 2000 to 2100) checked, or the
    report's default when empty; anything else is a ``ValidationFailed`` on ``month``."""
    text = (raw or "").strip()
    if not text:
        return default_month(report)
    year, month = complaint_slices.parse_month(text)
    return f"{year:04d}-{month:02d}"


def complaint_month(year: Any = None, month: Any = None) -> tuple[int, int]:
    """``(year, month)`` of the complaint statistics from separate parts (GraphQL's
    ``year``/``month``); a missing part comes from the default month."""
    default_y, default_m = (int(x) for x in default_month("complaints").split("-"))
    return complaint_slices.check_month(default_y if year is None else year,
                                        default_m if month is None else month)


def day_arg(raw: Any, field: str = "as_of") -> date:
    """A report's date: a ``date``, an ISO ``YYYY-MM-DD`` text, or today when empty."""
    if isinstance(raw, date):
        return raw
    text = (raw or "").strip() if isinstance(raw, str) or raw is None else str(raw)
    if not text:
        return clock.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(N_("Enter a date."), field=field) from None


def reception_range(start: Any = None, end: Any = None) -> tuple[Any, Any]:
    """The reception statistics' default range: the first of this month to today (a given
    bound is kept as it is; ``reception.statistics`` checks it)."""
    today = clock.today()
    return (start or today.replace(day=1), end or today)
