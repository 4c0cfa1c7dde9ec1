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
from graphql import (
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    Undefined,
    is_leaf_type,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

log = logging.getLogger(__name__)

# graphql-core releases whose ExecutionContext internals this module was written against
GRAPHQL_CORE_RANGE = ((3, 3, 2), (3, 4, 0))

# parent type → {field name: (attribute name or resolver, leaf type, non-null)}; built once
# per type
_PLANS: dict[GraphQLObjectType, dict[str, tuple[Any, Any, bool, Any]]] = {}
_ENUM_MEMO: dict[GraphQLEnumType, dict[Any, Any]] = {}


def _coerce(leaf: Any, memo: dict[Any, Any] | None, value: Any) -> Any:
    if memo is None:
        return leaf.coerce_output_value(value)
    coerced = memo.get(value)
    if coerced is None:
        coerced = leaf.coerce_output_value(value)
        if coerced is not None and coerced is not Undefined:
            memo[value] = coerced
    return coerced


def is_fast_type(parent_type: GraphQLObjectType) -> bool:
    """A type opts in with ``FAST_RESOLVERS = True`` on its Strawberry class."""
    definition = (parent_type.extensions or {}).get("strawberry-definition")
    return getattr(getattr(definition, "origin", None), "FAST_RESOLVERS", False) is True


def _plan(parent_type: GraphQLObjectType) -> dict[str, tuple[Any, Any, bool, Any]]:
    plan = _PLANS.get(parent_type)
    if plan is not None:
        return plan
    plan = {}
    if not is_fast_type(parent_type):
        _PLANS[parent_type] = plan
        return plan
    for name, fdef in parent_type.fields.items():
        resolve = fdef.resolve
        if resolve is None or not getattr(resolve, "_is_default", False) or fdef.args:
            continue
        t = fdef.type
        non_null = isinstance(t, GraphQLNonNull)
        if non_null:
            t = t.of_type
        if not is_leaf_type(t):
            continue
        definition = (fdef.extensions or {}).get("strawberry-definition")
        if getattr(definition, "extensions", None):
            continue  # permission classes and other field extensions: the normal path
        python_name = getattr(definition, "python_name", None)
        # an enum's output coercion is a linear search over its values: memoised per type
        # (a closed vocabulary, so the memo stays small)
        memo = _ENUM_MEMO.setdefault(t, {}) if isinstance(t, GraphQLEnumType) else None
        if python_name and getattr(definition, "default_resolver", getattr) is getattr:
            # Strawberry's basic resolver is getattr(source, python_name): call it directly
            plan[name] = (python_name, t, non_null, memo)
        else:
            plan[name] = (resolve, t, non_null, memo)
    _PLANS[parent_type] = plan
    return plan


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fast = fast_execution_enabled()

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any,
                       path: Path | None, grouped_field_set: Any,
                       position_context: Any) -> Any:
        manager = self.middleware_manager
        if not self.fast or (manager is not None and manager.middlewares):
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
        plan = _plan(parent_type)
        if not plan:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
        fast: dict[str, Any] = {}
        slow: dict[str, Any] = {}
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            entry = plan.get(node.name.value)
            if entry is None or node.arguments:
                slow[response_name] = details
                continue
            getter, leaf, non_null, memo = entry
            try:
                value = (getattr(source_value, getter) if getter.__class__ is str
                         else getter(source_value, None))
                if value is None:
                    if non_null:  # let the normal path raise the located error
                        slow[response_name] = details
                        continue
                    fast[response_name] = None
                    continue
                coerced = _coerce(leaf, memo, value)
            except Exception:
                slow[response_name] = details
                continue
            if coerced is Undefined or coerced is None:
                slow[response_name] = details
            else:
                fast[response_name] = coerced
        if not slow:
            return fast
        rest = super().execute_fields(parent_type, source_value, path, slow, position_context)
        if self.is_awaitable(rest):
            async def merged() -> dict[str, Any]:
                done = await rest
                return _ordered(grouped_field_set, fast, done)
            return merged()
        return _ordered(grouped_field_set, fast, rest)


    def complete_list_value(self, return_type: Any, field_details_list: Any, info: Any,
                            path: Path, result: Any, position_context: Any) -> Any:
        """A list of objects (a page of rows, the complaints of a customer, …) is completed
        level by level: each selected field is computed for every item of the list in one
        loop, and a relationship's objects (of all items at once) form the next level. Only
        plain fields and side-effect-free resolvers (see ``_resolved``) are taken this way;
        anything unusual falls back to graphql-core for the whole list."""
        fast = self._fast_list(return_type, field_details_list, info, path, result)
        if fast is not None:
            return fast
        return super().complete_list_value(return_type, field_details_list, info, path,
                                           result, position_context)

    def _fast_list(self, return_type: Any, field_details_list: Any, info: Any, path: Path,
                   result: Any) -> list[Any] | None:
        manager = self.middleware_manager
        if (not self.fast or (manager is not None and manager.middlewares)
                or not isinstance(result, list)):
            return None
        item_type = return_type.of_type
        item_non_null = isinstance(item_type, GraphQLNonNull)
        if item_non_null:
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType):
            return None
        if any(d.node.directives for d in field_details_list):
            return None  # @stream and friends: the normal path
        try:
            return self._complete_level(item_type, item_non_null, field_details_list, info,
                                        path, result)
        except Exception:
            return None    # with its location)

    def _complete_level(self, item_type: GraphQLObjectType, item_non_null: bool,
                        field_details_list: Any, info: Any, path: Path,
                        items: list[Any]) -> list[Any]:
        """The completed values of ``items`` (objects of ``item_type``, ``None`` allowed
        unless ``item_non_null``), or ``_Fallback``."""
        present = [item for item in items if item is not None]
        if len(present) != len(items) and item_non_null:
            raise _Fallback
        if not present:
            return [None] * len(items)
        is_awaitable = self.is_awaitable
        is_type_of = item_type.is_type_of
        for item in present:
            if is_awaitable(item):
                raise _Fallback  # graphql-core awaits it (or reports its error)
            if is_type_of is not None and is_type_of(item, info) is not True:
                raise _Fallback
        grouped, new_defer_usages, _forbidden = self.collect_subfields(item_type,
                                                                       field_details_list)
        if new_defer_usages:
            raise _Fallback
        plain = _plan(item_type)
        resolved = _resolved(item_type, self.schema)
        item_path = path.add_key(0, item_type.name)
        names: list[str] = []
        columns: list[list[Any]] = []
        for response_name, details in grouped.items():
            node = details[0].node
            if node.arguments or node.directives:
                raise _Fallback
            field_name = node.name.value
            names.append(response_name)
            if field_name == "__typename":
                columns.append([item_type.name] * len(present))
                continue
            entry = plain.get(field_name)
            if entry is not None:
                columns.append(_plain_column(entry, present))
                continue
            spec = resolved.get(field_name)
            if spec is None:
                raise _Fallback
            columns.append(self._resolved_column(spec, item_type, details,
                                                 item_path.add_key(response_name, None),
                                                 present))
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        if len(rows) == len(items):
            return rows
        it = iter(rows)
        return [None if item is None else next(it) for item in items]

    def _resolved_column(self, spec: _Resolved, parent_type: GraphQLObjectType, details: Any,
                         path: Path, items: list[Any]) -> list[Any]:
        raw_info = self.build_resolve_info(spec.field_def, [d.node for d in details],
                                           parent_type, path)
        fn = spec.fn
        if spec.with_info:
            info = spec.info_class(_raw_info=raw_info, _field=spec.field)
            values = [fn(item, info) for item in items]
        else:
            values = [fn(item) for item in items]
        if spec.shape == _LEAF:
            if any(map(self.is_awaitable, values)):
                raise _Fallback
            return _leaf_values(spec.inner, spec.memo, spec.non_null, values)
        if spec.shape == _OBJECT:
            if spec.non_null and any(v is None for v in values):
                raise _Fallback
            return self._complete_level(spec.inner, False, details, raw_info, path, values)
        # a list per item: completed all together, then cut back into the items' lists
        flat: list[Any] = []
        sizes: list[int] = []
        for value in values:
            if value is None:
                if spec.non_null:
                    raise _Fallback
                sizes.append(-1)
                continue
            if not isinstance(value, list | tuple):
                raise _Fallback
            flat.extend(value)
            sizes.append(len(value))
        if spec.shape == _LIST_LEAF:
            if any(map(self.is_awaitable, flat)):
                raise _Fallback
            done = _leaf_values(spec.inner, spec.memo, spec.inner_non_null, flat)
        else:
            done = self._complete_level(spec.inner, spec.inner_non_null, details, raw_info,
                                        path, flat)
        out: list[Any] = []
        start = 0
        for size in sizes:
            if size < 0:
                out.append(None)
            else:
                out.append(done[start:start + size])
                start += size
        return out


