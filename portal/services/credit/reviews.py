"""Credit reviews: review due and the monthly usage reviews (R-CRED-7), and the daily tick."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import ColumnElement

from models import CreditEvaluation, CreditLine, CreditUsageReview, Customer, User
from portal import audit, clock, policy, settings
from portal.services import calendar, credit_reads, notifications
from portal.services.complaints import _insert_ignore
from portal.services.credit._common import ZERO
from portal.services.credit.lines import in_force_clause, line_in_force
from portal.services.credit.over_limit import _limit_subquery, over_limit_rows
from portal.services.errors import N_, PermissionDenied, RuleViolation
from portal.services.unit import load, verb

# ---------------------------------------------------------------------------------------------
# R-CRED-7: review due, monthly usage reviews
# ---------------------------------------------------------------------------------------------


def _interval(session: Session | None) -> int:
    if session is None:
        from portal.settings import DEFAULTS

        return int(DEFAULTS["credit.review_interval_days"])
    return int(settings.get(session, "credit.review_interval_days"))


def review_due(evaluation: CreditEvaluation | None, now: datetime | None = None) -> bool:
    """R-CRED-7: the evaluation is older than a quarter (setting, default 92 days)."""
    if evaluation is None:
        return False
    now = now or clock.now()
    return evaluation.evaluated_at < now - timedelta(days=_interval(object_session(evaluation)))


def review_due_clause(session: Session, now: datetime | None = None) -> ColumnElement[bool]:
    """SQL twin of ``review_due`` on the latest evaluation per customer (filters Customer)."""
    now = now or clock.now()
    latest = (select(CreditEvaluation.customer_id,
                     func.max(CreditEvaluation.evaluated_at).label("at"))
              .group_by(CreditEvaluation.customer_id).subquery())
    cutoff = now - timedelta(days=_interval(session))
    return Customer.id.in_(select(latest.c.customer_id).where(latest.c.at < cutoff))


def _month_of(moment_or_month: Any) -> str:
    if isinstance(moment_or_month, str):
        from portal.services.complaint_slices import parse_month

        year, month = parse_month(moment_or_month)
        return f"{year:04d}-{month:02d}"
    return f"{moment_or_month.year:04d}-{moment_or_month.month:02d}"


def _usage(limit: Decimal, balance: Decimal) -> Decimal:
    if not limit:
        return Decimal("0") if not balance else Decimal("9.9999")
    return min(Decimal("9.9999"), (balance / limit).quantize(Decimal("0.0001")))


def _record_usage(session: Session, customer: Customer, line: CreditLine, month: str,
                  actor: User | None, notes: str | None, now: datetime) -> bool:
    balance = customer.outstanding_balance or ZERO
    return _insert_ignore(session, CreditUsageReview, {
        "customer_id": customer.id, "month": month, "limit_amount": line.limit_amount,
        "outstanding_balance": balance, "usage_ratio": _usage(line.limit_amount, balance),
        "notes": notes, "recorded_by_id": getattr(actor, "id", None), "recorded_at": now},
        ["customer_id", "month"])


@verb
def record_usage_review(session: Session, actor: User, customer_id: int, month: str,
                        notes: str | None = None) -> CreditUsageReview:
    """授信额度执行评价: record the month's usage of the line in force (once per month)."""
    customer = load(session, actor, Customer, customer_id, "customer.view")
    if not policy.can(actor, "credit.review_usage", customer):
        raise PermissionDenied("credit.review_usage", customer)
    month = _month_of(month)
    line = line_in_force(session, customer.id)
    if line is None:
        raise RuleViolation(N_("The customer has no credit line in force."), rule="R-CRED-7")
    if not _record_usage(session, customer, line, month, actor, notes, clock.now()):
        raise RuleViolation(N_("The usage review of %(month)s is already recorded."),
                            rule="R-CRED-7", month=month)
    review = session.scalar(select(CreditUsageReview).where(
        CreditUsageReview.customer_id == customer.id, CreditUsageReview.month == month))
    audit.record(session, actor, "credit.review_usage", review, after=audit.snapshot(review))
    return review


