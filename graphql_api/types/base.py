"""What every object type shares: the ``Node`` interface, construction from a model row with
an explicit field list, and scoped relationship helpers."""

from __future__ import annotations

import enum
from typing import Any, TypeVar

import strawberry
from strawberry.types import Info

from graphql_api.ids import to_global
from graphql_api.loaders import Batch

T = TypeVar("T")


@strawberry.interface(description='An object with a global id "Type:id".')
class Node:
    id: strawberry.ID


class FromModel:
    """Mixin: ``from_model(row, batch)`` copies exactly ``SCALARS`` (converting ``ENUMS``) —
    never the whole row, so a new column is not exposed by accident."""

    SCALARS: tuple[str, ...] = ()
    ENUMS: dict[str, type[enum.Enum]] = {}

    @classmethod
    def from_model(cls, m: Any, batch: Batch | None = None) -> Any:
        values: dict[str, Any] = {}
        for name in cls.SCALARS:
            value = getattr(m, name)
            conv = cls.ENUMS.get(name)
            if conv is not None and value is not None:
                value = conv(value)
            values[name] = value
        return cls(id=strawberry.ID(to_global(cls.__strawberry_definition__.name, m.id)),  # type: ignore[call-arg, attr-defined]
                   database_id=m.id, _m=m, _b=batch or Batch([m]), **values)


def one(info: Info, node: Any, fk_attr: str, model: type, cls: Any) -> Any:
    """A to-one relationship, loaded for the whole batch and scoped (out of scope: null)."""
    fk = getattr(node._m, fk_attr)
    if fk is None:
        return None
    mapping, batch = info.context.loaders.to_one(node._b, fk_attr, model)
    obj = mapping.get(fk)
    return cls.from_model(obj, batch) if obj is not None else None


def many(info: Info, node: Any, model: type, fk_col: Any, cls: Any,
         order_by: tuple[Any, ...] = ()) -> list[Any]:
    """A to-many relationship, loaded for the whole batch and scoped (hidden rows absent)."""
    grouped, batch = info.context.loaders.to_many(node._b, model, fk_col, order_by)
    return [cls.from_model(o, batch) for o in grouped.get(node._m.id, ())]
