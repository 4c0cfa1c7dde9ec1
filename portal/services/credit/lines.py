"""Credit lines: caps (R-CRED-4), the state of a line in force, and the proposal → finance
review → general-manager approval chain (R-CRED-5, R-CRED-6)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models import CreditApproval, CreditEvaluation, CreditLine, Customer, User
from models.enums import CreditLineKind, Rating
from portal import audit, clock, policy, settings
from portal.services import notifications
from portal.services.accepts import accepts
from portal.services.credit._common import LS, ZERO
from portal.services.credit.rating import _amount, latest_evaluation
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import check_version, load, verb

# ---------------------------------------------------------------------------------------------
# R-CRED-4: caps
# ---------------------------------------------------------------------------------------------


def monthly_amount(ev: CreditEvaluation) -> Decimal:
    """"Average monthly amount" of R-CRED-4: the smaller of average monthly shipments and
    receipts ("limit ≤ min(shipments, receipts)"); a missing figure counts as 0."""
    return min(ev.avg_monthly_shipments or ZERO, ev.avg_monthly_receipts or ZERO)


def check_caps(session: Session, ev: CreditEvaluation, kind: str, limit: Decimal, term: int,
               collateral: Decimal, had_credit: bool) -> None:
    """Raise RuleViolation(R-CRED-4) when the proposed line breaks the caps of its rating."""
    max_term = int(settings.get(session, "credit.max_term_days"))
    if ev.rating == Rating.C.value:
        raise RuleViolation(N_("A C-rated customer gets no credit at all."), rule="R-CRED-4")
    if ev.rating == Rating.B.value:
        if collateral <= 0:
            raise RuleViolation(N_("A B-rated customer gets credit only against collateral."),
                                rule="R-CRED-4", field="collateral_value")
        if collateral > (ev.collateral_value or ZERO):
            raise RuleViolation(N_("The collateral exceeds the collateral value evaluated "
                                   "(%(value)s)."), rule="R-CRED-4", field="collateral_value",
                                value=ev.collateral_value or ZERO)
        cap = min(monthly_amount(ev), collateral)
        term_cap = max_term if kind == CreditLineKind.LONG_TERM.value else int(
            settings.get(session, "credit.max_temporary_term_days_b"))
    elif had_credit:
        cap, term_cap = monthly_amount(ev), max_term
    else:
        if kind != CreditLineKind.TEMPORARY.value:
            raise RuleViolation(N_("An A-rated customer without earlier credit gets temporary "
                                   "credit only."), rule="R-CRED-4", field="kind")
        cap, term_cap = ev.avg_monthly_receipts or ZERO, max_term
    if limit > cap:
        raise RuleViolation(N_("The limit may not exceed %(cap)s for this customer."),
                            rule="R-CRED-4", field="limit_amount", cap=cap)
    if term > term_cap:
        raise RuleViolation(N_("The payment term may not exceed %(days)s days."),
                            rule="R-CRED-4", field="term_days", days=term_cap)


def suspended_by_c_clause() -> ColumnElement[bool]:
    """R-CRED-4 "a customer rated C after a line was approved has that line suspended at
    once": an evaluation rated C on or after the line's approval. The suspension does not end
    by itself when a later evaluation is better: a new line goes through the chain again."""
    return select(CreditEvaluation.id).where(
        CreditEvaluation.customer_id == CreditLine.customer_id,
        CreditEvaluation.rating == Rating.C.value,
        CreditEvaluation.evaluated_at >= CreditLine.approved_at).exists()


def in_force_clause(today: date) -> ColumnElement[bool]:
    """The one predicate of "in force" (R-CRED-4, R-CRED-5): approved, before its end date
    (失效日期: a temporary line lapses on it) and not suspended by a later C rating."""
    return and_(CreditLine.status == LS.APPROVED.value,
                or_(CreditLine.valid_until.is_(None), CreditLine.valid_until > today),
                ~suspended_by_c_clause())


def line_state(session: Session, line: CreditLine, today: date | None = None) -> str:
    """The status a user sees: ``suspended`` (C rating after approval) and ``lapsed`` (end
    date reached) are derived from an approved line; other statuses are stored."""
    if line.status != LS.APPROVED.value:
        return line.status
    today = today or clock.today()
    if line.valid_until is not None and line.valid_until <= today:
        return "lapsed"
    if line.approved_at is not None and session.scalar(select(func.count(CreditEvaluation.id))
                                                       .where(
            CreditEvaluation.customer_id == line.customer_id,
            CreditEvaluation.rating == Rating.C.value,
            CreditEvaluation.evaluated_at >= line.approved_at)):
        return "suspended"
    return line.status


def next_step(line: CreditLine) -> str | None:
    """The decision a line waits for (R-CRED-5): ``review`` (finance) after the proposal,
    ``approve`` (general manager) after the review, None once decided."""
    return {LS.PROPOSED.value: "review", LS.REVIEWED.value: "approve"}.get(line.status)


def awaiting_decision_sql() -> ColumnElement[bool]:
    """SQL twin of ``next_step(line) is not None`` (the 待审核 / 审批 list)."""
    return CreditLine.status.in_((LS.PROPOSED.value, LS.REVIEWED.value))


def line_in_force(session: Session, customer_id: int, today: date | None = None
                  ) -> CreditLine | None:
    """The line in force of the customer (see ``in_force_clause``)."""
    today = today or clock.today()
    return session.scalar(select(CreditLine).where(
        CreditLine.customer_id == customer_id, in_force_clause(today))
        .order_by(CreditLine.approved_at.desc(), CreditLine.id.desc()).limit(1))


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months (clamped to the month's last day)."""
    import calendar as _cal

    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


