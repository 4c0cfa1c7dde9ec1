"""Confidential files (保密文件): metadata only. ``downloadUrl`` is set only where the policy
lets you download the file without a copy approval (R-FILE-3); otherwise request one with the
``requestFileCopy`` mutation."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.types import enums as E
from graphql_api.types.base import FromModel, Node, one
from graphql_api.types.org import DepartmentNode, UserNode
from graphql_api.types.timeline import TimelineEventNode, timeline_of
from models import ConfidentialFile, CopyRequest, Customer, Department, User
from models import enums as me
from portal.services import files

if TYPE_CHECKING:
    from graphql_api.types.customers import CustomerNode


@strawberry.type(name="ConfidentialFile")
class FileNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("title", "level", "original_name", "content_type", "size_bytes", "uploaded_at",
               "secrecy_until", "declassified_at", "version")
    ENUMS = {"level": me.Level}
    _m: strawberry.Private[ConfidentialFile]
    _b: strawberry.Private[Batch]
    database_id: int
    title: str
    level: E.Level = strawberry.field(description="The level recorded on the file.")
    original_name: str
    content_type: str
    size_bytes: int
    uploaded_at: datetime
    secrecy_until: date | None
    declassified_at: datetime | None
    version: int

    @strawberry.field(description="The level in force today (a file whose secrecy period "
                      "has passed reads as INTERNAL, R-FILE-4).")
    def effective_level(self) -> E.Level:
        return me.Level(files.effective_level(self._m))

    @strawberry.field(description="Where to download the file, or null when you need a copy "
                      "approval first (or may not download it at all).")
    def download_url(self, info: Info) -> str | None:
        if files.download_mode(info.context.user, self._m) != files.DIRECT:
            return None
        return files.download_path(self._m)

    @strawberry.field
    def customer(self, info: Info) -> Annotated[CustomerNode, strawberry.lazy(
            "graphql_api.types.customers")] | None:
        from graphql_api.types.customers import CustomerNode

        return one(info, self, "customer_id", Customer, CustomerNode)

    @strawberry.field
    def department(self, info: Info) -> DepartmentNode | None:
        return one(info, self, "department_id", Department, DepartmentNode)

    @strawberry.field
    def responsible_manager(self, info: Info) -> UserNode | None:
        return one(info, self, "responsible_manager_id", User, UserNode)

    @strawberry.field
    def uploaded_by(self, info: Info) -> UserNode | None:
        return one(info, self, "uploaded_by_id", User, UserNode)


@strawberry.type(name="CopyRequest", description="A request to copy a classified file "
                 "(R-FILE-3). Once approved, download with the one-time link you are sent.")
class CopyRequestNode(FromModel, Node):
    SCALARS = ("status", "requested_at", "reason", "decided_at", "expires_at", "used_at")
    _m: strawberry.Private[CopyRequest]
    _b: strawberry.Private[Batch]
    database_id: int
    status: str
    requested_at: datetime
    reason: str
    decided_at: datetime | None
    expires_at: datetime | None
    used_at: datetime | None

    @strawberry.field
    def file(self, info: Info) -> FileNode | None:
        return one(info, self, "file_id", ConfidentialFile, FileNode)

    @strawberry.field(description="Requested, decided and used, with the reason (the portal's "
                                  "timeline).")
    def timeline(self, info: Info) -> list[TimelineEventNode]:
        return timeline_of(info, self, CopyRequest)