class _Fallback(Exception):
    """The fast path cannot answer exactly like graphql-core: use graphql-core."""


_LEAF, _OBJECT, _LIST_LEAF, _LIST_OBJECT = range(4)


class _Resolved:
    """A field computed by a resolver that the fast path may call directly: a method of a
    type marked ``FAST_RESOLVERS`` (its resolvers only read, through the request's
    loaders), synchronous, taking ``self`` and optionally ``info``, without arguments,
    field extensions (permission classes) or exception handlers."""

    __slots__ = ("field", "field_def", "fn", "info_class", "inner", "inner_non_null", "memo",
                 "non_null", "shape", "with_info")

    def __init__(self, **kw: Any) -> None:
        for key, value in kw.items():
            setattr(self, key, value)


_RESOLVED: dict[GraphQLObjectType, dict[str, _Resolved]] = {}


def _resolved(parent_type: GraphQLObjectType, schema: Any) -> dict[str, _Resolved]:
    found = _RESOLVED.get(parent_type)
    if found is not None:
        return found
    found = {}
    strawberry_schema = getattr(schema, "_strawberry_schema", None)
    converter = getattr(strawberry_schema, "schema_converter", None)
    if (is_fast_type(parent_type) and strawberry_schema is not None
            and not getattr(converter, "_exception_handler_specs", ())):
        info_class = strawberry_schema.config.info_class
        for name, fdef in parent_type.fields.items():
            spec = _resolved_spec(fdef, info_class)
            if spec is not None:
                found[name] = spec
    _RESOLVED[parent_type] = found
    return found


