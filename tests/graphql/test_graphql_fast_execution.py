"""graphql_api.execution.FastExecutionContext completes plain fields and lists of plain objects
inline: its answers — data, errors, error paths, field order, enums — must equal graphql-core's
own executor on the same schema, including the cases it hands back (nulls in non-null fields,
values that cannot be coerced, resolvers that raise, aliases, fragments, __typename)."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry

from graphql_api.execution import FastExecutionContext


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class Item:
    name: str
    note: str | None
    color: Color
    count: int

    @strawberry.field
    def upper(self) -> str:
        if self.name == "boom":
            raise ValueError("boom")
        return self.name.upper()


def _items() -> list[Any]:
    return [Item(name="a", note=None, color=Color.RED, count=1),
            Item(name="b", note="x", color=Color.BLUE, count=2)]


def _broken() -> list[Any]:
    bad = Item(name="c", note=None, color=Color.RED, count=3)
    bad.name = None  # a null in a non-null field
    return [*_items(), bad]


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> list[Item]:
        return _items()

    @strawberry.field
    def broken(self) -> list[Item]:
        return _broken()

    @strawberry.field
    def maybe(self) -> list[Item | None]:
        return [_items()[0], None]

    @strawberry.field
    def bad_count(self) -> list[Item]:
        item = _items()[0]
        item.count = "not a number"  # cannot be coerced to Int
        return [item]

    @strawberry.field
    def raising(self) -> list[Item]:
        return [*_items(), Item(name="boom", note=None, color=Color.RED, count=0)]

    @strawberry.field
    def one(self) -> Item:
        return _items()[1]


FAST = strawberry.Schema(query=Query, execution_context_class=FastExecutionContext)
PLAIN = strawberry.Schema(query=Query)

QUERIES = [
    "{ items { name note color count } }",
    "{ items { count name } one { color name } }",
    "{ items { a: name b: name color __typename } }",
    "fragment F on Item { note color } { items { name ...F ... on Item { count } } }",
    "{ broken { name count } }",
    "{ maybe { name } }",
    "{ badCount { name count } }",
    "{ raising { name upper } }",
    "{ items { upper name } one { upper } }",
]


def _result(schema: strawberry.Schema, query: str) -> dict:
    res = schema.execute_sync(query)
    errors = sorted((e.message, tuple(e.path or ())) for e in res.errors or [])
    return {"data": res.data, "errors": errors,
            "order": _order(res.data)}


def _order(value: Any) -> Any:
    if isinstance(value, dict):
        return [(k, _order(v)) for k, v in value.items()]
    if isinstance(value, list):
        return [_order(v) for v in value]
    return value


@pytest.mark.parametrize("query", QUERIES)
def test_fast_execution_answers_exactly_like_graphql_core(query: str) -> None:
    assert _result(FAST, query) == _result(PLAIN, query)


def test_the_comparison_covers_errors_and_nulls() -> None:
    assert _result(PLAIN, "{ broken { name } }")["errors"]
    assert _result(PLAIN, "{ badCount { count } }")["errors"]
    assert _result(PLAIN, "{ raising { upper } }")["errors"]
    assert _result(FAST, "{ items { color } }")["data"] == {
        "items": [{"color": "RED"}, {"color": "BLUE"}]}
