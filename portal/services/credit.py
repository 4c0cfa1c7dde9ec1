"""Credit (客户信用): ABC rating from the evaluation (R-CRED-1..3), credit lines with their caps
(R-CRED-4), the proposal → finance review → general-manager approval chain (R-CRED-5, R-CRED-6),
review due and monthly usage reviews (R-CRED-7), the outstanding balance against the line in
force with over-limit approvals, and the over-limit list (R-CRED-8).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql.elements import ColumnElement

from models import (
    CreditApproval,
    CreditEvaluation,
    CreditLine,
    CreditUsageReview,
    Customer,
    CustomerTransaction,
    OverLimitApproval,
    User,
)
from models.enums import (
    CapitalStrength,
    CreditLineKind,
    CreditLineStatus,
    Quality3,
    Rating,
    TransactionKind,
)
from portal import audit, clock, policy, settings
from portal.services import calendar, notifications
from portal.services.complaints import _insert_ignore
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import check_version, load, verb

LS = CreditLineStatus
ZERO = Decimal("0")

# ---------------------------------------------------------------------------------------------
# R-CRED-1..3: the rating, a pure function of the answers
# ---------------------------------------------------------------------------------------------

# Reason ids → (English msgid, Chinese). The stored ``rating_reason`` shows both.
REASONS: dict[str, tuple[str, str]] = {
    "c.bad_debt": (N_("bad debt or serious breach in the last 2 years"), "近两年有坏账或严重违约"),
    "c.breaks_promises": (N_("often breaks promises"), "经常不守信用"),
    "c.debt_disputes": (N_("debt disputes or asset transfers"), "有债务纠纷或转移资产"),
    "c.weak_capital": (N_("weak capital"), "资金实力弱"),
    "c.poor_operations": (N_("poor operations or losses"), "经营状况差或亏损"),
    "c.serious_decline": (N_("serious decline"), "经营严重下滑"),
    "c.illegal": (N_("illegal operation"), "有违法经营行为"),
    "c.ordered_to_stop": (N_("ordered by the authorities to stop"), "被有关部门责令停业"),
    "c.accounts_frozen": (N_("bank accounts at risk of freezing"), "银行账户有被冻结风险"),
    "a.all_met": (N_("all A criteria met"), "满足A级全部条件"),
    "b.new_customer": (N_("new customer (cooperation under 1 year)"), "新客户(合作不满1年)"),
    "b.missing_data": (N_("key data missing: %(fields)s"), "关键资料缺失: %(fields)s"),
    "b.operations_not_good": (N_("operations not good for 2 years"), "近两年经营状况一般"),
    "b.capital_not_strong": (N_("capital not strong"), "资金实力一般"),
    "b.receipts_below_standard": (N_("receipts do not meet the standard"), "回款未达标准"),
    "b.promises_not_good": (N_("promise keeping not proven good"), "守信记录未达良好"),
}

# Data without which a customer cannot be rated A (R-CRED-1 "key data missing").
KEY_FIELDS = ("years_of_cooperation", "bad_debt_2y", "promise_keeping", "illegal_operation",
              "ordered_to_stop", "operating_condition", "capital_strength", "receipts_meet_standard",
              "avg_monthly_receipts")

BOOL_FIELDS = ("bad_debt_2y", "debt_disputes", "serious_decline", "illegal_operation",
               "ordered_to_stop", "accounts_frozen_risk", "receipts_meet_standard")
MONEY_FIELDS = ("avg_monthly_shipments", "avg_monthly_receipts", "collateral_value")
CHOICE_FIELDS: dict[str, type] = {"promise_keeping": Quality3,
                                  "operating_condition": Quality3,
                                  "capital_strength": CapitalStrength}
ANSWER_FIELDS = ("years_of_cooperation", *BOOL_FIELDS, *MONEY_FIELDS, *CHOICE_FIELDS)


@dataclass(frozen=True)
class RatingResult:
    rating: str
    reasons: tuple[str, ...]
    missing: tuple[str, ...] = ()

    def __iter__(self):  # allows ``rating, reasons = rate(answers)``
        return iter((self.rating, list(self.reasons)))


def _present(answers: dict[str, Any], key: str) -> bool:
    value = answers.get(key)
    return value is not None and value != ""


def rate(answers: dict[str, Any]) -> RatingResult:
    """R-CRED-1..3. C if any C criterion holds; A only if every A criterion holds and no key
    data is missing; B otherwise. Returns the rating and the reason ids."""
    c_reasons = []
    if answers.get("bad_debt_2y"):
        c_reasons.append("c.bad_debt")
    if answers.get("promise_keeping") == Quality3.POOR.value:
        c_reasons.append("c.breaks_promises")
    if answers.get("debt_disputes"):
        c_reasons.append("c.debt_disputes")
    if answers.get("capital_strength") == CapitalStrength.WEAK.value:
        c_reasons.append("c.weak_capital")
    if answers.get("operating_condition") == Quality3.POOR.value:
        c_reasons.append("c.poor_operations")
    if answers.get("serious_decline"):
        c_reasons.append("c.serious_decline")
    if answers.get("illegal_operation"):
        c_reasons.append("c.illegal")
    if answers.get("ordered_to_stop"):
        c_reasons.append("c.ordered_to_stop")
    if answers.get("accounts_frozen_risk"):
        c_reasons.append("c.accounts_frozen")
    if c_reasons:
        return RatingResult(Rating.C.value, tuple(c_reasons))

    missing = tuple(k for k in KEY_FIELDS if not _present(answers, k))
    b_reasons = []
    if missing:
        b_reasons.append("b.missing_data")
    years = answers.get("years_of_cooperation")
    if _present(answers, "years_of_cooperation") and Decimal(str(years)) < 1:
        b_reasons.append("b.new_customer")
    if _present(answers, "promise_keeping") and \
            answers["promise_keeping"] != Quality3.GOOD.value:
        b_reasons.append("b.promises_not_good")  # "fair" is not "strict performance" (R-CRED-1)
    if _present(answers, "operating_condition") and \
            answers["operating_condition"] != Quality3.GOOD.value:
        b_reasons.append("b.operations_not_good")
    if _present(answers, "capital_strength") and \
            answers["capital_strength"] != CapitalStrength.STRONG.value:
        b_reasons.append("b.capital_not_strong")
    if _present(answers, "receipts_meet_standard") and not answers["receipts_meet_standard"]:
        b_reasons.append("b.receipts_below_standard")
    if b_reasons:
        return RatingResult(Rating.B.value, tuple(b_reasons), missing)
    return RatingResult(Rating.A.value, ("a.all_met",))


def explain(result: RatingResult, lang: str = "both") -> str:
    """The human reason text: ``zh``, ``en`` or both (``中文 (English)``)."""
    parts = []
    for rid in result.reasons:
        en, zh = REASONS[rid]
        params = {"fields": ", ".join(result.missing)}
        en, zh = en % params if "%(" in en else en, zh % params if "%(" in zh else zh
        parts.append(zh if lang == "zh" else en if lang == "en" else f"{zh} ({en})")
    return "; ".join(parts)


def _clean_answers(answers: dict[str, Any]) -> dict[str, Any]:
    unknown = set(answers) - set(ANSWER_FIELDS)
    if unknown:
        raise ValidationFailed(N_("Unknown evaluation item %(name)s."),
                               field=sorted(unknown)[0], name=sorted(unknown)[0])
    clean: dict[str, Any] = {}
    for key, value in answers.items():
        if value is None or value == "":
            clean[key] = None
        elif key in BOOL_FIELDS:
            if isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "on", "y", "是")
            clean[key] = bool(value)
        elif key in CHOICE_FIELDS:
            allowed = [e.value for e in CHOICE_FIELDS[key]]
            if value not in allowed:
                raise ValidationFailed(N_("Choose one of %(allowed)s."), field=key,
                                       allowed=", ".join(allowed))
            clean[key] = value
        else:
            clean[key] = _amount(value, key)
    return clean


def _amount(value: Any, field: str, positive: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationFailed(N_("Enter a number."), field=field) from None
    if not amount.is_finite() or amount < 0 or (positive and amount == 0):
        raise ValidationFailed(N_("Enter a positive number.") if positive
                               else N_("The number cannot be negative."), field=field)
    return amount.quantize(Decimal("0.01"))


@verb
def evaluate(session: Session, actor: User, customer_id: int, answers: dict[str, Any]
             ) -> CreditEvaluation:
    """Record a credit evaluation (客户信用评定表) with the computed rating and its reason."""
    customer = load(session, actor, Customer, customer_id, "customer.view")
    if not policy.can(actor, "credit.evaluate", customer):
        raise PermissionDenied("credit.evaluate", customer)
    clean = _clean_answers(dict(answers))
    result = rate(clean)
    now = clock.now()
    in_force = line_in_force(session, customer.id) if result.rating == Rating.C.value else None
    columns = {k: v for k, v in clean.items() if v is not None}
    ev = CreditEvaluation(customer_id=customer.id, rating=result.rating,
                          rating_reason=explain(result), evaluated_by_id=actor.id,
                          evaluated_at=now, created_at=now, updated_at=now, **columns)
    session.add(ev)
    session.flush()
    audit.record(session, actor, "credit.evaluate", ev, after=audit.snapshot(ev))
    if in_force is not None:
        # R-CRED-4: a C rating suspends the line in force at once (see in_force_clause).
        audit.record(session, actor, "credit.suspend", in_force,
                     detail=f"rated C by evaluation {ev.id}")
        recipients = [in_force.approved_by_id, in_force.proposed_by_id, customer.owner_id]
        notifications.notify(
            session, user_ids=[u for u in recipients if u], kind="credit.suspended",
            message=N_("The credit line of %(customer)s is suspended: the customer is now "
                       "rated C."),
            params={"customer": customer.name}, target=in_force,
            dedupe_key=f"credit.suspended:{in_force.id}", now=now)
    return ev


def latest_evaluation(session: Session, customer_id: int) -> CreditEvaluation | None:
    return session.scalar(select(CreditEvaluation)
                          .where(CreditEvaluation.customer_id == customer_id)
                          .order_by(CreditEvaluation.evaluated_at.desc(),
                                    CreditEvaluation.id.desc()).limit(1))


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


# ---------------------------------------------------------------------------------------------
# R-CRED-8: balance, over-limit approvals, the over-limit list
# ---------------------------------------------------------------------------------------------


def valid_over_limit_approval(session: Session, customer_id: int, excess: Decimal,
                              now: datetime) -> OverLimitApproval | None:
    return session.scalar(select(OverLimitApproval).where(
        OverLimitApproval.customer_id == customer_id, OverLimitApproval.valid_until >= now,
        OverLimitApproval.amount >= excess).order_by(OverLimitApproval.amount.desc()).limit(1))


@verb
def approve_over_limit(session: Session, actor: User, customer_id: int, amount: Any,
                       reason: str, valid_days: Any = 30) -> OverLimitApproval:
    """A formal approval to exceed the line in force by up to ``amount`` (R-CRED-8)."""
    customer = load(session, actor, Customer, customer_id, "customer.view")
    if not policy.can(actor, "credit.approve_over_limit", customer):
        raise PermissionDenied("credit.approve_over_limit", customer)
    value = _amount(amount, "amount", positive=True)
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(N_("Say why the limit may be exceeded."), field="reason")
    try:
        days = int(valid_days)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Enter a number of days."), field="valid_days") from None
    if not 1 <= days <= 366:
        raise ValidationFailed(N_("Enter 1 to 366 days."), field="valid_days")
    now = clock.now()
    ola = OverLimitApproval(customer_id=customer.id, amount=value, reason=text,
                            approved_by_id=actor.id, approved_at=now,
                            valid_until=now + timedelta(days=days))
    session.add(ola)
    session.flush()
    audit.record(session, actor, "credit.approve_over_limit", ola, after=audit.snapshot(ola))
    return ola


@verb
def record_transaction(session: Session, actor: User, customer_id: int, kind: str, amount: Any,
                       reference: str | None = None, delivery_deadline: Any = None
                       ) -> CustomerTransaction:
    """Record a credit sale (``order``, 赊销: raises the outstanding balance, due on the sale
    date + the line's term), a receipt (``payment``: settles open sales oldest first), a
    prepayment to a supplier (``prepayment``, 预付: due on its ``delivery_deadline`` 到货期限)
    or a delivery against prepayments (``delivery``: settles them oldest first).

    A sale or prepayment beyond the line in force is refused unless a valid over-limit
    approval covers the excess (R-CRED-8); while the customer has anything past due, it is
    refused unless a valid over-limit approval covers its amount (R-CRED-9)."""
    from portal.services import receivables as rc

    customer = load(session, actor, Customer, customer_id, "customer.view")
    if not policy.can(actor, "credit.record_transaction", customer):
        raise PermissionDenied("credit.record_transaction", customer)
    if kind not in [k.value for k in TransactionKind]:
        raise ValidationFailed(N_("Choose a credit sale, a receipt, a prepayment or a "
                                  "delivery."), field="kind")
    value = _amount(amount, "amount", positive=True)
    # Serialise balance changes of one customer (row lock on PostgreSQL).
    customer = session.scalar(select(Customer).where(Customer.id == customer.id)
                              .with_for_update().execution_options(populate_existing=True))
    before = {"outstanding_balance": customer.outstanding_balance}
    balance = customer.outstanding_balance or ZERO
    now = clock.now()
    today = calendar.company_date(now)
    approval = None
    deadline = None
    grows = kind in (TransactionKind.ORDER.value, TransactionKind.PREPAYMENT.value)
    if kind == TransactionKind.PREPAYMENT.value:
        deadline = rc.check_prepayment(customer, rc.parse_deadline(delivery_deadline), today)
    if grows:
        freeze = rc.check_freeze(session, customer, value, today, lambda a: (
            valid_over_limit_approval(session, customer.id, a, now)))
        new_balance = balance + value
        line = line_in_force(session, customer.id)
        limit = line.limit_amount if line else ZERO
        approval = freeze
        if new_balance > limit:
            approval = valid_over_limit_approval(
                session, customer.id, max(new_balance - limit, value if freeze else ZERO),
                now)
            if approval is None:
                raise RuleViolation(
                    N_("This order would bring the outstanding balance to %(balance)s, above "
                       "the credit limit in force (%(limit)s), and no over-limit approval "
                       "covers it."), rule="R-CRED-8", field="amount", balance=new_balance,
                    limit=limit)
    tx = CustomerTransaction(customer_id=customer.id, kind=kind, amount=value,
                             reference=(reference or "").strip()[:64] or None,
                             recorded_by_id=actor.id, recorded_at=now,
                             over_limit_approval_id=approval.id if approval else None)
    session.add(tx)
    session.flush()
    if grows:
        item_kind = rc.PREPAYMENT if kind == TransactionKind.PREPAYMENT.value else rc.CREDIT_SALE
        rc.book(session, customer, tx, item_kind, today, deadline)
    else:
        unitemised = max(ZERO, balance - rc.open_total(session, customer.id))
        item_kind = rc.CREDIT_SALE if kind == TransactionKind.PAYMENT.value else rc.PREPAYMENT
        applied = rc.settle_fifo(session, customer, tx, item_kind, today)
        applied += min(unitemised, value - applied)  # balances older than the open items
        new_balance = max(ZERO, balance - applied)
    customer.outstanding_balance = new_balance
    customer.updated_at = now
    session.flush()
    audit.record(session, actor, "credit.record_transaction", customer, before=before,
                 after={"outstanding_balance": new_balance, "transaction": tx.id, "kind": kind,
                        "amount": value, "delivery_deadline": deadline,
                        "over_limit_approval": approval.id if approval else None})
    return tx


def _limit_subquery(today: date):
    return (select(CreditLine.customer_id, func.max(CreditLine.limit_amount).label("limit"))
            .where(in_force_clause(today))
            .group_by(CreditLine.customer_id).subquery())


def over_limit_rows(session: Session, actor: User | None = None, today: date | None = None
                    ) -> list[dict[str, Any]]:
    """Customers whose outstanding balance is above the limit in force (no line = limit 0),
    restricted to the actor's ``credit.view`` scope (all when ``actor`` is None: system)."""
    today = today or clock.today()
    lim = _limit_subquery(today)
    limit_col = func.coalesce(lim.c.limit, 0)
    stmt = (select(Customer, limit_col.label("limit"))
            .outerjoin(lim, lim.c.customer_id == Customer.id)
            .where(Customer.outstanding_balance > limit_col)
            .order_by((Customer.outstanding_balance - limit_col).desc(), Customer.id))
    if actor is not None:
        stmt = policy.scope(stmt, actor, Customer, "credit.view")
    rows = []
    for customer, limit in session.execute(stmt).all():
        limit = Decimal(str(limit or 0))
        rows.append({"customer": customer, "customer_id": customer.id, "code": customer.code,
                     "name": customer.name, "owner_id": customer.owner_id,
                     "outstanding_balance": customer.outstanding_balance, "limit": limit,
                     "excess": customer.outstanding_balance - limit})
    return rows


@verb
def over_limit_customers(session: Session, actor: User) -> list[dict[str, Any]]:
    """R-CRED-8: customers above their limit, for collection (scoped; the read is audited)."""
    if not policy.can(actor, "credit.view"):
        raise PermissionDenied("credit.view", "over_limit_customers")
    rows = over_limit_rows(session, actor)
    audit.record(session, actor, "credit.view", "over_limit_customers",
                 detail=f"{len(rows)} customers listed")
    return rows


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
        try:
            datetime.strptime(moment_or_month, "%Y-%m")
        except ValueError:
            raise ValidationFailed(N_("Enter a month as YYYY-MM."), field="month") from None
        return moment_or_month
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
    audit.record(session, actor, "credit.view", "credit_usage_report",
                 detail=f"{month}: {len(rows)} rows")
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
