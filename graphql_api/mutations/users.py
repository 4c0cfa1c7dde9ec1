"""Account mutations (system administrator): the verbs of portal/services/users.py. Roles and
clearances are not here: they belong to the security administrator's portal pages."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, data_of, run
from graphql_api.types.org import UserNode
from portal.services import password_policy
from portal.services import users as svc

UNSET = strawberry.UNSET
_IDS = {"department_id": "Department", "branch_id": "Branch"}


@strawberry.input
class NewUserInput:
    username: str
    password: str
    full_name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    department_id: strawberry.ID | None = UNSET
    branch_id: strawberry.ID | None = UNSET
    language: str | None = UNSET


@strawberry.input
class UserPatch:
    full_name: str | None = UNSET
    email: str | None = UNSET
    phone: str | None = UNSET
    department_id: strawberry.ID | None = UNSET
    branch_id: strawberry.ID | None = UNSET
    language: str | None = UNSET


def _uid(value: strawberry.ID) -> int:
    return expect_id(value, "User", "userId")


@strawberry.type
class UserMutations:
    @strawberry.mutation(description="Change your own password (R-ROLE-6 rules: length, "
                                     "character kinds, not the login name, not a common "
                                     "password, not one of your last passwords). Every "
                                     "session and API token you hold ends, this one too.")
    def change_my_password(self, info: Info, current_password: str,
                           new_password: str) -> Payload[UserNode]:
        return run(info, UserNode, lambda s, u: password_policy.change_own_password(
            s, u, current_password, new_password), reread=False)

    @strawberry.mutation
    def create_user(self, info: Info, input: NewUserInput) -> Payload[UserNode]:
        return run(info, UserNode, lambda s, u: svc.create_user(s, u, data_of(input, ids=_IDS)))

    @strawberry.mutation
    def update_user(self, info: Info, user_id: strawberry.ID, input: UserPatch,
                    *, expected_version: int) -> Payload[UserNode]:
        return run(info, UserNode, lambda s, u: svc.update_user(
            s, u, _uid(user_id), data_of(input, ids=_IDS), expected_version=expected_version))

    @strawberry.mutation
    def deactivate_user(self, info: Info, user_id: strawberry.ID,
                        reason: str, *, expected_version: int) -> Payload[UserNode]:
        return run(info, UserNode, lambda s, u: svc.deactivate_user(
            s, u, _uid(user_id), reason, expected_version=expected_version))
