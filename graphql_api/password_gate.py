"""R-ROLE-6 through the API: a user who must choose a new password (an account created or
reset by an administrator, or an expired administrator's password) may send exactly one kind
of request — a mutation whose only root field is ``changeMyPassword`` — and nothing else.
Everything else stays refused (403 PASSWORD_CHANGE_REQUIRED, audited) as before."""

from __future__ import annotations

import json

from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse
from graphql.error import GraphQLError

ALLOWED_ROOT_FIELDS = frozenset({"changeMyPassword", "__typename"})


def only_changes_the_password(body: bytes) -> bool:
    """True when the request body is one mutation whose root selections are all
    ``changeMyPassword`` (or ``__typename``) fields: no query, no other mutation, no root
    fragment that could hide another field."""
    try:
        payload = json.loads(body)
        document = parse(payload.get("query") or "", no_location=True)
    except (ValueError, AttributeError, TypeError, GraphQLError, RecursionError):
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    others = [d for d in document.definitions
              if not isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)]
    if len(operations) != 1 or others:
        return False
    operation = operations[0]
    if operation.operation.value != "mutation":
        return False
    selections = operation.selection_set.selections
    return bool(selections) and all(
        isinstance(sel, FieldNode) and sel.name.value in ALLOWED_ROOT_FIELDS
        for sel in selections)