def temporary_end(session: Session, start: date) -> date:
    """The default end date of a temporary line (setting, default 3 months after start)."""
    return add_months(start, int(settings.get(session, "credit.temporary_line_months")))


def had_credit(session: Session, customer_id: int) -> bool:
    return bool(session.scalar(select(func.count(CreditLine.id)).where(
        CreditLine.customer_id == customer_id,
        CreditLine.status.in_([LS.APPROVED.value, LS.SUPERSEDED.value]))))


def _line_snap(line: CreditLine) -> dict[str, Any]:
    return audit.snapshot(line)


def _step(session: Session, line: CreditLine, step: str, actor: User, note: str | None
          ) -> CreditApproval:
    a = CreditApproval(credit_line_id=line.id, step=step, actor_id=actor.id, at=clock.now(),
                       note=note)
    session.add(a)
    session.flush()
    return a


@verb
@accepts("kind", "limit_amount", "term_days", "collateral_value", "raise_reason",
         "valid_until", "note")
def propose_line(session: Session, actor: User, customer_id: int, data: dict[str, Any]
                 ) -> CreditLine:
    """Propose a credit line (department manager). ``data``: kind, limit_amount, term_days,
    collateral_value, raise_reason (required when the limit is higher than the one in force),
    valid_until (optional), note."""
    customer = load(session, actor, Customer, customer_id, "customer.view")
    if not policy.can(actor, "credit.propose", customer):
        raise PermissionDenied("credit.propose", customer)
    kind = data.get("kind")
    if kind not in [k.value for k in CreditLineKind]:
        raise ValidationFailed(N_("Choose long-term or temporary."), field="kind")
    limit = _amount(data.get("limit_amount"), "limit_amount", positive=True)
    try:
        term = int(data.get("term_days"))
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Enter the payment term in days."), field="term_days") from None
    if term <= 0:
        raise ValidationFailed(N_("Enter the payment term in days."), field="term_days")
    collateral = _amount(data.get("collateral_value") or 0, "collateral_value")
    ev = latest_evaluation(session, customer.id)
    if ev is None:
        raise RuleViolation(N_("Evaluate the customer's credit before proposing a line."),
                            rule="R-CRED-4")
    pending = session.scalar(select(func.count(CreditLine.id)).where(
        CreditLine.customer_id == customer.id,
        CreditLine.status.in_([LS.PROPOSED.value, LS.REVIEWED.value])))
    if pending:
        raise RuleViolation(N_("A proposal for this customer is already in the approval "
                               "chain."), rule="R-CRED-5")
    check_caps(session, ev, kind, limit, term, collateral, had_credit(session, customer.id))
    current = line_in_force(session, customer.id)
    is_raise = current is not None and limit > current.limit_amount
    raise_reason = (data.get("raise_reason") or "").strip() or None
    if is_raise and not raise_reason:
        raise RuleViolation(N_("A new limit should be lower than the one in force (%(limit)s); "
                               "a raise needs a reason."), rule="R-CRED-6",
                            field="raise_reason", limit=current.limit_amount)
    valid_until = data.get("valid_until")
    if isinstance(valid_until, str) and valid_until:
        try:
            valid_until = date.fromisoformat(valid_until)
        except ValueError:
            raise ValidationFailed(N_("Enter a date."), field="valid_until") from None
    if valid_until:
        today = clock.today()
        if valid_until <= today:
            raise ValidationFailed(N_("The end date must be after today."), field="valid_until")
        if kind == CreditLineKind.TEMPORARY.value and valid_until > temporary_end(session, today):
            raise RuleViolation(N_("A temporary line ends at the latest on %(date)s."),
                                rule="R-CRED-4", field="valid_until",
                                date=temporary_end(session, today))
    now = clock.now()
    line = CreditLine(customer_id=customer.id, evaluation_id=ev.id, kind=kind,
                      limit_amount=limit, term_days=term, collateral_value=collateral,
                      status=LS.PROPOSED.value, is_raise=is_raise,
                      raise_reason=raise_reason if is_raise else None,
                      proposed_by_id=actor.id, proposed_at=now, valid_until=valid_until or None,
                      created_at=now, updated_at=now)
    session.add(line)
    session.flush()
    step = _step(session, line, "propose", actor, data.get("note"))
    notifications.notify(
        session, user_ids=[u.id for u in policy.users_with(session, "credit.review", customer)],
        kind="credit.awaiting_review",
        message=N_("Credit line #%(line)s of %(customer)s is waiting for your review."),
        params={"line": line.id, "customer": customer.name}, target=line,
        dedupe_key=f"credit.review:{line.id}:{step.id}", now=now)
    audit.record(session, actor, "credit.propose", line, after=_line_snap(line))
    return line


