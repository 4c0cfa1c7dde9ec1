"""Audit entries (审计日志), visible only to holders of ``audit.view``. The chain hashes are
never exposed."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.types import enums as E
from graphql_api.types.base import FromModel, Node, one
from graphql_api.types.org import UserNode
from models import AuditEntry, User
from models import enums as me


@strawberry.type(name="AuditEntry")
class AuditEntryNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("seq", "at", "actor_name", "action", "target_type", "target_id", "outcome",
               "before", "after", "detail", "remote_addr", "request_id")
    ENUMS = {"outcome": me.AuditOutcome}
    _m: strawberry.Private[AuditEntry]
    _b: strawberry.Private[Batch]
    database_id: int
    seq: int
    at: datetime
    actor_name: str
    action: str
    target_type: str | None
    target_id: str | None
    outcome: E.AuditOutcome
    before: str | None = strawberry.field(description="JSON snapshot before the change.")
    after: str | None = strawberry.field(description="JSON snapshot after the change.")
    detail: str | None
    remote_addr: str | None
    request_id: str | None

    @strawberry.field
    def actor(self, info: Info) -> UserNode | None:
        return one(info, self, "actor_id", User, UserNode)
