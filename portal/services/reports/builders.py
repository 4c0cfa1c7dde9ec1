"""Reports: the complaint, reception, credit-usage and over-limit reports."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Branch, User
from portal import clock, policy
from portal.services import complaint_slices, complaints, credit
from portal.services.errors import N_, PermissionDenied, Term
from portal.services.reports.model import LABELS, Chart, Report, Table


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
    """The month a monthly report defaults to (``report_access.default_month``): the previous
    one until the 10th (R-COMP-8's 'by the 10th of the next month'), the current one after."""
    from portal.services import report_access

    year, month = report_access.default_month("complaints", today).split("-")
    return int(year), int(month)
