"""graphql_api.execution.FastExecutionContext completes plain fields and lists of plain objects
inline: its answers — data, errors, error paths, field order, enums — must equal graphql-core's
own executor on the same schema, including the cases it hands back (nulls in non-null fields,
values that cannot be coerced, resolvers that raise, aliases, fragments, __typename)."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import strawberry
from strawberry.permission import BasePermission

from graphql_api.execution import FastExecutionContext


@strawberry.enum
class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Deny(BasePermission):
    message = "denied"

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return False


@strawberry.type
class Tag:
    FAST_RESOLVERS = True  # resolvers called level by level (graphql_api.execution)
    label: str

    @strawberry.field
    def shout(self) -> str:
        if self.label == "bad":
            raise ValueError("bad tag")
        return self.label.upper()


@strawberry.type
class Item:
    FAST_RESOLVERS = True
    name: str
    note: str | None
    color: Color
    count: int

    @strawberry.field
    def upper(self) -> str:
        if self.name == "boom":
            raise ValueError("boom")
        return self.name.upper()

    @strawberry.field
    def tags(self, info: strawberry.Info) -> list[Tag]:
        assert info.field_name == "tags"
        return [Tag(label=f"{self.name}{i}") for i in range(self.count)] + (
            [Tag(label="bad")] if self.name == "boom" else [])

    @strawberry.field
    def first_tag(self) -> Tag | None:
        return Tag(label=self.name) if self.count % 2 else None

    @strawberry.field
    def twin(self) -> Item | None:
        return Item(name=self.name * 2, note=self.note, color=self.color, count=0) \
            if self.count < 3 else None

    @strawberry.field
    def letters(self) -> list[str]:
        return list(self.name)

    secret: str | None = strawberry.field(default="s", permission_classes=[Deny])

    @strawberry.field
    def lazy_tag(self) -> Tag | None:
        async def later() -> Tag:
            return Tag(label="later")
        return later()  # type: ignore[return-value]  (a sync resolver handing back a coroutine)

    @strawberry.field
    def must_tag(self) -> Tag:
        return None if self.count == 2 else Tag(label="t")  # type: ignore[return-value]


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
    # resolvers of FAST_RESOLVERS types: completed level by level
    "{ items { name tags { label shout __typename } firstTag { label } } }",
    "{ items { twin { name tags { label } twin { name } } letters } }",
    "{ items { t1: tags { label } t2: tags { shout } } }",
    "{ raising { name tags { label shout } } }",
    "{ items { mustTag { label } } }",
    "{ maybe { name firstTag { shout } } }",
    "fragment T on Tag { shout } { items { tags { ...T label } } }",
    # a permission class on a field without resolver: the normal path checks it
    "{ items { name secret } one { secret } }",
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


def test_relations_of_a_list_are_completed_without_graphql_core(monkeypatch) -> None:
    """The fast path really is taken: no list or field goes through graphql-core below the
    root field, while the answer stays the same."""
    from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext as Core

    calls: list[str] = []
    original = Core.execute_field

    def counting(self, parent_type, *args, **kwargs):
        calls.append(parent_type.name)
        return original(self, parent_type, *args, **kwargs)

    monkeypatch.setattr(Core, "execute_field", counting)
    query = "{ items { name tags { label shout } firstTag { label } twin { letters } } }"
    assert _result(FAST, query) == _result(PLAIN, query)
    calls.clear()
    FAST.execute_sync(query)
    assert calls == ["Query"]
    calls.clear()
    FAST.execute_sync("{ raising { name tags { shout } } }")  # a resolver raises: fallback
    assert len(calls) > 1


def test_awaitables_are_left_to_graphql_core() -> None:
    """A sync resolver returning a coroutine: a synchronous execution cannot await it and
    fails; the fast path must fail the same way, not report an object built from it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the coroutines are never awaited
        query = "{ items { lazyTag { __typename } } }"
        fast, plain = _result(FAST, query), _result(PLAIN, query)
    assert fast == plain
    assert fast["data"] is None and fast["errors"]  # not an object built from the coroutine


# ------------------------------------------------------------------ safe to upgrade (issue 13)

def test_the_start_up_self_check_passes_with_the_locked_versions() -> None:
    from graphql_api import execution

    assert execution.self_check() == []


