"""The root schema, composed from the per-area types and mutations."""

from __future__ import annotations

import strawberry


@strawberry.type
class Query:
    @strawberry.field
    def ping(self) -> str:
        return "pong"


schema = strawberry.Schema(query=Query)
