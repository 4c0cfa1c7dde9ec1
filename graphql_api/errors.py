"""Which errors the client sees. Validation errors, limits, permission and domain errors are
shown; anything unexpected is masked as "Unexpected error" with the request id, and logged with
its full trace (the trace never reaches the client)."""

from __future__ import annotations

import logging

from flask import g, has_request_context
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from graphql_api.permissions import ShownError
from portal.services.errors import DomainError

log = logging.getLogger("graphql_api")
SHOWN = (ShownError, DomainError)


def is_unexpected(error: GraphQLError) -> bool:
    """A GraphQLError wrapping another GraphQLError is graphql-core's own message about the
    request (a variable of the wrong type, an out-of-range Int): shown, never masked."""
    original = error.original_error
    return original is not None and not isinstance(original, SHOWN + (GraphQLError,))


def _request_id() -> str:
    return (g.get("request_id") or "-") if has_request_context() else "-"


def log_errors(errors: list[GraphQLError]) -> None:
    for error in errors:
        if is_unexpected(error):
            original = error.original_error
            log.error("unexpected error in GraphQL request %s at %s", _request_id(),
                      error.path, exc_info=(type(original), original, original.__traceback__))
        else:
            log.info("GraphQL request %s refused: %s", _request_id(), error.message)


class MaskUnexpected(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message="Unexpected error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(message=self.error_message, nodes=error.nodes, source=error.source,
                            positions=error.positions, path=error.path, original_error=None,
                            extensions={"code": "INTERNAL", "requestId": _request_id()})
