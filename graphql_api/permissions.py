"""Errors shown to the client (everything else is masked) and the field-visibility guard."""

from __future__ import annotations

from typing import Any

from strawberry.types import Info

from portal.services import credit_reads


class ShownError(Exception):
    """An error whose message is safe to show (bad argument, forbidden field, bad cursor)."""

    def __init__(self, message: str, *, code: str = "BAD_REQUEST", **extra: Any) -> None:
        super().__init__(message)
        self.extensions = {"code": code, **extra}


class FieldForbidden(ShownError):
    def __init__(self, type_name: str, field_name: str) -> None:
        super().__init__(f"You are not allowed to read {type_name}.{field_name}.",
                         code="FORBIDDEN", field=field_name)


def check_visible(info: Info, node: Any, name: str) -> None:
    """Raise FORBIDDEN (the field becomes ``null``) unless policy ``visible_fields`` lets the
    user read ``name`` on this row. Does not touch the attribute (no lazy load)."""
    if name not in info.context.loaders.visible(node._m, node._b.model):
        raise FieldForbidden(type(node).__strawberry_definition__.name, _camel(name))


def guard(info: Info, node: Any, name: str) -> Any:
    """The value of a column in a field group, or FORBIDDEN."""
    check_visible(info, node, name)
    model_name = type(node).__strawberry_definition__.name
    if name in credit_reads.credit_fields(model_name):  # audited once per request (R-AUD-1)
        credit_reads.note(model_name, node._m.id)
    return getattr(node._m, name)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
