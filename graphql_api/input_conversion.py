"""Input objects (filters, mutation inputs) built with their fields' conversion worked out
once per type, through Strawberry's documented ``from_input`` hook of the type definition.

Strawberry's default conversion works out, for every field of an input object and on every
request, its GraphQL name (a camel-case conversion) and its resolved type (generic checks):
about 50 µs for a ``CustomerFilter`` of ten fields, most of them null — a tenth of what a
small query costs inside GraphQL execution. ``InputBuilder`` does the same steps in the same
order with those two worked out once: a field the client omitted keeps the class default (a
required-less field without default gets None, as Strawberry does), a null stays None, and
every other value goes through Strawberry's own ``convert_argument`` (``InputContext.convert``)
with the same type and path, so nested inputs, lists, enums, IDs and their errors are
Strawberry's. A field of a ``Maybe`` type (null handling of its own) is left to Strawberry
entirely by not installing the builder on its type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLInputObjectType
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import InputContext
from strawberry.types.base import StrawberryMaybe, StrawberryObjectDefinition


class InputBuilder:
    """``from_input`` of one input type definition (see the module docstring)."""

    def __init__(self, definition: StrawberryObjectDefinition, config: Any) -> None:
        self.definition = definition
        self.config = config
        self._fields: list[tuple[str, str, Any]] | None = None
        self._defaults: dict[str, None] = {}

    def _prepare(self) -> list[tuple[str, str, Any]]:
        definition = self.definition
        fields = [(self.config.name_converter.from_field(f), f.python_name,
                   f.resolve_type(type_definition=definition)) for f in definition.fields]
        # what Strawberry passes for an input field without default the client omitted
        self._defaults = {f.python_name: None for f in definition.fields
                          if f.default_value is dataclasses.MISSING
                          and f.default_factory is dataclasses.MISSING}
        self._fields = fields
        return fields

    def __call__(self, cls: type, value: Mapping[str, Any], context: InputContext) -> Any:
        fields = self._fields if self._fields is not None else self._prepare()
        kwargs: dict[str, Any] = dict(self._defaults)
        convert = context.convert
        for graphql_name, python_name, type_ in fields:
            if graphql_name not in value:
                continue
            given = value[graphql_name]
            # a null converts to None for every type but Maybe (not installed there)
            kwargs[python_name] = None if given is None else convert(given, type_,
                                                                      graphql_name)
        return cls(**kwargs)


def _has_maybe(definition: StrawberryObjectDefinition) -> bool:
    return any(isinstance(f.resolve_type(type_definition=definition), StrawberryMaybe)
               for f in definition.fields)


def install(schema: Any) -> list[StrawberryObjectDefinition]:
    """Install an ``InputBuilder`` on every input type of ``schema`` that has no
    ``from_input`` of its own and no ``Maybe`` field; the definitions it was installed on."""
    done = []
    for gql_type in schema._schema.type_map.values():
        if not isinstance(gql_type, GraphQLInputObjectType):
            continue
        definition = (gql_type.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if not isinstance(definition, StrawberryObjectDefinition) or not definition.is_input \
                or definition.from_input is not None or _has_maybe(definition):
            continue
        definition.from_input = InputBuilder(definition, schema.config)
        done.append(definition)
    return done
