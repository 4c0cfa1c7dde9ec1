"""Global ids: ``"Type:id"`` (for example ``"Customer:42"``)."""

from __future__ import annotations

from graphql_api.permissions import ShownError


def to_global(type_name: str, pk: int) -> str:
    return f"{type_name}:{pk}"


def parse_global(value: str | None) -> tuple[str, int] | None:
    """``(type name, pk)`` or None for anything malformed."""
    if not value or not isinstance(value, str) or ":" not in value:
        return None
    type_name, _, raw = value.partition(":")
    if not raw.isdigit() or len(raw) > 18:
        return None
    return type_name, int(raw)


def expect_id(value: str | None, type_name: str, argument: str) -> int:
    """The pk of a global id of the given type (a bare integer is accepted too)."""
    if isinstance(value, str) and value.isdigit() and len(value) <= 18:
        return int(value)
    parsed = parse_global(value)
    if parsed is None or parsed[0] != type_name:
        raise ShownError(f"{argument}: expected a {type_name} id like \"{type_name}:1\".",
                         code="BAD_ID", field=argument)
    return parsed[1]
