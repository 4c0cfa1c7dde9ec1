"""File mutations: asking for a copy approval (R-FILE-3), the knowledge scope (R-FILE-2).
Uploads go through the portal (multipart is off on /graphql)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, run
from graphql_api.types.files import CopyRequestNode, FileNode
from portal.services import files as svc


@strawberry.type
class FileMutations:
    @strawberry.mutation(description="Ask for approval to copy (download) a classified file.")
    def request_file_copy(self, info: Info, file_id: strawberry.ID,
                          reason: str) -> Payload[CopyRequestNode]:
        return run(info, CopyRequestNode, lambda s, u: svc.request_copy(
            s, u, expect_id(file_id, "ConfidentialFile", "fileId"), reason), reread=False)

    @strawberry.mutation(description="R-FILE-2: take a person out of a classified file's "
                         "knowledge scope, with a reason (the general manager, the responsible "
                         "manager, or who may name members).")
    def remove_file_scope_member(self, info: Info, file_id: strawberry.ID, user_id: strawberry.ID,
                                 reason: str, *, expected_version: int) -> Payload[FileNode]:
        return run(info, FileNode, lambda s, u: svc.remove_scope_member(
            s, u, expect_id(file_id, "ConfidentialFile", "fileId"),
            expect_id(user_id, "User", "userId"), reason, expected_version=expected_version))

    @strawberry.mutation(description="R-FILE-2: name another responsible manager of a "
                         "classified file, with a reason (the general manager or that manager).")
    def change_file_responsible_manager(self, info: Info, file_id: strawberry.ID,
                                        manager_id: strawberry.ID,
                                        reason: str,
                                        *, expected_version: int) -> Payload[FileNode]:
        return run(info, FileNode, lambda s, u: svc.change_responsible_manager(
            s, u, expect_id(file_id, "ConfidentialFile", "fileId"),
            expect_id(manager_id, "User", "managerId"), reason,
            expected_version=expected_version))
