"""档案借阅 (R-CUST-9): a request to read an archive outside one's scope and the loan it
becomes; the borrowing register's row."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.types.base import FromModel, Node, one
from models import ArchiveLoan, Customer, User
from portal.services import archive_loans

if TYPE_CHECKING:
    from graphql_api.types.customers import CustomerNode


@strawberry.enum(description="requested → active (approved, before its end) → expired, or "
                 "refused / returned (early, by the borrower) / revoked (by an approver).")
class ArchiveLoanState(enum.Enum):
    REQUESTED = "requested"
    ACTIVE = "active"
    EXPIRED = "expired"
    REFUSED = "refused"
    RETURNED = "returned"
    REVOKED = "revoked"


def _batch_lookup(node: Any, key: str, load: Any) -> dict[int, Any]:
    """A per-batch lookup (one statement for a whole page of loans)."""
    cache = node._b.cache
    if key not in cache:
        cache[key] = load([o for o in node._b.objs])
    return cache[key]


@strawberry.type(name="ArchiveLoan", description="A request to read an archive outside your "
                 "scope, and the loan it becomes once the archive's department manager (or the "
                 "general manager) approves it: read only, until endsAt (R-CUST-9).")
class ArchiveLoanNode(FromModel, Node):
    SCALARS = ("reason", "requested_days", "requested_at", "decided_at", "decision_reason",
               "starts_at", "ends_at", "returned_at", "end_reason", "version")
    _m: strawberry.Private[ArchiveLoan]
    _b: strawberry.Private[Batch]
    database_id: int
    reason: str
    requested_days: int = strawberry.field(description="Working days asked for.")
    requested_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    starts_at: datetime | None
    ends_at: datetime | None = strawberry.field(description="The loan ends by itself then.")
    returned_at: datetime | None = strawberry.field(description="Returned or revoked at.")
    end_reason: str | None = strawberry.field(description="Why it was revoked.")
    version: int

    @strawberry.field(description="Derived at read time from the status and the end time.")
    def state(self) -> ArchiveLoanState:
        return ArchiveLoanState(archive_loans.state_of(self._m))

    def _archive(self, info: Info) -> tuple[str, str] | None:
        def load(objs: list[Any]) -> dict[int, tuple[str, str]]:
            ids = {o.customer_id for o in objs}
            rows = info.context.session.execute(select(Customer.id, Customer.code,
                                                       Customer.name)
                                                .where(Customer.id.in_(ids))).all()
            return {i: (c, n) for i, c, n in rows}
        return _batch_lookup(self, "loan_archives", load).get(self._m.customer_id)

    def _person(self, info: Info, user_id: int | None) -> str | None:
        def load(objs: list[Any]) -> dict[int, str]:
            ids = {o.borrower_id for o in objs} | {o.decided_by_id for o in objs
                                                   if o.decided_by_id}
            rows = info.context.session.execute(select(User.id, User.full_name)
                                                .where(User.id.in_(ids))).all()
            return dict(rows)
        return _batch_lookup(self, "loan_people", load).get(user_id) if user_id else None

    @strawberry.field(description="The archive's code (what was asked for).")
    def archive_code(self, info: Info) -> str | None:
        found = self._archive(info)
        return found[0] if found else None

    @strawberry.field(description="The archive's name.")
    def archive_name(self, info: Info) -> str | None:
        found = self._archive(info)
        return found[1] if found else None

    @strawberry.field(description="Who borrows.")
    def borrower_name(self, info: Info) -> str | None:
        return self._person(info, self._m.borrower_id)

    @strawberry.field(description="Who approved or refused.")
    def decided_by_name(self, info: Info) -> str | None:
        return self._person(info, self._m.decided_by_id)

    @strawberry.field(description="How many times the borrower read the archive during the "
                      "loan (audited reads).")
    def reads(self, info: Info) -> int:
        counts = _batch_lookup(self, "loan_reads", lambda objs: archive_loans.reads_of(
            info.context.session, [o.id for o in objs]))
        return int(counts.get(self._m.id, 0))

    @strawberry.field(description="The archive itself, when you may read it (its people, a "
                      "manager of its department, the borrower while the loan is in force).")
    def customer(self, info: Info) -> Annotated[
            CustomerNode, strawberry.lazy("graphql_api.types.customers")] | None:
        from graphql_api.types.customers import CustomerNode

        return one(info, self, "customer_id", Customer, CustomerNode)
