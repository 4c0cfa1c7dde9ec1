"""Receivables reports: ageing, the monthly summary (and its approval), the collection list."""

from __future__ import annotations

import calendar as pycal
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from models import (
    CreditLine,
    CreditSummaryApproval,
    Customer,
    Receivable,
    User,
)
from models.enums import CreditLineStatus, CustomerKind
from portal import audit, clock, policy, settings
from portal.services import credit_reads, notifications
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.receivables.ages import (
    BUCKETS,
    CENT,
    CREDIT_SALE,
    PAST_DUE_BUCKETS,
    PREPAYMENT,
    ZERO,
    age_bucket,
    bucket_case,
    days_past_due,
    open_as_of,
)
from portal.services.receivables.ceiling import limits_in_force_total
from portal.services.unit import check_version, verb


def month_end(month: str) -> date:
    """The last day of ``month`` (``YYYY-MM``, checked by ``complaint_slices.parse_month``)."""
    from portal.services.complaint_slices import parse_month

    y, m = parse_month(month)
    return date(y, m, pycal.monthrange(y, m)[1])


def as_of_for(month: str, today: date | None = None) -> date:
    """A month's figures are as of its last day; the current month's as of today."""
    today = today or clock.today()
    end = month_end(month)
    if end.replace(day=1) > today:
        raise ValidationFailed(N_("The month has not begun yet."), field="month")
    return min(end, today)


@dataclass
class AgeingRow:
    customer_id: int
    code: str
    name: str
    kind: str  # 赊销 credit_sale, 预付 prepayment (a supplier), or both
    owner_id: int | None
    owner_name: str
    limit: Decimal = ZERO
    term_days: int | None = None
    buckets: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(BUCKETS, ZERO))

    @property
    def balance(self) -> Decimal:
        return sum(self.buckets.values(), ZERO)

    @property
    def past_due(self) -> Decimal:
        return sum((self.buckets[b] for b in PAST_DUE_BUCKETS), ZERO)

    @property
    def frozen(self) -> bool:
        return self.past_due > 0

    def as_dict(self) -> dict[str, Any]:
        return {"customer_id": self.customer_id, "code": self.code, "name": self.name,
                "kind": self.kind, "owner_id": self.owner_id, "owner_name": self.owner_name,
                "limit": self.limit, "term_days": self.term_days, "balance": self.balance,
                "past_due": self.past_due, "frozen": self.frozen, **self.buckets}


def _require_view(actor: User) -> None:
    if not policy.can(actor, "credit.view"):
        raise PermissionDenied("credit.view", "receivables")


def ageing_rows(session: Session, actor: User, as_of: date | None = None, *,
                with_lines: bool = False) -> list[AgeingRow]:
    """Open items on ``as_of`` per customer and bucket (scoped by ``credit.view``), largest
    past-due first. ``with_lines``: also every customer with a line in force and nothing
    open (the summary table lists "every customer with credit or a balance")."""
    as_of = as_of or clock.today()
    settled, conditions, amount = open_as_of(as_of)
    bucket = bucket_case(as_of)
    stmt = (select(Receivable.customer_id, Receivable.kind, bucket.label("bucket"),
                   func.sum(amount).label("open"))
            .select_from(Receivable)
            .outerjoin(settled, settled.c.receivable_id == Receivable.id)
            .where(*conditions)
            .group_by(Receivable.customer_id, Receivable.kind, bucket))
    stmt = policy.scope(stmt, actor, Receivable, "credit.view")
    figures = session.execute(stmt).all()
    lines = _lines_on(session, as_of)
    ids = {r.customer_id for r in figures}
    if with_lines:
        in_scope = policy.scope(select(Customer.id).where(Customer.id.in_(list(lines) or [0])),
                                actor, Customer, "credit.view")
        ids |= set(session.scalars(in_scope))
    if not ids:
        return []
    customers = {c.id: c for c in session.scalars(select(Customer).where(
        Customer.id.in_(ids)))}
    owners = dict(session.execute(select(User.id, User.full_name).where(
        User.id.in_({c.owner_id for c in customers.values() if c.owner_id}))).all())
    rows: dict[int, AgeingRow] = {}
    kinds: dict[int, set[str]] = {}
    for cid in ids:
        c = customers[cid]
        limit, term = lines.get(cid, (ZERO, None))
        rows[cid] = AgeingRow(cid, c.code, c.name, "", c.owner_id,
                              owners.get(c.owner_id, "") if c.owner_id else "",
                              limit=limit, term_days=term)
        kinds[cid] = {PREPAYMENT} if c.kind == CustomerKind.SUPPLIER.value else {CREDIT_SALE}
    seen: dict[int, set[str]] = {}
    for cid, kind, bkt, value in figures:
        rows[cid].buckets[bkt] += Decimal(str(value)).quantize(CENT)
        seen.setdefault(cid, set()).add(kind)
    for cid, row in rows.items():
        found = seen.get(cid) or kinds[cid]
        row.kind = "both" if len(found) > 1 else next(iter(found))
    return sorted(rows.values(), key=lambda r: (-r.past_due, -r.balance, r.code))


