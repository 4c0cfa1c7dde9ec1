"""Reads of credit data are recorded (R-AUD-1): a request that returns credit amounts — a
credit line or evaluation page, the customer page showing the balance or the limit, a list
showing amounts, a GraphQL answer carrying credit fields — leaves ONE audit entry naming the
records it returned (not one per row).

Both doors decide the same way: ``CREDIT_FIELDS`` says which fields are credit amounts,
``shows_credit`` whether a set of displayed fields carries any, and ``record_credit_read``
writes the single entry. GraphQL gathers the records while it answers (``collect`` /
``note``; the fields read through ``graphql_api``'s node properties) and records them once
when the answer is complete; the portal records the rows of the page it renders.

The reports that already record their own ``credit.view`` entry (receivables ageing,
collection list, credit summary, usage and over-limit reports) are not noted again.
"""

from __future__ import annotations

import contextvars
import io
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from models import CreditEvaluation, CreditLine, CreditUsageReview, Customer, OverLimitApproval
from models.audit import AuditEntry
from portal import audit

ACTION = "credit.view"

# The fields that are credit amounts (or the customer's credit figures), per model.
CREDIT_FIELDS: dict[type, frozenset[str]] = {
    Customer: frozenset({"outstanding_balance", "transaction_summary"}),
    CreditLine: frozenset({"limit_amount", "collateral_value"}),
    CreditEvaluation: frozenset({"collateral_value", "avg_monthly_shipments",
                                 "avg_monthly_receipts"}),
    OverLimitApproval: frozenset({"amount"}),
    CreditUsageReview: frozenset({"limit_amount", "outstanding_balance", "usage_ratio"}),
}
_BY_NAME = {model.__name__: fields for model, fields in CREDIT_FIELDS.items()}

Ref = tuple[str, Any]  # (model name, id)

_collector: contextvars.ContextVar[set[Ref] | None] = contextvars.ContextVar(
    "credit_reads", default=None)


def credit_fields(model: type | str) -> frozenset[str]:
    """The credit-amount fields of ``model`` (a class or its name); empty when it has none."""
    name = model if isinstance(model, str) else model.__name__
    return _BY_NAME.get(name, frozenset())


def shows_credit(model: type, names: Iterable[str]) -> bool:
    """Whether showing ``names`` of a ``model`` row shows credit data."""
    fields = credit_fields(model)
    return bool(fields) and any(n in fields for n in names)


def _ref(record: Any) -> Ref:
    if isinstance(record, tuple):
        return str(record[0]), record[1]
    return type(record).__name__, record.id


@contextmanager
def collect() -> Iterator[set[Ref]]:
    """Gather the credit records read while answering one request (``note``)."""
    reads: set[Ref] = set()
    token = _collector.set(reads)
    try:
        yield reads
    finally:
        _collector.reset(token)


def note(model_name: str, record_id: Any) -> None:
    """A credit record is being returned (outside ``collect`` this does nothing)."""
    reads = _collector.get()
    if reads is not None:
        reads.add((model_name, record_id))


def note_many(model_name: str, record_ids: Iterable[Any]) -> None:
    """``note`` for many records of one model at once."""
    reads = _collector.get()
    if reads is not None:
        reads.update((model_name, i) for i in record_ids)


def describe(refs: Iterable[Ref]) -> str:
    """``"CreditLine 3, 5; Customer 7"``: the records, grouped by type, ids ascending."""
    grouped: dict[str, set[Any]] = defaultdict(set)
    for name, ident in refs:
        grouped[name].add(ident)

    def order(v: str) -> tuple[int, int | str]:
        return (0, int(v)) if v.isdigit() else (1, v)

    def listed(ids: set[Any]) -> str:
        if all(type(i) is int and i >= 0 for i in ids):  # the usual case: row ids
            return ", ".join(map(str, sorted(ids)))  # what the general case writes for them
        return ", ".join(sorted({str(i) for i in ids}, key=order))
    return "; ".join(f"{name} {listed(ids)}" for name, ids in sorted(grouped.items()))


def _refs(records: Iterable[Any]) -> set[Ref]:
    if isinstance(records, set) and all(type(r) is tuple and len(r) == 2 and type(r[0]) is str
                                        for r in records):
        return set(records)  # what ``collect`` gathered: (model name, id) already
    return {_ref(r) for r in records if r is not None}


def record_credit_read(session: Session, user: Any, records: Iterable[Any],
                       where: str | None = None) -> AuditEntry | None:
    """One ``credit.view`` entry naming ``records`` (model rows or ``(model name, id)``);
    nothing when there are none or nobody is signed in. Part of the caller's transaction."""
    refs = _refs(records)
    if not refs or user is None:
        return None
    if len(refs) == 1:
        target: Any = next(iter(refs))
    else:
        names = {name for name, _ in refs}
        target = (names.pop() if len(names) == 1 else "credit", None)
    return _entry(session, user, target, describe(refs), where)


def _entry(session: Session, user: Any, target: Any, records: str,
           where: str | None) -> AuditEntry:
    """The one ``credit.view`` entry: ``"<where>: <records>"`` naming ``target``."""
    return audit.record(session, user, ACTION, target,
                        detail=f"{where}: {records}" if where else records)


class IdRun:
    """Integer ids in ascending order, 8 bytes each (an export may name a million rows);
    other ids (text keys) are kept as they come."""

    def __init__(self) -> None:
        self.ints = array("q")
        self.others: list[Any] = []

    def extend(self, ids: Iterable[Any]) -> None:
        for ident in ids:
            if isinstance(ident, int):
                self.ints.append(ident)
            else:
                self.others.append(ident)

    def __len__(self) -> int:
        return len(self.ints) + len(self.others)

    def only(self) -> Any:
        return self.ints[0] if self.ints else self.others[0]


def record_credit_run(session: Session, user: Any, model_name: str, ids: IdRun,
                      where: str | None = None) -> AuditEntry | None:
    """``record_credit_read`` for many rows of one model whose ids came in ascending order
    (an export): the same entry, written without a tuple per row."""
    if ids.others or (ids.ints and ids.ints[0] < 0) or any(
            b <= a for a, b in zip(ids.ints, ids.ints[1:], strict=False)):
        refs = [(model_name, i) for i in (*ids.ints, *ids.others)]
        return record_credit_read(session, user, refs, where=where)
    if not len(ids) or user is None:
        return None
    target: Any = (model_name, ids.only()) if len(ids) == 1 else (model_name, None)
    out = io.StringIO()  # what ``describe`` writes for one model, without a str per id at once
    out.write(f"{model_name} ")
    step = 10_000
    for start in range(0, len(ids.ints), step):
        if start:
            out.write(", ")
        out.write(", ".join(map(str, ids.ints[start:start + step])))
    return _entry(session, user, target, out.getvalue(), where)


def record_report_read(session: Session, user: Any, report: str, records: Iterable[Any],
                       summary: str) -> AuditEntry | None:
    """A report that returns credit amounts (ageing, summary, collection list, usage, over
    limit) names the records it returned, once per request, on its page, in its CSV or
    XLSX and in GraphQL alike. Inside a GraphQL request the records join that request's
    single entry (``collect``); otherwise one entry ``"<report> (<summary>): <records>"``, or
    just ``summary`` when the report returned no record."""
    refs = {_ref(r) for r in records if r is not None}
    reads = _collector.get()
    if reads is not None:
        reads.update(refs)
        return None
    if not refs:
        return audit.record(session, user, ACTION, report, detail=summary)
    return record_credit_read(session, user, refs, where=f"{report} ({summary})")
