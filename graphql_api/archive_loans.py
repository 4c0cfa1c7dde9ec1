"""档案借阅 (R-CUST-9) through GraphQL: the borrowing register / my loans / requests waiting for
me as one connection, scoped by the same policy as the portal's pages
(``portal.services.archive_loans``)."""

from __future__ import annotations

import enum

import strawberry
from strawberry.types import Info

from graphql_api.pagination import Connection, Order, paginate
from graphql_api.types.archive_loans import ArchiveLoanNode, ArchiveLoanState
from models import ArchiveLoan
from models.enums import LoanStatus
from portal.services import archive_loans


@strawberry.enum
class ArchiveLoanView(enum.Enum):
    REGISTER = "register"
    MINE = "mine"
    WAITING_FOR_ME = "waiting_for_me"


@strawberry.type
class ArchiveLoanQueries:
    @strawberry.field(description="R-CUST-9 the borrowing register as you may read it (a "
                      "manager: the department's archives; an auditor: all; anyone: their own "
                      "loans and those of archives they own), newest first. `view: MINE`: your "
                      "own requests and loans; `WAITING_FOR_ME`: requests you may decide.")
    def archive_loans(self, info: Info, first: int | None = None, after: str | None = None,
                      view: ArchiveLoanView = ArchiveLoanView.REGISTER,
                      state: ArchiveLoanState | None = None) -> Connection[ArchiveLoanNode]:
        user = info.context.user
        where: list = []
        if view is ArchiveLoanView.MINE:
            where.append(ArchiveLoan.borrower_id == user.id)
        elif view is ArchiveLoanView.WAITING_FOR_ME:
            waiting = archive_loans.waiting_for(user).with_only_columns(ArchiveLoan.id)
            where += [ArchiveLoan.status == LoanStatus.REQUESTED.value,
                      ArchiveLoan.id.in_(waiting.order_by(None))]
        if state is not None:
            where.append(archive_loans.state_sql() == state.value)
        return paginate(info, ArchiveLoan, ArchiveLoanNode, where,
                        Order("id_desc", None, descending=True), first, after)
