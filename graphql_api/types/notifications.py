"""Your notifications (待办 / inbox): the steps that wait on you, in your language, each with
the record it is about when you may open it (portal/services/notifications.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

import strawberry
from flask_babel import gettext
from strawberry.types import Info

from graphql_api.ids import to_global
from graphql_api.loaders import Batch
from graphql_api.types.base import FromModel, Node
from models import Notification
from portal.services import notifications as svc


@strawberry.type(name="Notification")
class NotificationNode(FromModel, Node):
    SCALARS = ("kind", "created_at", "read_at")
    NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "message": ("message", "params"), "read": ("read_at",),
        "target_id": ("target_type", "target_id", "user_id")}
    _m: strawberry.Private[Any]
    _b: strawberry.Private[Batch]
    database_id: int
    kind: str = strawberry.field(description='What waits, e.g. "complaint.overdue", '
                                 '"credit.awaiting_review".')
    created_at: datetime
    read_at: datetime | None

    @strawberry.field(description="The message in your language.")
    def message(self) -> str:
        return svc.render(self._m, gettext)

    @strawberry.field
    def read(self) -> bool:
        return self._m.read_at is not None

    @strawberry.field(description='Global id of the record it is about ("Complaint:7"); null '
                      "when there is none or you may not open it.")
    def target_id(self, info: Info) -> strawberry.ID | None:
        b = self._b
        if "targets" not in b.cache:
            ctx = info.context
            b.cache["targets"] = svc.targets(ctx.session, ctx.user, b.objs)
        found = b.cache["targets"].get(self._m.id)
        return strawberry.ID(to_global(found[0].__name__, found[1])) if found else None


__all__ = ["Notification", "NotificationNode"]