def _lines_on(session: Session, as_of: date) -> dict[int, tuple[Decimal, int]]:
    """Limit and term of the line in force per customer on ``as_of``."""
    stmt = (select(CreditLine.customer_id, CreditLine.limit_amount, CreditLine.term_days)
            .where(CreditLine.status.in_([CreditLineStatus.APPROVED.value,
                                          CreditLineStatus.SUPERSEDED.value]),
                   CreditLine.valid_from <= as_of,
                   or_(CreditLine.valid_until.is_(None), CreditLine.valid_until > as_of))
            .order_by(CreditLine.customer_id, CreditLine.approved_at, CreditLine.id))
    lines: dict[int, tuple[Decimal, int]] = {}
    for cid, limit, term in session.execute(stmt):
        lines[cid] = (Decimal(str(limit)), term)  # the latest approved wins
    return lines


def by_salesperson(rows: list[AgeingRow]) -> list[dict[str, Any]]:
    """The ageing rows summed per salesperson (the customer's owner)."""
    out: dict[int | None, dict[str, Any]] = {}
    for r in rows:
        agg = out.setdefault(r.owner_id, {"owner_id": r.owner_id,
                                          "owner_name": r.owner_name or "", "customers": 0,
                                          "frozen": 0, **dict.fromkeys(BUCKETS, ZERO)})
        agg["customers"] += 1
        agg["frozen"] += 1 if r.frozen else 0
        for b in BUCKETS:
            agg[b] += r.buckets[b]
    result = list(out.values())
    for agg in result:
        agg["balance"] = sum((agg[b] for b in BUCKETS), ZERO)
        agg["past_due"] = sum((agg[b] for b in PAST_DUE_BUCKETS), ZERO)
    return sorted(result, key=lambda a: (-a["past_due"], -a["balance"], a["owner_name"]))


@verb
def ageing(session: Session, actor: User, as_of: date | None = None) -> list[AgeingRow]:
    """R-CRED-9 ageing per customer (scoped); the read is audited."""
    _require_view(actor)
    rows = ageing_rows(session, actor, as_of)
    credit_reads.record_report_read(
        session, actor, "receivables_ageing", (("Customer", r.customer_id) for r in rows),
        f"{as_of or clock.today():%Y-%m-%d}: {len(rows)} customers")
    return rows


@verb
def collection_list(session: Session, actor: User, month: str) -> list[dict[str, Any]]:
    """The month's collection list (本月催收清单): every open item due by the month's end
    (already past due or falling due in the month), oldest first, scoped by ``credit.view``."""
    _require_view(actor)
    end = month_end(month)
    today = clock.today()
    stmt = policy.scope(
        select(Receivable, Customer).join(Customer, Customer.id == Receivable.customer_id)
        .where(Receivable.open_amount > 0, Receivable.due_on <= end)
        .order_by(Receivable.due_on, Customer.code, Receivable.id),
        actor, Receivable, "credit.view")
    found = session.execute(stmt).all()
    owners = dict(session.execute(select(User.id, User.full_name).where(
        User.id.in_({c.owner_id for _, c in found if c.owner_id}))).all()) if found else {}
    rows = []
    for item, customer in found:
        days = days_past_due(item.due_on, today)
        rows.append({"receivable_id": item.id, "customer_id": customer.id,
                     "code": customer.code, "name": customer.name, "kind": item.kind,
                     "owner_id": customer.owner_id,
                     "owner_name": owners.get(customer.owner_id, ""),
                     "booked_on": item.booked_on, "due_on": item.due_on,
                     "amount": item.amount, "open_amount": item.open_amount,
                     "days_past_due": days, "bucket": age_bucket(days)})
    credit_reads.record_report_read(
        session, actor, "collection_list", (("Receivable", r["receivable_id"]) for r in rows),
        f"{month}: {len(rows)} items")
    return rows


@dataclass
class Summary:
    month: str
    as_of: date
    rows: list[AgeingRow]
    approval: CreditSummaryApproval | None
    ceiling: Decimal
    limits_total: Decimal

    @property
    def approved(self) -> bool:
        """The general manager has approved this month's summary (it is then final)."""
        return self.approval is not None and self.approval.status == "approved"

    @property
    def totals(self) -> dict[str, Decimal]:
        out = {b: sum((r.buckets[b] for r in self.rows), ZERO) for b in BUCKETS}
        out["limit"] = sum((r.limit for r in self.rows), ZERO)
        out["balance"] = sum((r.balance for r in self.rows), ZERO)
        out["past_due"] = sum((r.past_due for r in self.rows), ZERO)
        return out


