"""Credit rating: ABC, a pure function of the evaluation's answers (R-CRED-1..3), the answers' cleaning and the latest evaluation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CreditEvaluation
from models.enums import CapitalStrength, Quality3, Rating
from portal.services.errors import N_, ValidationFailed

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


# R-CRED-2: the C criteria, each a reason id and a test of the answers
_C_CRITERIA: tuple[tuple[str, Callable[[dict[str, Any]], bool]], ...] = (
    ("c.bad_debt", lambda a: bool(a.get("bad_debt_2y"))),
    ("c.breaks_promises", lambda a: a.get("promise_keeping") == Quality3.POOR.value),
    ("c.debt_disputes", lambda a: bool(a.get("debt_disputes"))),
    ("c.weak_capital", lambda a: a.get("capital_strength") == CapitalStrength.WEAK.value),
    ("c.poor_operations", lambda a: a.get("operating_condition") == Quality3.POOR.value),
    ("c.serious_decline", lambda a: bool(a.get("serious_decline"))),
    ("c.illegal", lambda a: bool(a.get("illegal_operation"))),
    ("c.ordered_to_stop", lambda a: bool(a.get("ordered_to_stop"))),
    ("c.accounts_frozen", lambda a: bool(a.get("accounts_frozen_risk"))),
)


def _b_reasons(answers: dict[str, Any], missing: tuple[str, ...]) -> list[str]:
    """R-CRED-1: why an answer set without a C criterion is not an A."""
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
    return b_reasons


def rate(answers: dict[str, Any]) -> RatingResult:
    """R-CRED-1..3. C if any C criterion holds; A only if every A criterion holds and no key
    data is missing; B otherwise. Returns the rating and the reason ids."""
    c_reasons = [reason for reason, holds in _C_CRITERIA if holds(answers)]
    if c_reasons:
        return RatingResult(Rating.C.value, tuple(c_reasons))
    missing = tuple(k for k in KEY_FIELDS if not _present(answers, k))
    b_reasons = _b_reasons(answers, missing)
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


def latest_evaluation(session: Session, customer_id: int) -> CreditEvaluation | None:
    return session.scalar(select(CreditEvaluation)
                          .where(CreditEvaluation.customer_id == customer_id)
                          .order_by(CreditEvaluation.evaluated_at.desc(),
                                    CreditEvaluation.id.desc()).limit(1))
