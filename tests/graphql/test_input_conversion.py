"""Input objects built by ``graphql_api.input_conversion.InputBuilder`` (Strawberry's
``from_input`` hook) are exactly what Strawberry's own conversion builds, for every input type
of the schema: fields omitted, all null, each field given, all given, nested inputs and lists,
and the same error for a value Strawberry refuses (a malformed ID)."""

from __future__ import annotations

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
)
from graphql.utilities import coerce_input_value
from strawberry.types.arguments import InputContext, convert_argument

from graphql_api.input_conversion import InputBuilder
from graphql_api.schema import FAST_INPUTS, schema

_SCALARS = {"String": "引号\"x", "ID": "Customer:1", "Int": 7, "Float": 1.5, "Boolean": True,
            "DateTime": "2026-11-29T08:30:00+08:00", "Date": "2026-11-29",
            "Decimal": "12345.67", "JSON": {"a": 1}}


def _sample(gql_type):
    """A JSON value of ``gql_type`` (as a client sends it), or None when there is none."""
    if isinstance(gql_type, GraphQLNonNull):
        return _sample(gql_type.of_type)
    if isinstance(gql_type, GraphQLList):
        inner = _sample(gql_type.of_type)
        return None if inner is None else [inner, inner]
    if isinstance(gql_type, GraphQLEnumType):
        return next(iter(gql_type.values))
    if isinstance(gql_type, GraphQLInputObjectType):
        return {name: _sample(f.type) for name, f in gql_type.fields.items()
                if _sample(f.type) is not None}
    if isinstance(gql_type, GraphQLScalarType):
        return _SCALARS.get(gql_type.name)
    return None


def _values(gql_type: GraphQLInputObjectType) -> list[dict]:
    """Coerced input values (what graphql-core hands Strawberry) of several shapes."""
    required = {n: _sample(f.type) for n, f in gql_type.fields.items()
                if isinstance(f.type, GraphQLNonNull)}
    raw = [dict(required),
           {**{n: None for n, f in gql_type.fields.items()
               if not isinstance(f.type, GraphQLNonNull)}, **required},
           {n: _sample(f.type) for n, f in gql_type.fields.items()
            if _sample(f.type) is not None}]
    for name, f in gql_type.fields.items():
        value = _sample(f.type)
        if value is not None:
            raw.append({**required, name: value})
    out = []
    for value in raw:
        try:
            out.append(coerce_input_value(value, gql_type))
        except Exception:  # a sample this type refuses (a custom scalar's format)
            continue
    return out


def _convert(definition, value, builder):
    saved = definition.from_input
    definition.from_input = builder
    try:
        return convert_argument(value, definition.origin, schema.schema_converter.scalar_registry,
                                schema.config, None, path=("arg",))
    except Exception as exc:  # compared below
        return ("raised", type(exc), str(exc))
    finally:
        definition.from_input = saved


@pytest.mark.parametrize("definition", FAST_INPUTS, ids=lambda d: d.name)
def test_input_builder_builds_what_strawberry_builds(definition) -> None:
    gql_type = schema._schema.type_map[definition.name]
    values = _values(gql_type)
    assert len(values) >= 3
    for value in values:
        ours = _convert(definition, value, definition.from_input)
        theirs = _convert(definition, value, None)
        assert ours == theirs, (definition.name, value)
        assert type(ours) is type(theirs)
        assert repr(ours) == repr(theirs)


def test_input_builder_refuses_what_strawberry_refuses() -> None:
    definition = next(d for d in FAST_INPUTS if d.name == "CustomerFilter")
    value = {"branch": "not-a-global-id", "owner": None}
    ours = _convert(definition, value, definition.from_input)
    theirs = _convert(definition, value, None)
    assert ours == theirs


def test_every_input_type_without_a_hook_of_its_own_is_built_by_the_builder() -> None:
    names = {d.name for d in FAST_INPUTS}
    inputs = {t.name for t in schema._schema.type_map.values()
              if isinstance(t, GraphQLInputObjectType)}
    assert {"CustomerFilter", "ComplaintFilter", "CustomerInput", "CustomerPatch"} <= names
    assert names == inputs
    assert all(isinstance(d.from_input, InputBuilder) for d in FAST_INPUTS)
    ctx = InputContext(info=None, config=schema.config,
                       scalar_registry=schema.schema_converter.scalar_registry, path=())
    built = next(d for d in FAST_INPUTS if d.name == "CustomerFilter").from_input(
        next(d for d in FAST_INPUTS if d.name == "CustomerFilter").origin,
        {"search": "张"}, ctx)
    assert built.search == "张" and built.branch is None
