"""A faster execution context: plain fields and whole lists are completed inline.

graphql-core runs every field through the same machinery (a ``Path``, a resolve-info object,
Strawberry's resolver wrapper, ``complete_value``): about 4 µs per field, which dominates a
page of a thousand rows. This context takes two short cuts.

- A *plain* field — a Strawberry field without resolver, extensions (permission classes) or
  arguments, whose value is ``getattr(source, python_name)`` — of a scalar or enum type is read
  and coerced with the type's own ``coerce_output_value``, exactly what
  ``complete_leaf_value`` does.
- A *list of objects* (a page of rows, the complaints of a customer, …) is completed level by
  level: each selected field is computed for every item in one loop, and the objects a
  relationship returns for all items form the next level. Besides plain fields and
  ``__typename``, only resolvers of types marked ``FAST_RESOLVERS`` are taken this way: read-only
  node resolvers, called directly (see ``_Resolved``).

Whenever the answer could differ from graphql-core's — a resolver raises, a null in a non-null
field, a value that cannot be coerced, arguments, directives, ``@defer``, interfaces and unions,
awaitables, a middleware (a schema extension with a ``resolve`` hook) — the field or the whole
list goes through graphql-core, so data, errors, nulls and their paths are exactly its own.
A fallback runs the list's resolvers again: that is why they must not have side effects.

Safe to upgrade:

- opt-in per type: only object types whose Strawberry class sets ``FAST_RESOLVERS = True`` (a
  promise that their resolvers only read) are completed here; every other type goes through
  graphql-core as if this module did not exist;
- ``GRAPHQL_FAST_EXECUTION`` (app config, default on) switches it off for an app;
- ``self_check()`` runs once at start-up: it checks the graphql-core version range and the
  signatures and attributes of the graphql-core/Strawberry internals used here, and runs a
  probe query both ways. Any difference and the fast path stays off (fail closed), with one
  warning in the log saying why.
"""

from __future__ import annotations

import enum
import inspect
import logging
from typing import Any

import graphql
import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api.execution_context import FastExecutionContext as FastExecutionContext
from graphql_api.execution_plans import _plan as _plan
from graphql_api.execution_plans import is_fast_type as is_fast_type

log = logging.getLogger(__name__)

# graphql-core releases whose ExecutionContext internals this module was written against
GRAPHQL_CORE_RANGE = ((3, 3, 2), (3, 4, 0))


# ------------------------------------------------------------------------------ start-up check

_SELF_CHECK: list[str] | None = None

# the graphql-core methods overridden or called here, with the parameters relied on
_CORE_SIGNATURES = {
    "execute_fields": ["self", "parent_type", "source_value", "path", "grouped_field_set",
                       "position_context"],
    "complete_list_value": ["self", "return_type", "field_details_list", "info", "path",
                            "result", "position_context"],
    "collect_subfields": ["self", "return_type", "field_details_list"],
    "build_resolve_info": ["self", "field_def", "field_nodes", "parent_type", "path"],
}
_RESOLVER_ATTRIBUTES = ("is_async", "self_parameter", "parent_parameter", "root_parameter",
                        "info_parameter", "signature", "wrapped_func")
_FIELD_ATTRIBUTES = ("base_resolver", "extensions", "arguments", "python_name")


