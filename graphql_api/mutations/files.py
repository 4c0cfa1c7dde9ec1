"""File mutations: asking for a copy approval (R-FILE-3). Uploads go through the portal
(multipart is off on /graphql)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, run
from graphql_api.types.files import CopyRequestNode
from portal.services import files as svc


@strawberry.type
class FileMutations:
    @strawberry.mutation(description="Ask for approval to copy (download) a classified file.")
    def request_file_copy(self, info: Info, file_id: strawberry.ID,
                          reason: str) -> Payload[CopyRequestNode]:
        return run(info, CopyRequestNode, lambda s, u: svc.request_copy(
            s, u, expect_id(file_id, "ConfidentialFile", "fileId"), reason), reread=False)