def _resolved_spec(fdef: Any, info_class: Any) -> _Resolved | None:
    field = (fdef.extensions or {}).get("strawberry-definition")
    resolver = getattr(field, "base_resolver", None)
    if resolver is None or field.extensions or fdef.args or field.arguments:
        return None
    if (resolver.is_async or resolver.self_parameter is None
            or resolver.parent_parameter is not None or resolver.root_parameter is not None):
        return None
    params = list(resolver.signature.parameters.values())
    info_param = resolver.info_parameter
    if params[0] is not resolver.self_parameter or len(params) > 2:
        return None
    if len(params) == 2 and (info_param is None or params[1] is not info_param):
        return None
    t = fdef.type
    non_null = isinstance(t, GraphQLNonNull)
    if non_null:
        t = t.of_type
    inner, inner_non_null = t, False
    if isinstance(t, GraphQLList):
        inner = t.of_type
        inner_non_null = isinstance(inner, GraphQLNonNull)
        if inner_non_null:
            inner = inner.of_type
    if is_leaf_type(inner):
        shape = _LIST_LEAF if inner is not t else _LEAF
    elif isinstance(inner, GraphQLObjectType):
        shape = _LIST_OBJECT if inner is not t else _OBJECT
    else:
        return None  # interfaces, unions: the normal path resolves the concrete type
    memo = _ENUM_MEMO.setdefault(inner, {}) if isinstance(inner, GraphQLEnumType) else None
    return _Resolved(field=field, field_def=fdef, fn=resolver.wrapped_func,
                     info_class=info_class, inner=inner, inner_non_null=inner_non_null,
                     memo=memo, non_null=non_null, shape=shape, with_info=len(params) == 2)


def _plain_column(entry: tuple[Any, Any, bool, Any], items: list[Any]) -> list[Any]:
    getter, leaf, non_null, memo = entry
    if getter.__class__ is str:
        values = [getattr(item, getter) for item in items]
    else:
        values = [getter(item, None) for item in items]
    return _leaf_values(leaf, memo, non_null, values)


def _leaf_values(leaf: Any, memo: dict[Any, Any] | None, non_null: bool,
                 values: list[Any]) -> list[Any]:
    out: list[Any] = []
    append = out.append
    for value in values:
        if value is None:
            if non_null:  # the normal path raises the located error
                raise _Fallback
            append(None)
            continue
        coerced = _coerce(leaf, memo, value)
        if coerced is Undefined or coerced is None:
            raise _Fallback
        append(coerced)
    return out


def _ordered(grouped_field_set: Any, fast: dict[str, Any], rest: dict[str, Any]
             ) -> dict[str, Any]:
    """Merge the two halves in the order of the query (responses keep field order)."""
    if not fast:
        return rest
    out: dict[str, Any] = {}
    for name in grouped_field_set:
        if name in fast:
            out[name] = fast[name]
        elif name in rest:
            out[name] = rest[name]
    return out


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
