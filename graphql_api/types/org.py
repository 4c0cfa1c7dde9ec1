"""Departments, branches and users (public fields only; private ones are never in the type)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.types.base import FromModel, Node, many, one, relation
from models import Branch, Department, User


@strawberry.type(name="Department")
class DepartmentNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("code", "name", "version")
    _m: strawberry.Private[Department]
    _b: strawberry.Private[Batch]
    database_id: int
    code: str
    name: str
    version: int

    @strawberry.field
    @relation("many", Branch.department_id, Branch)
    def branches(self, info: Info) -> list[Annotated[BranchNode, strawberry.lazy(
            "graphql_api.types.org")]]:
        return many(info, self, Branch, Branch.department_id, BranchNode)


@strawberry.type(name="Branch")
class BranchNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("code", "name", "version")
    _m: strawberry.Private[Branch]
    _b: strawberry.Private[Batch]
    database_id: int
    code: str
    name: str
    version: int

    @strawberry.field
    @relation("one", "department_id", Department)
    def department(self, info: Info) -> DepartmentNode | None:
        return one(info, self, "department_id", Department, DepartmentNode)


@strawberry.type(name="User", description="A member of staff (public fields only).")
class UserNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("username", "full_name", "version")
    _m: strawberry.Private[User]
    _b: strawberry.Private[Batch]
    database_id: int
    username: str
    full_name: str
    version: int = strawberry.field(description="The account's version: send it as "
                                                "expectedVersion when changing the account.")

    @strawberry.field
    @relation("one", "branch_id", Branch)
    def branch(self, info: Info) -> BranchNode | None:
        return one(info, self, "branch_id", Branch, BranchNode)

    @strawberry.field
    @relation("one", "department_id", Department)
    def department(self, info: Info) -> DepartmentNode | None:
        return one(info, self, "department_id", Department, DepartmentNode)


@strawberry.type(description="The authenticated user: own account and what they may do.")
class Viewer:
    _m: strawberry.Private[User]
    user: UserNode
    email: str | None
    phone: str | None
    clearance: int
    language: str
    allowed_actions: list[str] = strawberry.field(
        description='Actions granted to you on at least some rows, as "area.verb".')
