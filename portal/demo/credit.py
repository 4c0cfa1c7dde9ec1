"""Demo data, credit area: evaluations, credit lines, transactions and usage reviews."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from models import (
    CreditApproval,
    CreditEvaluation,
    CreditLine,
    CreditUsageReview,
    CustomerTransaction,
)
from models.enums import (
    CapitalStrength,
    CreditLineKind,
    CreditLineStatus,
    Quality3,
    TransactionKind,
)
from portal import clock, settings
from portal.demo.helpers import _Cust, _round_limit
from portal.services import credit


class CreditMixin:
    """Credit evaluations, lines, transactions and usage reviews (R-CRED-*)."""

    def credit(self) -> None:
        rng = self.rng
        finance = self.uid("finance1")
        gm = self.uid("gm")
        manager_of = {"HD-PD": "manager1", "HD-MH": "manager1", "HD-SZ": "manager2"}
        review_days = int(settings.get(self.s, "credit.review_interval_days"))
        # Long-standing companies first: the A ratings need ≥ 1 year of cooperation at the
        # time of the evaluation (R-CRED-1), the earlier lines ≥ 1 year before that.
        candidates = sorted((c for c in self.customers if not c.person
                             and c.obj.status == "active" and c.obj.kind in ("dealer", "end")),
                            key=lambda c: c.obj.registered_at)
        plan = (["A_long_due", "A_long_over", "A_long", "A_long", "A_long", "A_long_raise"]
                + ["A_temp"] * 2 + ["A_proposed", "A_reviewed"] + ["A_none"] * 3
                + ["B_coll"] * 2 + ["B_proposed", "B_reviewed", "B_rejected"] + ["B_none"] * 6
                + ["C"] * 6)
        evaluations: list[CreditEvaluation] = []
        lines: list[CreditLine] = []
        txs: list[CustomerTransaction] = []
        reviews: list[CreditUsageReview] = []
        for c, scenario in zip(candidates, plan, strict=False):
            target = scenario[0]
            proposer = self.uid(manager_of[c.branch])
            monthly = Decimal(rng.randrange(30, 300) * 10000)
            recent_days = rng.uniform(5, 80)
            if scenario == "A_long_due":
                recent_days = review_days + 30          # R-CRED-7: review due
            elif scenario == "A_long_over":
                recent_days = 14                        # the line was lowered two weeks ago
            ev = self._evaluation(c, target, monthly, self.work_time(recent_days), finance,
                                  collateral=scenario in ("B_coll", "B_proposed", "B_reviewed"))
            evaluations.append(ev)
            if scenario.startswith("A_long"):
                # an earlier line: an A customer with earlier credit may get a long-term line
                old_ev = self._evaluation(c, "A", monthly, self.work_time(recent_days + 365),
                                          finance)
                evaluations.append(old_ev)
                raise_ = scenario == "A_long_raise"
                old_limit = _round_limit(min(old_ev.avg_monthly_shipments,
                                             old_ev.avg_monthly_receipts)
                                         * Decimal("0.7" if raise_ else "0.9"))
                old = self._line(c, old_ev, CreditLineKind.LONG_TERM, old_limit, 30,
                                 old_ev.evaluated_at + timedelta(days=3), proposer, finance, gm,
                                 final=CreditLineStatus.SUPERSEDED)
                lines.append(old)
                limit = (_round_limit(min(ev.avg_monthly_shipments, ev.avg_monthly_receipts,
                                          old_limit * Decimal("1.2"))) if raise_
                         else _round_limit(old_limit * Decimal("0.8")))
                cur = self._line(c, ev, CreditLineKind.LONG_TERM, limit, 30,
                                 ev.evaluated_at + timedelta(days=2), proposer, finance, gm,
                                 final=CreditLineStatus.APPROVED)
                old.valid_until = cur.valid_from
                if raise_:   # R-CRED-6: a raise needs an explicit approval with a reason
                    cur.is_raise = True
                    cur.raise_reason = "合作稳定、回款及时，月均提货量增长，申请提高额度。"
                lines.append(cur)
                over = scenario == "A_long_over"
                txs += self._transactions(c, limit, self.now - timedelta(days=90),
                                          old_limit if over else None, cur.approved_at)
                reviews += self._usage(c, cur, finance)
            elif scenario in ("A_temp", "B_coll"):
                if scenario == "A_temp":   # A without earlier credit: temporary only
                    kind, limit, term = (CreditLineKind.TEMPORARY,
                                         _round_limit(ev.avg_monthly_receipts * Decimal("0.8")),
                                         30)
                else:                      # B: only with collateral, ≤ min(monthly, collateral)
                    kind, term = CreditLineKind.LONG_TERM, 30
                    limit = _round_limit(min(ev.avg_monthly_shipments, ev.avg_monthly_receipts,
                                             ev.collateral_value) * Decimal("0.9"))
                line = self._line(c, ev, kind, limit, term, ev.evaluated_at + timedelta(days=2),
                                  proposer, finance, gm, final=CreditLineStatus.APPROVED)
                lines.append(line)
                txs += self._transactions(c, limit, line.approved_at)
                reviews += self._usage(c, line, finance)
            elif scenario in ("A_proposed", "B_proposed", "A_reviewed", "B_reviewed",
                              "B_rejected"):
                final = {"proposed": CreditLineStatus.PROPOSED,
                         "reviewed": CreditLineStatus.REVIEWED,
                         "rejected": CreditLineStatus.REJECTED}[scenario.split("_")[1]]
                if target == "A":
                    kind, limit, term = (CreditLineKind.TEMPORARY,
                                         _round_limit(ev.avg_monthly_receipts * Decimal("0.7")),
                                         30)
                elif scenario == "B_rejected":   # B without collateral: refused by finance
                    kind, limit, term = (CreditLineKind.LONG_TERM,
                                         _round_limit(ev.avg_monthly_receipts * Decimal("0.5")),
                                         30)
                else:
                    kind, term = CreditLineKind.TEMPORARY, 15
                    limit = _round_limit(min(ev.avg_monthly_shipments, ev.avg_monthly_receipts,
                                             ev.collateral_value) * Decimal("0.8"))
                start = max(ev.evaluated_at + timedelta(days=1),
                            self.now - timedelta(days=rng.uniform(1, 4)))
                lines.append(self._line(c, ev, kind, limit, term, start, proposer, finance, gm,
                                        final=final))
        suspended = self._suspended_by_c(candidates, plan, evaluations, finance, gm, manager_of)
        evaluations += suspended[0]
        lines += suspended[1]
        self.s.add_all(evaluations + lines + txs + reviews)
        self.counts["credit evaluations"] = len(evaluations)
        self.counts["credit lines"] = len(lines)

    def _suspended_by_c(self, candidates: list[_Cust], plan: list[str],
                        evaluations: list[CreditEvaluation], finance: int, gm: int,
                        manager_of: dict[str, str]) -> tuple[list[CreditEvaluation], list[CreditLine]]:
        """R-CRED-4 "a customer rated C after a line was approved has that line suspended at
        once": the first C customer had an A rating and an approved line before its C rating
        (own random stream, so the rest of the demo stays as it was)."""
        rng = random.Random(16)
        c_customers = [c for c, sc in zip(candidates, plan, strict=False) if sc == "C"]
        if not c_customers:
            return [], []
        c = c_customers[0]
        c_ev = max((e for e in evaluations if e.customer_id == c.obj.id), key=lambda e: e.evaluated_at, default=None)
        c_at = c_ev.evaluated_at if c_ev is not None else self.work_time(3)
        monthly = Decimal(rng.randrange(30, 300) * 10000)
        a_ev = self._evaluation(c, "A", monthly, c_at - timedelta(days=120), finance)
        line = self._line(c, a_ev, CreditLineKind.LONG_TERM,
                          _round_limit(min(a_ev.avg_monthly_shipments,
                                           a_ev.avg_monthly_receipts) * Decimal("0.6")), 30,
                          a_ev.evaluated_at + timedelta(days=2), self.uid(manager_of[c.branch]),
                          finance, gm, final=CreditLineStatus.APPROVED)
        c.obj.notes = "授信批准后信用评定降为C级，授信已即时暂停（R-CRED-4）。"
        return [a_ev], [line]

    def _evaluation(self, c: _Cust, target: str, monthly: Decimal, at: datetime,
                    evaluator: int, collateral: bool = False) -> CreditEvaluation:
        rng = self.rng
        years = max((at - c.obj.registered_at).days, 0) / 365
        answers = {
            "years_of_cooperation": Decimal(str(round(years, 1))),
            "bad_debt_2y": False, "promise_keeping": Quality3.GOOD.value,
            "debt_disputes": False, "capital_strength": CapitalStrength.STRONG.value,
            "operating_condition": Quality3.GOOD.value, "serious_decline": False,
            "illegal_operation": False, "ordered_to_stop": False,
            "accounts_frozen_risk": False,
            "avg_monthly_shipments": monthly,
            "avg_monthly_receipts": _round_limit(monthly * Decimal(str(rng.uniform(0.85, 1.0)))),
            "receipts_meet_standard": True,
            "collateral_value": Decimal("0"),
        }
        if target == "B":
            answers.update(rng.choice([
                {"capital_strength": CapitalStrength.MEDIUM.value},
                {"operating_condition": Quality3.FAIR.value},
                {"receipts_meet_standard": False},
                {"promise_keeping": Quality3.FAIR.value},
            ]))
            if collateral:
                answers["collateral_value"] = _round_limit(monthly * Decimal("0.6"))
        elif target == "C":
            answers.update(rng.choice([
                {"bad_debt_2y": True}, {"debt_disputes": True},
                {"capital_strength": CapitalStrength.WEAK.value},
                {"operating_condition": Quality3.POOR.value}, {"accounts_frozen_risk": True},
                {"promise_keeping": Quality3.POOR.value},
            ]))
        result = credit.rate(answers)  # the service's rating (R-CRED-1..3), not a copy
        return CreditEvaluation(customer_id=c.obj.id, rating=result.rating,
                                rating_reason=credit.explain(result),
                                evaluated_by_id=evaluator, evaluated_at=at, created_at=at,
                                updated_at=at, **answers)

    def _line(self, c: _Cust, ev: CreditEvaluation, kind: CreditLineKind, limit: Decimal,
              term: int, proposed_at: datetime, proposer: int, finance: int, gm: int, *,
              final: CreditLineStatus) -> CreditLine:
        """A credit line walked along the chain proposal → finance review → GM approval
        (R-CRED-5): three different people, each step recorded."""
        line = CreditLine(customer_id=c.obj.id, evaluation=ev, kind=kind.value,
                          limit_amount=limit, term_days=term,
                          collateral_value=ev.collateral_value, proposed_by_id=proposer,
                          proposed_at=proposed_at, created_at=proposed_at, status=final.value)
        line.approvals.append(CreditApproval(step="propose", actor_id=proposer, at=proposed_at,
                                             note="部门经理提出授信申请"))
        if final == CreditLineStatus.PROPOSED:
            return line
        reviewed = min(proposed_at + timedelta(days=1), self.now - timedelta(hours=2))
        if final == CreditLineStatus.REJECTED:
            line.approvals.append(CreditApproval(
                step="reject", actor_id=finance, at=reviewed,
                note="B级客户无抵押担保，原则上不予授信（R-CRED-4）。"))
            line.reviewed_by_id, line.reviewed_at = finance, reviewed
            return line
        line.reviewed_by_id, line.reviewed_at = finance, reviewed
        line.approvals.append(CreditApproval(step="review", actor_id=finance, at=reviewed,
                                             note="财务审核通过：额度与期限符合评级上限"))
        if final == CreditLineStatus.REVIEWED:
            return line
        approved = min(reviewed + timedelta(days=1), self.now - timedelta(hours=1))
        line.approved_by_id, line.approved_at = gm, approved
        line.approvals.append(CreditApproval(step="approve", actor_id=gm, at=approved,
                                             note="总经理批准"))
        start = approved.astimezone(clock.COMPANY_TZ).date()
        line.valid_from = start
        line.valid_until = start + timedelta(days=365 if kind == CreditLineKind.LONG_TERM
                                             else 90)
        if final == CreditLineStatus.SUPERSEDED:
            line.valid_until = start + timedelta(days=365)
        return line

    def _transactions(self, c: _Cust, limit: Decimal, start: datetime,
                      earlier_limit: Decimal | None = None,
                      lowered_at: datetime | None = None) -> list[CustomerTransaction]:
        """Orders and payments since ``start`` keeping the balance within the line in force
        (R-CRED-8). With ``earlier_limit``, the balance built up under that higher line and the
        line was lowered at ``lowered_at``: the customer is now above its limit and listed for
        collection."""
        rng = self.rng
        rows: list[CustomerTransaction] = []
        balance = Decimal("0")
        cap = earlier_limit if earlier_limit is not None else limit
        stop = (lowered_at - timedelta(days=2) if earlier_limit is not None and lowered_at
                else self.now - timedelta(days=1))
        ref = 0

        def add(kind: str, amount: Decimal, at: datetime) -> None:
            nonlocal ref
            ref += 1
            rows.append(CustomerTransaction(
                customer_id=c.obj.id, kind=kind, amount=amount,
                reference=f"{'DD' if kind == 'order' else 'SK'}{c.obj.code[-5:]}{ref:03d}",
                recorded_by_id=self.uid("finance1"), recorded_at=at))

        t = start
        while True:
            t += timedelta(days=rng.uniform(4, 12))
            if t >= stop:
                break
            if balance < cap * Decimal("0.3") or rng.random() < 0.55:
                amount = _round_limit((cap - balance) * Decimal(str(rng.uniform(0.3, 0.7))))
                if amount > 0:
                    balance += amount
                    add(TransactionKind.ORDER.value, amount, t)
            else:
                amount = _round_limit(balance * Decimal(str(rng.uniform(0.4, 0.9))))
                if amount > 0:
                    balance -= amount
                    add(TransactionKind.PAYMENT.value, amount, t)
        if earlier_limit is not None and lowered_at is not None:
            target = _round_limit(limit * Decimal("1.15"))
            if balance < target:
                add(TransactionKind.ORDER.value, target - balance, stop)
                balance = target
            paid = _round_limit(balance * Decimal("0.04"))
            add(TransactionKind.PAYMENT.value, paid, min(lowered_at + timedelta(days=5),
                                                         self.now - timedelta(hours=3)))
            balance -= paid
            c.obj.notes = "授信额度下调后应收余额超出额度，已列入催收名单。"
        c.obj.outstanding_balance = balance
        return rows

    def _usage(self, c: _Cust, line: CreditLine, finance: int) -> list[CreditUsageReview]:
        """授信额度执行评价 of last month, when the line was already in force then."""
        first = self.today.replace(day=1)
        last_month = first - timedelta(days=1)
        if line.valid_from is None or line.valid_from > last_month:
            return []
        balance = c.obj.outstanding_balance
        limit = line.limit_amount
        ratio = (balance / limit).quantize(Decimal("0.01")) if limit else Decimal("0")
        return [CreditUsageReview(customer_id=c.obj.id, month=f"{last_month:%Y-%m}",
                                  limit_amount=limit, outstanding_balance=balance,
                                  usage_ratio=ratio, recorded_by_id=finance,
                                  recorded_at=self.at(first, 10),
                                  notes="额度使用正常" if ratio <= 1 else "超额度，需催收")]
