"""Demo data, receivables and penalties (R-CRED-9, R-CRED-10, R-COMP-11): the open items behind
the demo balances (rebuilt FIFO from the latest orders), an aged receivable in every bucket (so
those customers are frozen), supplier prepayments (one within, one past its delivery deadline),
last month's summary waiting for the general manager, and the responsibility of closed
complaints with a confirmed, a waived and a drafted penalty notice."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from models import (
    Complaint,
    CreditLine,
    CreditSummaryApproval,
    Customer,
    CustomerTransaction,
    PenaltyLine,
    PenaltyNotice,
    Receivable,
    ReceivableSettlement,
)
from models.enums import ComplaintType, CreditLineStatus, TransactionKind
from portal import clock, policy
from portal.services import notifications
from portal.services import receivables as rc
from portal.services.errors import N_

# days past due of the dedicated aged sales: one per bucket (≤30, 31–60, 61–90, >90)
AGED = ((12, Decimal("86000")), (45, Decimal("132500")), (75, Decimal("58800")),
        (118, Decimal("240000")))


class ReceivablesMixin:
    def receivables(self) -> None:
        self.s.flush()
        today = self.today
        lines = {cid: (term, limit) for cid, term, limit in self.s.execute(
            select(CreditLine.customer_id, CreditLine.term_days, CreditLine.limit_amount)
            .where(CreditLine.status == CreditLineStatus.APPROVED.value)).all()}
        terms = {cid: term for cid, (term, _limit) in lines.items()}
        items = 0
        # 1. the open items behind the balances the credit demo built (FIFO: the newest orders)
        for customer in self.s.scalars(select(Customer).where(Customer.outstanding_balance > 0)):
            rest = customer.outstanding_balance
            txs = self.s.scalars(select(CustomerTransaction).where(
                CustomerTransaction.customer_id == customer.id)
                .order_by(CustomerTransaction.recorded_at.desc())).all()
            last_payment = next((t for t in txs if t.kind == TransactionKind.PAYMENT.value),
                                None)
            for tx in (t for t in txs if t.kind == TransactionKind.ORDER.value):
                if rest <= 0:
                    break
                open_amount = min(tx.amount, rest)
                rest -= open_amount
                booked = tx.recorded_at.astimezone(clock.COMPANY_TZ).date()
                term = terms.get(customer.id, 0)
                item = Receivable(customer_id=customer.id, transaction_id=tx.id,
                                  kind=rc.CREDIT_SALE, amount=tx.amount,
                                  open_amount=open_amount, booked_on=booked,
                                  due_on=booked + timedelta(days=term), term_days=term,
                                  created_at=tx.recorded_at)
                self.s.add(item)
                items += 1
                if open_amount < tx.amount and last_payment is not None:
                    self.s.flush()
                    self.s.add(ReceivableSettlement(
                        receivable_id=item.id, transaction_id=last_payment.id,
                        amount=tx.amount - open_amount,
                        settled_on=max(booked, last_payment.recorded_at.astimezone(
                            clock.COMPANY_TZ).date())))
        # 2. an aged credit sale in every bucket: those customers are frozen (R-CRED-9)
        # (within each line's limit: the over-limit list keeps its one demo customer)
        with_lines = [c for c in self.customers if c.obj.id in terms
                      and c.obj.kind in ("dealer", "end")
                      and lines[c.obj.id][1] - (c.obj.outstanding_balance or 0) >= 20000]
        finance = self.uid("finance1")
        for (late, target), c in zip(AGED, with_lines[-len(AGED):], strict=False):
            term, limit = lines[c.obj.id]
            headroom = limit - (c.obj.outstanding_balance or 0)
            amount = min(target, (headroom * Decimal("0.8")).quantize(Decimal("100")))
            booked = today - timedelta(days=late + term)
            tx = CustomerTransaction(customer_id=c.obj.id, kind=TransactionKind.ORDER.value,
                                     amount=amount, reference=f"DD{c.obj.code[-5:]}A{late}",
                                     recorded_by_id=finance,
                                     recorded_at=self.at(booked, 10, 30))
            self.s.add(tx)
            self.s.flush()
            self.s.add(Receivable(customer_id=c.obj.id, transaction_id=tx.id,
                                  kind=rc.CREDIT_SALE, amount=amount, open_amount=amount,
                                  booked_on=booked, due_on=booked + timedelta(days=term),
                                  term_days=term, created_at=tx.recorded_at))
            c.obj.outstanding_balance = (c.obj.outstanding_balance or 0) + amount
            items += 1
        # 3. prepayments to suppliers (预付): one within its 到货期限, one past it
        suppliers = [c for c in self.customers if c.obj.kind == "supplier"
                     and c.obj.status != "closed"][:2]
        for (paid_ago, deadline_in, amount), c in zip(
                ((20, 10, Decimal("150000")), (40, -6, Decimal("68000"))), suppliers,
                strict=False):
            booked = today - timedelta(days=paid_ago)
            tx = CustomerTransaction(customer_id=c.obj.id,
                                     kind=TransactionKind.PREPAYMENT.value, amount=amount,
                                     reference=f"YF{c.obj.code[-5:]}", recorded_by_id=finance,
                                     recorded_at=self.at(booked, 11, 0))
            self.s.add(tx)
            self.s.flush()
            due = today + timedelta(days=deadline_in)
            self.s.add(Receivable(customer_id=c.obj.id, transaction_id=tx.id,
                                  kind=rc.PREPAYMENT, amount=amount, open_amount=amount,
                                  booked_on=booked, due_on=due, term_days=(due - booked).days,
                                  created_at=tx.recorded_at))
            c.obj.outstanding_balance = (c.obj.outstanding_balance or 0) + amount
            items += 1
        self.s.flush()
        self.counts["receivables"] = items
        self._summary_waiting()
        self._penalties()

    def _summary_waiting(self) -> None:
        """Last month's 《预付、赊销客户汇总表》, submitted by finance, in the GM's 待办."""
        month = rc.summary_month_default(self.today)
        finance = self.users["finance1"]
        summary = rc.Summary(month, rc.as_of_for(month, self.today),
                             rc.ageing_rows(self.s, finance, rc.as_of_for(month, self.today),
                                            with_lines=True), None, Decimal(0), Decimal(0))
        t = summary.totals
        approval = CreditSummaryApproval(
            month=month, status="submitted", customer_count=len(summary.rows),
            total_limit=t["limit"], total_balance=t["balance"], total_past_due=t["past_due"],
            submitted_by_id=finance.id, submitted_at=self.work_time(1))
        self.s.add(approval)
        self.s.flush()
        notifications.notify(self.s, user_ids=[self.uid("gm")],
                             kind="credit.summary_awaiting_approval",
                             message=N_("The credit and prepayment summary of %(month)s is "
                                        "waiting for your approval"),
                             params={"month": month}, target=approval,
                             dedupe_key=f"credit.summary:{month}")

    def _penalties(self) -> None:
        """Closed complaints say whose fault it was; the latest three substantiated ones carry
        a confirmed, a waived and a drafted penalty notice (R-COMP-11)."""
        gm = self.uid("gm")
        closed = self.s.scalars(select(Complaint).where(
            Complaint.status == "closed", Complaint.type == ComplaintType.COMPLAINT.value)
            .order_by(Complaint.closed_at)).all()
        for c in closed:
            c.fault_department_id = c.responsible_department_id
            c.fault_cause = "quality" if c.cause == "quality" else "non_quality"
            c.fault_user_id = c.accused_user_id or c.customer.owner_id
        with_person = [c for c in closed if c.fault_user_id][-3:]
        for c, status in zip(with_person, ("confirmed", "waived", "draft"), strict=False):
            notice = PenaltyNotice(complaint_id=c.id, department_id=c.fault_department_id,
                                   status=status, total_amount=Decimal("100.00"),
                                   drafted_at=c.closed_at)
            if status != "draft":
                notice.decided_by_id = gm
                notice.decided_at = min(c.closed_at + timedelta(days=1), self.now)
            if status == "waived":
                notice.waiver_reason = "客户诉求已当面澄清，属沟通误会，免予处罚"
            self.s.add(notice)
            self.s.flush()
            self.s.add(PenaltyLine(notice_id=notice.id, user_id=c.fault_user_id,
                                   ground="substantiated", amount=Decimal("100.00")))
            if status == "draft":
                notifications.notify(
                    self.s, user_ids=[u.id for u in policy.users_with(
                        self.s, "complaint.confirm_penalty", c)],
                    kind="complaint.penalty_draft",
                    message=N_("Penalty notice for complaint %(number)s is waiting for you "
                               "to confirm or waive it"),
                    params={"number": c.number}, target=notice,
                    dedupe_key=f"complaint.penalty_draft:{notice.id}")
        self.s.flush()
        self.counts["penalty_notices"] = len(with_person)
