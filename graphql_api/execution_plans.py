"""The plans of graphql_api.execution's fast path: which fields of a type are plain (read and
coerced inline) or resolved by a resolver the fast path may call directly, and the helpers
that complete a column of leaf values. Built once per type; split out of execution.py."""

from __future__ import annotations

from typing import Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    Undefined,
    is_leaf_type,
)

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
    field: Any
    field_def: Any
    fn: Any
    info_class: Any
    inner: Any
    inner_non_null: bool
    memo: dict[Any, Any] | None
    non_null: bool
    shape: int
    with_info: bool

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
    field: Any = (fdef.extensions or {}).get("strawberry-definition")
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


# ------------------------------------------------------------------ rows behind FromModel nodes

# strawberry.cast marks an object with this attribute; is_type_of then reads the cast
_CAST_ATTRIBUTE = "__as_strawberry_type__"
# type → (node class, {field name: (row attribute, conversion, leaf, non-null, memo, identity
# class)}) for types whose nodes wrap a row (graphql_api.types.base.FromModel)
_ROW_PLANS: dict[GraphQLObjectType, tuple[type, dict[str, tuple[Any, ...]]] | None] = {}


def _identity_class(leaf: Any) -> type | None:
    """The Python class whose values ``leaf`` outputs unchanged (String and ID: str, Boolean:
    bool), so that the fast path need not call its coercion; None for the others."""
    if leaf is GraphQLString or leaf is GraphQLID:
        return str
    if leaf is GraphQLBoolean:
        return bool
    return None


def row_plan(item_type: GraphQLObjectType) -> tuple[type, dict[str, tuple[Any, ...]]] | None:
    """For a fast type whose nodes are ``FromModel`` wrappers of a row: the node class and,
    per plain field whose reader is a plain row read (``_ROW_READERS``, installed with the
    readers), how to read it from the row directly. None for any other type."""
    if item_type in _ROW_PLANS:
        return _ROW_PLANS[item_type]
    definition = (item_type.extensions or {}).get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    readers = origin.__dict__.get("_ROW_READERS") if isinstance(origin, type) else None
    if readers is None:
        if isinstance(origin, type) and hasattr(origin, "_install_readers"):
            return None  # readers not installed yet (no node built): ask again later
        _ROW_PLANS[item_type] = None
        return None
    if hasattr(origin, "__await__") or hasattr(origin, _CAST_ATTRIBUTE):
        _ROW_PLANS[item_type] = None
        return None
    fields: dict[str, tuple[Any, ...]] = {}
    for name, (getter, leaf, non_null, _memo) in _plan(item_type).items():
        if getter.__class__ is not str or getter not in readers:
            continue
        attr, conv = readers[getter]
        memo: dict[Any, Any] | None = {} if isinstance(leaf, GraphQLEnumType) else None
        fields[name] = (attr, conv, leaf, non_null, memo, _identity_class(leaf))
    found: tuple[type, dict[str, tuple[Any, ...]]] | None = None
    if fields and isinstance(origin, type):
        found = (origin, fields)
    _ROW_PLANS[item_type] = found
    return found


def all_nodes_of(origin: type, items: list[Any]) -> bool:
    """Every item is a node of exactly ``origin``, not cast to another type: graphql-core's
    ``is_type_of`` would say yes and none of them is awaitable."""
    return all(item.__class__ is origin and _CAST_ATTRIBUTE not in item.__dict__
               for item in items)


def row_column(entry: tuple[Any, ...], items: list[Any]) -> list[Any]:
    """The completed values of one plain field for nodes of one type, read from their rows:
    the reader's conversion, then the leaf type's output coercion (skipped where it is the
    identity; memoised per raw value for enums)."""
    attr, conv, leaf, non_null, memo, ident = entry
    out: list[Any] = []
    append = out.append
    for item in items:
        value = getattr(item._m, attr)
        if value is None:
            if non_null:  # the normal path raises the located error
                raise _Fallback
            append(None)
            continue
        if memo is not None:
            coerced = memo.get(value)
            if coerced is None:
                coerced = leaf.coerce_output_value(conv(value) if conv is not None else value)
                if coerced is None or coerced is Undefined:
                    raise _Fallback
                memo[value] = coerced
            append(coerced)
            continue
        if conv is not None:
            value = conv(value)
        if value.__class__ is ident:
            append(value)
            continue
        coerced = leaf.coerce_output_value(value)
        if coerced is None or coerced is Undefined:
            raise _Fallback
        append(coerced)
    return out
