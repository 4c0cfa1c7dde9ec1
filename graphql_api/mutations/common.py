"""How every mutation answers: a payload with ``ok``, ``errors: [UserError!]!`` and the
``result`` (re-read through the policy scope after the write; null if it left your scope).

A DomainError from the service (validation, rule, not found, forbidden, conflict) becomes a
UserError with the field (camelCase input name), a code and the translated message; the
service rolled back, so nothing changed. Anything else is masked as "Unexpected error".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry
from flask_babel import gettext
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.permissions import ShownError, _camel
from portal.services.errors import DomainError

T = TypeVar("T")


@strawberry.type(description="Why a mutation was refused. Nothing was changed.")
class UserError:
    field: str | None = strawberry.field(description="The input field at fault (camelCase).")
    code: str = strawberry.field(
        description="validation | rule | not_found | forbidden | conflict | invalid")
    message: str = strawberry.field(description="Translated, ready to show.")
    rule: str | None = strawberry.field(description="The company rule id (R-…), if any.")


@strawberry.type
class Payload(Generic[T]):
    ok: bool
    errors: list[UserError]
    result: T | None


def user_error(exc: DomainError) -> UserError:
    return UserError(field=_camel(exc.field) if exc.field else None, code=exc.code,
                     message=exc.translated(gettext), rule=exc.rule)


def refused(ctx: Any, exc: DomainError | ShownError) -> Payload:
    """The payload of a refused call: a rule's error as it is, a bad argument as a
    validation error (its changes rolled back)."""
    if isinstance(exc, DomainError):
        return Payload(ok=False, errors=[user_error(exc)], result=None)
    ctx.session.rollback()
    return Payload(ok=False, errors=[UserError(
        field=exc.extensions.get("field"), code="validation", message=str(exc),
        rule=None)], result=None)


def run(info: Info, cls: Any, call: Callable[[Any, Any], Any], *,
        reread: bool = True) -> Payload:
    """``call(session, user)`` runs the service verb; answer with a payload. The result is
    re-read through the policy scope (``reread``) unless the type has no scope of its own."""
    ctx = info.context
    try:
        obj = call(ctx.session, ctx.user)
    except (DomainError, ShownError) as exc:
        return refused(ctx, exc)
    except Exception:
        ctx.session.rollback()
        raise
    result = None
    if cls is not None and obj is not None:
        fresh = ctx.loaders.get(type(obj), obj.id) if reread else obj
        result = cls.from_model(fresh, Batch([fresh])) if fresh is not None else None
    return Payload(ok=True, errors=[], result=result)


def data_of(value: Any, *, ids: dict[str, str] | None = None) -> dict[str, Any]:
    """Plain dict of the fields the client actually sent (UNSET left out); global ids in
    ``ids`` (field → type name) become integers; enums become their values."""
    from enum import Enum

    from graphql_api.ids import expect_id

    out: dict[str, Any] = {}
    for name, field_value in vars(value).items():
        if field_value is strawberry.UNSET:
            continue
        if ids and name in ids and field_value is not None:
            field_value = expect_id(field_value, ids[name], _camel(name))
        elif isinstance(field_value, Enum):
            field_value = field_value.value
        out[name] = field_value
    return out
