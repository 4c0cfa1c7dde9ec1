"""The GraphQL API (Strawberry) for the company's own front-end apps."""

from __future__ import annotations

from flask import Flask


def init_graphql(app: Flask) -> None:
    from graphql_api import execution
    from graphql_api.view import register

    execution.configure(app.config.get("GRAPHQL_FAST_EXECUTION", True))
    register(app)