def _check_internals() -> list[str]:
    problems: list[str] = []
    version = tuple(graphql.version_info[:3])
    low, high = GRAPHQL_CORE_RANGE
    if not low <= version < high:
        problems.append(f"graphql-core {graphql.__version__} is outside the range this "
                        f"module was written for ({'.'.join(map(str, low))} to "
                        f"<{'.'.join(map(str, high))})")
    for name, expected in _CORE_SIGNATURES.items():
        method = getattr(StrawberryGraphQLCoreExecutionContext, name, None)
        if method is None:
            problems.append(f"ExecutionContext.{name} is gone")
            continue
        params = list(inspect.signature(method).parameters)
        if params != expected:
            problems.append(f"ExecutionContext.{name}{tuple(params)} changed "
                            f"(expected {tuple(expected)})")
    for name in ("is_awaitable",):
        if not hasattr(StrawberryGraphQLCoreExecutionContext, name):
            problems.append(f"ExecutionContext.{name} is gone")
    from strawberry.types.field import StrawberryField
    from strawberry.types.fields.resolver import StrawberryResolver

    def probe_resolver(self: Any, info: Any) -> int:
        return 0

    resolver = StrawberryResolver(probe_resolver)
    problems += [f"StrawberryResolver.{a} is gone" for a in _RESOLVER_ATTRIBUTES
                 if not hasattr(resolver, a)]
    field = StrawberryField(python_name="probe")
    problems += [f"StrawberryField.{a} is gone" for a in _FIELD_ATTRIBUTES
                 if not hasattr(field, a)]
    return problems


@strawberry.enum
class ProbeColour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@strawberry.type
class ProbeLeaf:
    FAST_RESOLVERS = True
    name: str
    colour: ProbeColour

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class ProbeItem:
    FAST_RESOLVERS = True
    id: int
    label: str | None

    @strawberry.field
    def leaves(self, info: strawberry.Info) -> list[ProbeLeaf]:
        return [ProbeLeaf(name=f"{self.id}-{i}", colour=ProbeColour.RED if i % 2
                          else ProbeColour.BLUE) for i in range(2)]

    @strawberry.field
    def first(self) -> ProbeLeaf | None:
        return None if self.id % 2 else ProbeLeaf(name="x", colour=ProbeColour.BLUE)


@strawberry.type
class ProbeQuery:
    @strawberry.field
    def items(self) -> list[ProbeItem]:
        return [ProbeItem(id=i, label=None if i == 1 else f"item {i}") for i in range(3)]


def _probe() -> list[str]:
    """Run one query over a small schema of every shape handled here, with and without the
    fast path: the answers must be equal and the fast path must really have been taken."""
    query = ("{ items { __typename id label leaves { name colour shout } "
             "first { name colour } } }")
    counted: list[int] = []

    class Counting(FastExecutionContext):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.fast = True  # whatever the app's switch says: the probe tests the machinery

        def _resolved_column(self, *args: Any, **kwargs: Any) -> list[Any]:
            counted.append(1)
            return super()._resolved_column(*args, **kwargs)

    fast = strawberry.Schema(query=ProbeQuery, execution_context_class=Counting)
    slow = strawberry.Schema(query=ProbeQuery)
    a = fast.execute_sync(query)
    b = slow.execute_sync(query)
    if a.errors or b.errors:
        return [f"probe query failed: {a.errors or b.errors}"]
    if a.data != b.data:
        return ["probe query: the fast path answered differently from graphql-core"]
    if not counted:
        return ["probe query: the fast path was not taken (internals changed)"]
    return []


def self_check() -> list[str]:
    """Problems that keep the fast path off (empty: safe to enable); computed once."""
    global _SELF_CHECK
    if _SELF_CHECK is None:
        try:
            problems = _check_internals()
            if not problems:
                _SELF_CHECK = []  # the probe itself runs the fast path
                problems = _probe()
        except Exception as exc:
            problems = [f"self-check raised {exc.__class__.__name__}: {exc}"]
        _SELF_CHECK = problems
    return _SELF_CHECK


def configure(enabled: bool) -> bool:
    """Called at start-up with ``GRAPHQL_FAST_EXECUTION``; returns whether the fast path is
    on, and logs one warning when the self-check keeps it off."""
    if not enabled:
        log.info("GraphQL fast execution off (GRAPHQL_FAST_EXECUTION is false)")
        return False
    problems = self_check()
    if problems:
        log.warning("GraphQL fast execution refused, graphql-core answers everything: %s",
                    "; ".join(problems))
        return False
    return True


def fast_execution_enabled() -> bool:
    """The current app's switch (on outside an app) and the self-check."""
    from flask import current_app, has_app_context

    if has_app_context() and not current_app.config.get("GRAPHQL_FAST_EXECUTION", True):
        return False
    return not self_check()