def _load_line(session: Session, actor: User, line_id: int, action: str,
               expected_version: int | None) -> CreditLine:
    line = load(session, actor, CreditLine, line_id, "credit.view")
    if not policy.can(actor, action, line.customer):
        raise PermissionDenied(action, line)
    check_version(line, expected_version)
    return line


@verb
def review_line(session: Session, actor: User, line_id: int, accept: bool,
                note: str | None = None, expected_version: int | None = None) -> CreditLine:
    """Finance review (R-CRED-5). The proposer never reviews their own proposal."""
    line = _load_line(session, actor, line_id, "credit.review", expected_version)
    if line.status != LS.PROPOSED.value:
        raise RuleViolation(N_("Only a proposed line can be reviewed (this one is %(status)s)."),
                            rule="R-CRED-5", status=line.status)
    if line.proposed_by_id == actor.id:
        raise RuleViolation(N_("Nobody reviews or approves their own proposal."),
                            rule="R-CRED-5")
    note = (note or "").strip() or None
    if not accept and not note:
        raise ValidationFailed(N_("Say why the proposal is rejected."), field="note")
    before = _line_snap(line)
    now = clock.now()
    line.reviewed_by_id, line.reviewed_at, line.updated_at = actor.id, now, now
    line.status = LS.REVIEWED.value if accept else LS.REJECTED.value
    step = _step(session, line, "review" if accept else "reject", actor, note)
    params = {"line": line.id, "customer": line.customer.name}
    if accept:
        notifications.notify(
            session, user_ids=[u.id for u in policy.users_with(session, "credit.approve",
                                                               line.customer)],
            kind="credit.awaiting_approval",
            message=N_("Credit line #%(line)s of %(customer)s passed the finance review and "
                       "is waiting for your approval."),
            params=params, target=line, dedupe_key=f"credit.approval:{line.id}:{step.id}",
            now=now)
    notifications.notify(
        session, user_ids=[line.proposed_by_id], kind="credit.reviewed",
        message=N_("Credit line #%(line)s of %(customer)s passed the finance review.") if accept
        else N_("Credit line #%(line)s of %(customer)s was rejected in the finance review."),
        params=params, target=line, dedupe_key=f"credit.reviewed:{line.id}:{step.id}", now=now)
    audit.record(session, actor, "credit.review", line, before=before, after=_line_snap(line))
    return line