@verb
def usage_report(session: Session, actor: User, month: str) -> list[dict[str, Any]]:
    """Credit usage of a month: recorded reviews, plus a live row for every customer with a
    line in force that has none yet (``recorded`` False). Scoped by ``credit.view``."""
    if not policy.can(actor, "credit.view"):
        raise PermissionDenied("credit.view", "credit_usage_report")
    month = _month_of(month)
    rows: list[dict[str, Any]] = []
    reviewed = session.execute(policy.scope(
        select(CreditUsageReview, Customer).join(Customer,
                                                 Customer.id == CreditUsageReview.customer_id),
        actor, Customer, "credit.view").where(CreditUsageReview.month == month)
        .order_by(Customer.code)).all()
    seen = set()
    for review, customer in reviewed:
        seen.add(customer.id)
        rows.append({"customer_id": customer.id, "code": customer.code, "name": customer.name,
                     "limit": review.limit_amount, "outstanding_balance":
                     review.outstanding_balance, "usage_ratio": review.usage_ratio,
                     "over_limit": review.outstanding_balance > review.limit_amount,
                     "recorded": True})
    lim = _limit_subquery(clock.today())
    live = session.execute(policy.scope(
        select(Customer, lim.c.limit).join(lim, lim.c.customer_id == Customer.id),
        actor, Customer, "credit.view").order_by(Customer.code)).all()
    for customer, limit in live:
        if customer.id in seen:
            continue
        limit = Decimal(str(limit))
        balance = customer.outstanding_balance or ZERO
        rows.append({"customer_id": customer.id, "code": customer.code, "name": customer.name,
                     "limit": limit, "outstanding_balance": balance,
                     "usage_ratio": _usage(limit, balance), "over_limit": balance > limit,
                     "recorded": False})
    credit_reads.record_report_read(
        session, actor, "credit_usage_report", (("Customer", r["customer_id"]) for r in rows),
        f"{month}: {len(rows)} rows")
    return rows


def _previous_month(today: date) -> str:
    first = today.replace(day=1)
    last = first - timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def tick(session: Session, now: datetime | None = None) -> dict[str, int]:
    """Record review-due notifications (once per evaluation and person), the previous month's
    usage review for every line in force (once per customer and month) and a daily collection
    notice for customers over their limit. Idempotent; safe when two run at once."""
    now = now or clock.now()
    today = calendar.company_date(now)
    counts = {"reviews_due": 0, "usage_reviews": 0, "over_limit_notices": 0}

    latest = (select(CreditEvaluation.customer_id,
                     func.max(CreditEvaluation.evaluated_at).label("at"))
              .group_by(CreditEvaluation.customer_id).subquery())
    cutoff = now - timedelta(days=_interval(session))
    due = session.scalars(select(CreditEvaluation).join(latest, and_(
        latest.c.customer_id == CreditEvaluation.customer_id,
        latest.c.at == CreditEvaluation.evaluated_at)).where(latest.c.at < cutoff)).all()
    for ev in due:
        customer = ev.customer
        users = policy.users_with(session, "credit.review", customer)
        users += policy.users_with(session, "credit.evaluate", customer)
        sent = notifications.notify(
            session, user_ids=[u.id for u in users], kind="credit.review_due",
            message=N_("The credit evaluation of %(customer)s is older than a quarter: a "
                       "review is due."),
            params={"customer": customer.name}, target=customer,
            dedupe_key=f"credit.review_due:{ev.id}", now=now)
        counts["reviews_due"] += 1 if sent else 0
    session.commit()

    month = _previous_month(today)
    lim_lines = session.scalars(select(CreditLine).where(in_force_clause(today))).all()
    for line in lim_lines:
        if line.approved_at and calendar.company_date(line.approved_at) >= today.replace(day=1):
            continue  # approved this month: nothing to review for last month
        counts["usage_reviews"] += _record_usage(session, line.customer, line, month, None,
                                                 "recorded by the scheduler", now)
    session.commit()

    for row in over_limit_rows(session, None, today):
        customer = row["customer"]
        users = [customer.owner_id] + [u.id for u in policy.users_with(
            session, "credit.record_transaction", customer)]
        sent = notifications.notify(
            session, user_ids=[u for u in users if u], kind="credit.over_limit",
            message=N_("%(customer)s is over the credit limit: please collect."),
            params={"customer": customer.name}, target=customer,
            dedupe_key=f"credit.over_limit:{customer.id}:{today}", now=now)
        counts["over_limit_notices"] += 1 if sent else 0
    session.commit()
    return counts
