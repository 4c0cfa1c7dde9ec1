"""档案借阅 (R-CUST-9): the same service verbs as the portal's 借阅 page."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, run
from graphql_api.types.archive_loans import ArchiveLoanNode
from portal.services import archive_loans as svc


@strawberry.type
class ArchiveLoanMutations:
    @strawberry.mutation(description="R-CUST-9: ask to read an archive outside your scope. "
                         "`archive`: its exact code, the customer's full name or phone (when "
                         "nothing or several match you are told so, nothing more); `days`: "
                         "working days (default 1, at most the setting). The archive's "
                         "department manager finds the request in their 待办.")
    def request_archive_access(self, info: Info, archive: str, reason: str,
                               days: int | None = None) -> Payload[ArchiveLoanNode]:
        return run(info, ArchiveLoanNode, lambda s, u: svc.request_access(
            s, u, archive, reason, days))

    @strawberry.mutation(description="R-CUST-9: approve (the loan runs from now) or refuse (a "
                         "reason is required) a request; the borrower and the archive's owner "
                         "are told. Nobody decides their own request.")
    def decide_archive_access(self, info: Info, loan_id: strawberry.ID, approve: bool,
                              reason: str | None = None,
                              *, expected_version: int) -> Payload[ArchiveLoanNode]:
        return run(info, ArchiveLoanNode, lambda s, u: svc.decide_access(
            s, u, expect_id(loan_id, "ArchiveLoan", "loanId"), approve, reason,
            expected_version))

    @strawberry.mutation(description="R-CUST-9: the borrower gives the archive back early.")
    def return_archive_loan(self, info: Info, loan_id: strawberry.ID,
                            *, expected_version: int) -> Payload[ArchiveLoanNode]:
        return run(info, ArchiveLoanNode, lambda s, u: svc.return_loan(
            s, u, expect_id(loan_id, "ArchiveLoan", "loanId"), expected_version))

    @strawberry.mutation(description="R-CUST-9: an approver ends a loan in force, with a reason.")
    def revoke_archive_loan(self, info: Info, loan_id: strawberry.ID, reason: str,
                            *, expected_version: int) -> Payload[ArchiveLoanNode]:
        return run(info, ArchiveLoanNode, lambda s, u: svc.revoke_loan(
            s, u, expect_id(loan_id, "ArchiveLoan", "loanId"), reason, expected_version))
