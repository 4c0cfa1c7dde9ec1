"""The /graphql endpoint: POST JSON only, no batching, GraphiQL only in development."""

from __future__ import annotations

from flask import Flask
from strawberry.flask.views import GraphQLView

from portal.extensions import csrf


def register(app: Flask) -> None:
    from graphql_api.schema import schema

    view = GraphQLView.as_view("graphql", schema=schema,
                               graphql_ide="graphiql" if app.config["GRAPHQL_GRAPHIQL"] else None,
                               allow_queries_via_get=False)
    csrf.exempt(view)
    app.add_url_rule("/graphql", view_func=view, methods=["GET", "POST"])
