"""Two-person actions on administrators' accounts (R-ROLE-2): request, confirm, refuse, and
the list of requests the three administrators see. The same services as the portal's
待确认操作 page (portal/services/two_person.py)."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id, to_global
from graphql_api.mutations.common import Payload, user_error
from graphql_api.mutations.users import _uid
from graphql_api.types.org import UserNode
from models import PendingAction
from portal import clock
from portal.services import two_factor, two_person
from portal.services import users as user_svc
from portal.services.errors import DomainError


@strawberry.enum(description="The actions on an administrator's account that need a second "
                 "administrator.")
class AccountActionKind(enum.Enum):
    RESET_PASSWORD = "user.reset_password"
    DEACTIVATE = "user.deactivate"
    REACTIVATE = "user.reactivate"
    # R-ROLE-6: only from a portal session signed in with two factors, never with a token
    RESET_TWO_FACTOR = "user.reset_two_factor"


@strawberry.type(name="PendingAction",
                 description="A two-person request: carried out when a second administrator "
                             "confirms it. state: pending, confirmed, refused, cancelled, "
                             "expired.")
class PendingActionNode:
    id: strawberry.ID
    database_id: int
    kind: str
    target_id: strawberry.ID
    reason: str
    state: str
    requested_by_id: strawberry.ID
    requested_at: datetime
    expires_at: datetime
    decided_by_id: strawberry.ID | None
    decided_at: datetime | None
    decision_note: str | None

    @classmethod
    def of(cls, p: PendingAction) -> PendingActionNode:
        return cls(id=strawberry.ID(to_global("PendingAction", p.id)), database_id=p.id,
                   kind=p.kind, target_id=strawberry.ID(to_global(p.target_type, p.target_id)),
                   reason=p.reason, state=two_person.state(p, clock.now()),
                   requested_by_id=strawberry.ID(to_global("User", p.requested_by_id)),
                   requested_at=p.requested_at, expires_at=p.expires_at,
                   decided_by_id=strawberry.ID(to_global("User", p.decided_by_id))
                   if p.decided_by_id else None,
                   decided_at=p.decided_at, decision_note=p.decision_note)


def _pending(info: Info, call) -> Payload[PendingActionNode]:
    ctx = info.context
    try:
        p = call(ctx.session, ctx.user)
    except DomainError as exc:
        return Payload(ok=False, errors=[user_error(exc)], result=None)
    return Payload(ok=True, errors=[], result=PendingActionNode.of(p))


def _door_of(session, user, pending_id: int, two_factor_session: bool) -> None:
    """A second-factor reset is confirmed or refused only from a two-factor portal session."""
    from portal import policy

    if not policy.can(user, "two_person.confirm", PendingAction):
        return  # the service refuses (and audits) before telling whether the request exists
    p = session.get(PendingAction, pending_id)
    if p is not None:
        two_factor.check_reset_door(session, user, p.kind, two_factor_session)


def _pid(value: strawberry.ID) -> int:
    return expect_id(value, "PendingAction", "pendingActionId")


@strawberry.type
class TwoPersonQueries:
    @strawberry.field(description="Two-person requests you may see (administrators), newest "
                      "first; waitingOnly: only those still to confirm.")
    def pending_actions(self, info: Info, waiting_only: bool = True,
                        first: int = 50) -> list[PendingActionNode]:
        ctx = info.context
        first = max(1, min(int(first), 200))
        stmt = two_person.pending_stmt(ctx.session, ctx.user, waiting_only=waiting_only)
        return [PendingActionNode.of(p) for p in ctx.session.scalars(stmt.limit(first))]


@strawberry.type
class TwoPersonMutations:
    @strawberry.mutation(description="Ask a second administrator to confirm a password reset, "
                         "deactivation or reactivation of an administrator's account.")
    def request_account_action(self, info: Info, kind: AccountActionKind,
                               user_id: strawberry.ID, reason: str,
                               new_password: str | None = None) -> Payload[PendingActionNode]:
        params = {"new_password": new_password} if new_password is not None else {}
        two_factor_session = info.context.two_factor

        def call(s, u):
            two_factor.check_reset_door(s, u, kind.value, two_factor_session)
            return two_person.request_action(s, u, kind.value, _uid(user_id), params, reason)
        return _pending(info, call)

    @strawberry.mutation(description="Confirm another administrator's request: it is carried "
                         "out now.")
    def confirm_pending_action(self, info: Info,
                               pending_action_id: strawberry.ID) -> Payload[PendingActionNode]:
        def call(s, u):
            _door_of(s, u, _pid(pending_action_id), info.context.two_factor)
            return two_person.confirm_action(s, u, _pid(pending_action_id))
        return _pending(info, call)

    @strawberry.mutation(description="Refuse another administrator's request, or withdraw "
                         "your own; it will not be carried out.")
    def refuse_pending_action(self, info: Info, pending_action_id: strawberry.ID,
                              note: str) -> Payload[PendingActionNode]:
        def call(s, u):
            _door_of(s, u, _pid(pending_action_id), info.context.two_factor)
            return two_person.refuse_action(s, u, _pid(pending_action_id), note)
        return _pending(info, call)

    @strawberry.mutation(description="Give a deactivated account back (an administrator's "
                         "account: use requestAccountAction).")
    def reactivate_user(self, info: Info, user_id: strawberry.ID,
                        reason: str, *, expected_version: int) -> Payload[UserNode]:
        from graphql_api.mutations.common import run

        return run(info, UserNode, lambda s, u: user_svc.reactivate_user(
            s, u, _uid(user_id), reason, expected_version=expected_version))