def _summary(session: Session, actor: User, month: str) -> Summary:
    as_of = as_of_for(month)
    rows = ageing_rows(session, actor, as_of, with_lines=True)
    approval = session.scalar(select(CreditSummaryApproval).where(
        CreditSummaryApproval.month == month))
    ceiling = Decimal(str(settings.get(session, "credit.company_ceiling") or 0))
    return Summary(month, as_of, rows, approval, ceiling.quantize(CENT),
                   limits_in_force_total(session, as_of))


@verb
def monthly_summary(session: Session, actor: User, month: str) -> Summary:
    """《预付、赊销客户汇总表》 of ``month``: every customer and supplier with credit or a
    balance on the month's last day (today for the current month), with its ageing, and the
    general manager's approval if recorded. Scoped by ``credit.view``; audited."""
    _require_view(actor)
    summary = _summary(session, actor, month)
    credit_reads.record_report_read(
        session, actor, "credit_summary", (("Customer", r.customer_id) for r in summary.rows),
        f"{month}: {len(summary.rows)} rows")
    return summary


def may_submit(actor: User) -> bool:
    """Whether ``actor`` may submit the month's summary: a company-wide ``credit.review``."""
    return "all" in policy.scopes_for(actor, "credit.review")


def _require_company_wide(actor: User, action: str) -> None:
    """The summary covers the whole company: only a company-wide grant may submit or
    approve it (a department's view would be a partial table)."""
    if "all" not in policy.scopes_for(actor, action):
        raise PermissionDenied(action, "credit_summary")


@verb
def submit_summary(session: Session, actor: User, month: str) -> CreditSummaryApproval:
    """Finance submits the month's summary with its totals to the general manager's 待办.
    Submitting again before the approval refreshes the totals."""
    _require_company_wide(actor, "credit.review")
    summary = _summary(session, actor, month)
    totals = summary.totals
    now = clock.now()
    approval = summary.approval
    if approval is not None and approval.status == "approved":
        raise RuleViolation(N_("The summary of %(month)s is already approved."),
                            rule="R-CRED-10", month=month)
    values = {"customer_count": len(summary.rows), "total_limit": totals["limit"],
              "total_balance": totals["balance"], "total_past_due": totals["past_due"],
              "submitted_by_id": actor.id, "submitted_at": now}
    if approval is None:
        approval = CreditSummaryApproval(month=month, status="submitted", **values)
        session.add(approval)
    else:
        for k, v in values.items():
            setattr(approval, k, v)
    session.flush()
    approvers = [u.id for u in policy.users_with(session, "credit.approve_summary")
                 if u.id != actor.id]
    notifications.notify(session, user_ids=approvers, kind="credit.summary_awaiting_approval",
                message=N_("The credit and prepayment summary of %(month)s is waiting for "
                           "your approval"), params={"month": month}, target=approval,
                dedupe_key=f"credit.summary:{month}")
    audit.record(session, actor, "credit.review", approval, after=audit.snapshot(approval))
    return approval


@verb
def approve_summary(session: Session, actor: User, month: str, comment: str,
                    expected_version: int | None = None) -> CreditSummaryApproval:
    """The general manager approves the submitted summary with a comment (R-CRED-10)."""
    if not policy.can(actor, "credit.approve_summary"):
        raise PermissionDenied("credit.approve_summary", "credit_summary")
    month_end(month)
    approval = session.scalar(select(CreditSummaryApproval).where(
        CreditSummaryApproval.month == month))
    if approval is None:
        raise RuleViolation(N_("The summary of %(month)s has not been submitted by finance."),
                            rule="R-CRED-10", month=month)
    check_version(approval, expected_version)
    if approval.status == "approved":
        raise RuleViolation(N_("The summary of %(month)s is already approved."),
                            rule="R-CRED-10", month=month)
    if approval.submitted_by_id == actor.id:
        raise RuleViolation(N_("Nobody approves what they submitted."), rule="R-CRED-10")
    text_value = (comment or "").strip()
    if not text_value:
        raise ValidationFailed(N_("Write a comment with the approval."), field="comment")
    before = audit.snapshot(approval)
    approval.status = "approved"
    approval.approved_by_id = actor.id
    approval.approved_at = clock.now()
    approval.comment = text_value[:2000]
    session.flush()
    notifications.notify(session, user_ids=[approval.submitted_by_id],
                kind="credit.summary_approved",
                message=N_("The credit and prepayment summary of %(month)s was approved"),
                params={"month": month}, target=approval,
                dedupe_key=f"credit.summary_approved:{month}")
    audit.record(session, actor, "credit.approve_summary", approval, before=before,
                 after=audit.snapshot(approval))
    return approval


def summary_month_default(today: date | None = None) -> str:
    """The month the summary page opens on: the previous month (it is approved after the
    month ends); ``report_access.default_month``."""
    from portal.services import report_access

    return report_access.default_month("credit_summary", today)