@pytest.mark.parametrize("change", ["graphql-core version", "signature", "resolver attribute"])
def test_the_self_check_refuses_to_enable_when_internals_change(monkeypatch, caplog,
                                                                change: str) -> None:
    """Fail closed: a changed graphql-core/Strawberry internal keeps the fast path off, says
    why in the log, and every answer comes from graphql-core (still correct)."""
    import logging

    from graphql_api import execution

    monkeypatch.setattr(execution, "_SELF_CHECK", None)
    if change == "graphql-core version":
        monkeypatch.setattr(execution, "GRAPHQL_CORE_RANGE", ((3, 4, 0), (3, 5, 0)))
    elif change == "signature":
        monkeypatch.setitem(execution._CORE_SIGNATURES, "execute_fields",
                            ["self", "parent_type", "source_value", "path", "fields"])
    else:
        monkeypatch.setattr(execution, "_RESOLVER_ATTRIBUTES", ("is_async", "gone_in_2027"))
    with caplog.at_level(logging.WARNING, logger="graphql_api.execution"):
        assert execution.configure(True) is False
    assert "GraphQL fast execution refused" in caplog.text
    assert execution.fast_execution_enabled() is False

    def no_fast_path(*args, **kwargs):
        raise AssertionError("the fast path ran although the self-check refused it")

    monkeypatch.setattr(FastExecutionContext, "_complete_level", no_fast_path)
    for query in QUERIES[:4]:
        assert _result(FAST, query) == _result(PLAIN, query)


def test_the_switch_turns_the_fast_path_off_for_an_app(monkeypatch) -> None:
    from flask import Flask

    from graphql_api import execution

    app = Flask(__name__)
    app.config["GRAPHQL_FAST_EXECUTION"] = False
    taken: list[int] = []
    original = FastExecutionContext._complete_level

    def counting(self, *args, **kwargs):
        taken.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FastExecutionContext, "_complete_level", counting)
    query = "{ items { name tags { label } } }"
    with app.app_context():
        assert execution.fast_execution_enabled() is False
        assert _result(FAST, query) == _result(PLAIN, query)
    assert taken == []
    app.config["GRAPHQL_FAST_EXECUTION"] = True
    with app.app_context():
        assert _result(FAST, query) == _result(PLAIN, query)
    assert taken


def test_only_types_that_opt_in_are_completed_by_the_fast_path() -> None:
    """A type without ``FAST_RESOLVERS = True`` goes through graphql-core (not default-on)."""
    from graphql_api import execution
    from graphql_api.schema import NODE_CLASSES, schema

    core = schema._schema
    for name, gql_type in core.type_map.items():
        if name.startswith("__") or not hasattr(gql_type, "fields"):
            continue
        definition = (getattr(gql_type, "extensions", None) or {}).get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        opted = getattr(origin, "FAST_RESOLVERS", False) is True
        assert execution.is_fast_type(gql_type) is opted, name
    fast_origins = {t.extensions["strawberry-definition"].origin
                    for t in core.type_map.values()
                    if hasattr(t, "fields") and execution.is_fast_type(t)}
    assert set(NODE_CLASSES) <= fast_origins
    assert not execution.is_fast_type(core.type_map["Query"])
    assert execution._plan(core.type_map["Query"]) == {}


def test_no_fast_type_resolver_writes_audit_entries() -> None:
    """Statically: no resolver of a type that opts in (nor a helper it calls) refers to the
    audit log. The fast path may run such a resolver twice (fallback), level by level."""
    import inspect

    from graphql_api.schema import schema

    def refers_to_audit(fn, depth: int = 0) -> list[str]:
        try:
            names = inspect.getclosurevars(fn)
        except TypeError:
            return []
        found = []
        for name, value in {**names.globals, **names.nonlocals}.items():
            module = getattr(value, "__name__", "") if inspect.ismodule(value) else \
                getattr(value, "__module__", "")
            if module in ("portal.audit",) or name in ("audit", "record_denied"):
                found.append(f"{fn.__qualname__} → {name}")
            elif depth < 2 and inspect.isfunction(value) and \
                    value.__module__.startswith(("graphql_api", "portal")):
                found += refers_to_audit(value, depth + 1)
        return found

    checked = 0
    for gql_type in schema._schema.type_map.values():
        definition = (getattr(gql_type, "extensions", None) or {}).get("strawberry-definition")
        origin = getattr(definition, "origin", None)
        if getattr(origin, "FAST_RESOLVERS", False) is not True:
            continue
        for field in definition.fields:
            if field.base_resolver is not None:
                assert refers_to_audit(field.base_resolver.wrapped_func) == [], field.name
                checked += 1
    assert checked > 10  # the node types' relationship and derived fields
