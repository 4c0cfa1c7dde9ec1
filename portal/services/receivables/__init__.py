"""Receivables discipline (R-CRED-9, R-CRED-10): open items, due dates, FIFO settlement,
ageing, the past-due freeze, the company credit ceiling, the monthly 《预付、赊销客户汇总表》
and the collection list.

Two kinds of credit (R-CRED-10):

- 赊销 ``credit_sale``: an order recorded against a customer. It falls due on the sale date
  (company time) plus the term of the line in force (R-CRED-4); without a line in force (an
  over-limit approval only) the term is 0 days: due on the sale date.
- 预付 ``prepayment``: money paid in advance to a supplier (a customer of kind ``supplier``). It
  falls due on its delivery deadline (到货期限); until the goods are delivered it is open, and
  past the deadline it is past due exactly like an unpaid sale.

FIFO (documented rule): a receipt (``payment``) settles the customer's open credit sales oldest
due date first (then the oldest booking); a delivery settles open prepayments the same way.
Every allocation is a ``ReceivableSettlement`` row, so the open amount at any past date can be
rebuilt (the monthly summary is "as of" the month's last day).

Ages are never stored: ``days_past_due`` / ``age_bucket`` (Python) and ``bucket_case`` (SQL)
derive them from ``due_on`` and the date asked about. Buckets: not yet due; 1–30 days;
31–60; 61–90; over 90 — a sale due yesterday is 1 day late (≤ 30), due today is not late.
"""

from __future__ import annotations

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
    frozen_clause,
    is_frozen,
    money,
    open_as_of,
    past_due_amount,
)
from portal.services.receivables.booking import (
    book,
    check_freeze,
    check_prepayment,
    due_for_sale,
    open_total,
    parse_deadline,
    settle_fifo,
)
from portal.services.receivables.ceiling import check_ceiling, limits_in_force_total
from portal.services.receivables.summaries import (
    AgeingRow,
    Summary,
    ageing,
    ageing_rows,
    approve_summary,
    as_of_for,
    by_salesperson,
    collection_list,
    may_submit,
    month_end,
    monthly_summary,
    submit_summary,
    summary_month_default,
)

__all__ = ['AgeingRow', 'BUCKETS', 'CENT', 'CREDIT_SALE', 'PAST_DUE_BUCKETS', 'PREPAYMENT', 'Summary', 'ZERO', 'age_bucket', 'ageing', 'ageing_rows', 'approve_summary', 'as_of_for', 'book', 'bucket_case', 'by_salesperson', 'check_ceiling', 'check_freeze', 'check_prepayment', 'collection_list', 'days_past_due', 'due_for_sale', 'frozen_clause', 'is_frozen', 'limits_in_force_total', 'may_submit', 'money', 'month_end', 'monthly_summary', 'open_as_of', 'open_total', 'parse_deadline', 'past_due_amount', 'settle_fifo', 'submit_summary', 'summary_month_default']
