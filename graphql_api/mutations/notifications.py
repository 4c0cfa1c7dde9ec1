"""Mark your notifications read (portal/services/notifications.py ``mark_read``)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import UserError, user_error
from portal.services import notifications as svc
from portal.services.errors import DomainError


@strawberry.type
class MarkReadPayload:
    ok: bool
    errors: list[UserError]
    marked: int = strawberry.field(description="How many notifications changed to read.")
    unread_count: int = strawberry.field(description="Your unread notifications now.")


@strawberry.type
class NotificationMutations:
    @strawberry.mutation(description="Mark the given notifications read, or all of yours when "
                         "``all`` is true. Ids that are not yours are ignored.")
    def mark_read(self, info: Info, ids: list[strawberry.ID] | None = None,
                  all: bool = False) -> MarkReadPayload:
        ctx = info.context
        try:
            pks = None if all else [expect_id(i, "Notification", "ids") for i in ids or []]
            marked = svc.mark_read(ctx.session, ctx.user, pks)
        except DomainError as exc:
            return MarkReadPayload(ok=False, errors=[user_error(exc)], marked=0,
                                   unread_count=svc.unread_count(ctx.session, ctx.user))
        return MarkReadPayload(ok=True, errors=[], marked=marked,
                               unread_count=svc.unread_count(ctx.session, ctx.user))
