"""Audit entries (审计日志), visible only to holders of ``audit.view``. The chain hashes are
never exposed."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import strawberry
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.types import enums as E
from graphql_api.types.base import FromModel, Node, one
from graphql_api.types.org import UserNode
from models import AuditEntry, User
from models import enums as me
from portal.services import audit_log


@strawberry.type(name="AuditEntry")
class AuditEntryNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("seq", "at", "actor_name", "action", "target_type", "target_id", "outcome",
               "detail", "remote_addr", "request_id")
    ENUMS = {"outcome": me.AuditOutcome}
    # computed fields: the columns they read (graphql_api.loaders.columns_for)
    NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {"before": ("before", "target_type"),
                                                   "after": ("after", "target_type")}
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
    detail: str | None
    remote_addr: str | None
    request_id: str | None

    @strawberry.field(description="JSON snapshot before the change; values you may not read "
                      "on the record are masked as *** (R-AUD-3).")
    def before(self, info: Info) -> str | None:
        return audit_log.masked_snapshot(info.context.user, self._m.target_type,
                                         self._m.before)

    @strawberry.field(description="JSON snapshot after the change; values you may not read "
                      "on the record are masked as *** (R-AUD-3).")
    def after(self, info: Info) -> str | None:
        return audit_log.masked_snapshot(info.context.user, self._m.target_type,
                                         self._m.after)

    @strawberry.field
    def actor(self, info: Info) -> UserNode | None:
        return one(info, self, "actor_id", User, UserNode)
