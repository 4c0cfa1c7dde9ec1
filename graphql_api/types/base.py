"""What every object type shares: the ``Node`` interface, construction from a model row with
an explicit field list, and scoped relationship helpers."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

import strawberry
from strawberry.types import Info

from graphql_api.ids import to_global
from graphql_api.loaders import Batch
from portal import policy_loans
from portal.services import archive_loans, credit_reads

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


@strawberry.interface(description='An object with a global id "Type:id".')
class Node:
    id: strawberry.ID


class FromModel:
    """Mixin: a node wraps one row (an ORM object or a plain row) and exposes exactly
    ``SCALARS`` (converting ``ENUMS``) — never the whole row, so a new column is not exposed by
    accident.

    ``from_model`` does not copy anything: the node's fields are properties reading the row
    when (and only if) the query selects them, so a page of a thousand rows does not pay for
    the sixteen columns nobody asked for."""

    SCALARS: tuple[str, ...] = ()
    # Opt-in per type (``FAST_RESOLVERS = True`` in the class body): a promise that the
    # type's resolvers only read (through the request's scoped loaders) and raise nothing but
    # the FORBIDDEN of a guarded field, so graphql_api.execution may call them directly, for
    # a whole level of the answer at once. A resolver with a side effect (an audit entry, …)
    # must not be on such a type (tests/graphql/test_graphql_fast_execution.py checks it).
    FAST_RESOLVERS: ClassVar[bool] = False
    ENUMS: dict[str, type[enum.Enum]] = {}

    @classmethod
    def from_model(cls, m: Any, batch: Batch | None = None) -> Any:
        if "_readers_installed" not in cls.__dict__:
            cls._install_readers()
        node = object.__new__(cls)
        d = node.__dict__
        d["_m"] = m
        d["_b"] = batch if batch is not None else Batch([m])
        # a row of an archive (the customer or what hangs off it) is noted so that a read of
        # a borrowed archive is audited with its loan once the answer is complete (R-CUST-9)
        model = batch.model if batch is not None and batch.model is not None else type(m)
        if model in policy_loans.COVERED:
            archive_loans.note_read(model, m)
        return node

    @classmethod
    def _install_readers(cls) -> None:
        """Turn the exposed fields into read-only properties over the row. Done on first use,
        after Strawberry has read the class (a property in the class body would look like a
        default value to the dataclass machinery); nodes are never built with ``__init__``."""
        type_name = cls.__strawberry_definition__.name  # type: ignore[attr-defined]
        credit = credit_reads.credit_fields(type_name)

        def make(name: str, conv: Any) -> property:
            if name in credit:  # a credit amount: the request's audit entry names the row
                def read_credit(self: Any) -> Any:
                    credit_reads.note(type_name, self._m.id)
                    value = getattr(self._m, name)
                    return conv(value) if conv is not None and value is not None else value
                return property(read_credit)
            if conv is None:
                return property(lambda self: getattr(self._m, name))

            def read(self: Any) -> Any:
                value = getattr(self._m, name)
                return conv(value) if value is not None else None
            return property(read)

        for name in cls.SCALARS:
            setattr(cls, name, make(name, cls.ENUMS.get(name)))
        cls.id = property(  # type: ignore[assignment]
            lambda self: strawberry.ID(to_global(type_name, self._m.id)))
        cls.database_id = property(lambda self: self._m.id)  # type: ignore[attr-defined]
        # what the fast executor may read from the row directly, without the property:
        # python name -> (row attribute, conversion of a non-null value); the credit fields
        # are not here (their reader notes the read for the audit entry)
        readers: dict[str, tuple[str, Any]] = {
            name: (name, cls.ENUMS.get(name)) for name in cls.SCALARS if name not in credit}
        readers["id"] = ("id", functools.partial(to_global, type_name))
        readers["database_id"] = ("id", None)
        cls._ROW_READERS = readers  # type: ignore[attr-defined]
        cls._readers_installed = True  # type: ignore[attr-defined]


def relation(kind: str, key: Any, model: type, order_by: tuple[Any, ...] = ()
             ) -> Callable[[F], F]:
    """Mark a resolver whose body is exactly ``one(info, self, key, model, <its type>)``
    (``kind`` "one", ``key`` the foreign-key attribute) or ``many(info, self, model, key,
    <its type>, order_by)`` (``kind`` "many", ``key`` the child's foreign-key column): the
    fast executor may then answer it for a whole level from rows (graphql_api.execution_rows)
    with the same loader call. A resolver that checks a field group or computes anything
    must not be marked."""
    def mark(fn: F) -> F:
        fn._relation = (kind, key, model, tuple(order_by))  # type: ignore[attr-defined]
        return fn
    return mark


def one_row(visible: str | None, relation: tuple[Any, ...] | None = None
            ) -> Callable[[F], F]:
    """Mark a resolver that is exactly ``guard(info, self, visible)`` (``relation`` None), or
    ``check_visible(info, self, visible)`` (when ``visible`` is given) followed by the
    ``one``/``many`` call ``relation`` describes (``(kind, key, model, order_by)``, as for
    ``relation``), for a relationship the row path completes through its nodes (a field
    group's list, a model loaded as ORM objects). Only the answer for ONE row picked by id
    (graphql_api.json_detail) reads the mark: it asks the policy's ``visible`` for that row
    first, and leaves the row path to answer (and refuse) when a field is not visible."""
    def mark(fn: F) -> F:
        fn._one_row = (visible, relation)  # type: ignore[attr-defined]
        return fn
    return mark


def one(info: Info, node: Any, fk_attr: str, model: type, cls: Any) -> Any:
    """A to-one relationship, loaded for the whole batch and scoped (out of scope: null)."""
    fk = getattr(node._m, fk_attr)
    if fk is None:
        return None
    cols = info.context.loaders.wanted(info, cls, model)
    mapping, batch = info.context.loaders.to_one(node._b, fk_attr, model, cols)
    obj = mapping.get(fk)
    return cls.from_model(obj, batch) if obj is not None else None


def many(info: Info, node: Any, model: type, fk_col: Any, cls: Any,
         order_by: tuple[Any, ...] = ()) -> list[Any]:
    """A to-many relationship, loaded for the whole batch and scoped (hidden rows absent)."""
    cols = info.context.loaders.wanted(info, cls, model, extra=(fk_col.key,))
    grouped, batch = info.context.loaders.to_many(node._b, model, fk_col, order_by, cols)
    return [cls.from_model(o, batch) for o in grouped.get(node._m.id, ())]