@verb
def approve_line(session: Session, actor: User, line_id: int, accept: bool,
                 note: str | None = None, expected_version: int | None = None) -> CreditLine:
    """General-manager approval (R-CRED-5); an approved line is in force and supersedes the
    previous one. A raise needs an explicit approval note (R-CRED-6)."""
    line = _load_line(session, actor, line_id, "credit.approve", expected_version)
    if line.status != LS.REVIEWED.value:
        raise RuleViolation(N_("A line is approved only after the finance review (this one is "
                               "%(status)s)."), rule="R-CRED-5", status=line.status)
    if actor.id in (line.proposed_by_id, line.reviewed_by_id):
        raise RuleViolation(N_("Nobody reviews or approves their own proposal."),
                            rule="R-CRED-5")
    note = (note or "").strip() or None
    before = _line_snap(line)
    now = clock.now()
    if accept:
        ev = latest_evaluation(session, line.customer_id)
        if ev is None:
            raise RuleViolation(N_("Evaluate the customer's credit before proposing a line."),
                                rule="R-CRED-4")
        # R-CRED-4: the caps again, against the latest evaluation (it may have changed since).
        check_caps(session, ev, line.kind, line.limit_amount, line.term_days,
                   line.collateral_value or ZERO, had_credit(session, line.customer_id))
        current = line_in_force(session, line.customer_id)
        is_raise = current is not None and line.limit_amount > current.limit_amount
        if is_raise and not line.raise_reason:
            raise RuleViolation(N_("This line is now a raise over the line in force; propose it "
                                   "again with a reason."), rule="R-CRED-6")
        if is_raise and not note:
            raise RuleViolation(N_("Approving a raise needs an explicit reason."),
                                rule="R-CRED-6", field="note")
        line.is_raise = is_raise
        from portal.services import receivables

        receivables.check_ceiling(session, line, clock.today())
        for old in session.scalars(select(CreditLine).where(
                CreditLine.customer_id == line.customer_id,
                CreditLine.status == LS.APPROVED.value, CreditLine.id != line.id)):
            old.status = LS.SUPERSEDED.value
            old.valid_until = old.valid_until or clock.today()
            old.updated_at = now
        line.status = LS.APPROVED.value
        line.approved_by_id, line.approved_at = actor.id, now
        line.valid_from = clock.today()
        line.evaluation_id = ev.id
        if line.kind == CreditLineKind.TEMPORARY.value:
            end = temporary_end(session, line.valid_from)
            line.valid_until = min(line.valid_until or end, end)
    else:
        if not note:
            raise ValidationFailed(N_("Say why the proposal is rejected."), field="note")
        line.status = LS.REJECTED.value
    line.updated_at = now
    step = _step(session, line, "approve" if accept else "reject", actor, note)
    notifications.notify(
        session, user_ids=[u for u in (line.proposed_by_id, line.reviewed_by_id) if u],
        kind="credit.decided",
        message=N_("Credit line #%(line)s of %(customer)s was approved.") if accept
        else N_("Credit line #%(line)s of %(customer)s was rejected."),
        params={"line": line.id, "customer": line.customer.name}, target=line,
        dedupe_key=f"credit.approval:{line.id}:{step.id}", now=now)
    audit.record(session, actor, "credit.approve", line, before=before, after=_line_snap(line))
    return line
