"""The values a service verb takes, declared on the verb: a value it does not take is refused
with a message, never silently dropped (issue 13: a form field nobody reads would look saved to
the user). ``@accepts(...)`` on a verb that takes a dict of values (``data``) checks its keys on
every call, whichever door calls it; ``accepted_keys(verb)`` lets a door check a form before it
calls, and lets a test prove that every form field reaches its verb."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any, TypeVar

from portal.services.errors import N_, ValidationFailed

F = TypeVar("F", bound=Callable[..., Any])
ATTRIBUTE = "accepted_keys"
NOT_ACCEPTED = N_("%(label)s is not accepted by this action; nothing was changed.")


def not_accepted(name: str) -> ValidationFailed:
    """The one refusal of a value an action does not take ("此操作不接受 X，未做任何更改。")."""
    return ValidationFailed(NOT_ACCEPTED, field=name, label=name)


def check_keys(data: Mapping[str, Any] | None, allowed: Iterable[str]) -> None:
    """``ValidationFailed`` naming the first key of ``data`` not in ``allowed``."""
    allowed = set(allowed)
    refused = sorted(str(k) for k in (data or {}) if k not in allowed)
    if refused:
        raise not_accepted(refused[0])


def accepts(*names: str, arg: str = "data") -> Callable[[F], F]:
    """Declare the keys of the verb's ``arg`` (a dict of values) that it reads; any other key
    is refused before the verb runs (nothing is read or written)."""

    def decorate(fn: F) -> F:
        params = list(inspect.signature(fn).parameters)
        index = params.index(arg)

        @wraps(fn)
        def checked(*args: Any, **kwargs: Any) -> Any:
            data = kwargs[arg] if arg in kwargs else args[index] if len(args) > index else None
            check_keys(data, names)
            return fn(*args, **kwargs)

        setattr(checked, ATTRIBUTE, frozenset(names))
        return checked  # type: ignore[return-value]

    return decorate


def accepted_keys(fn: Callable[..., Any] | None) -> frozenset[str] | None:
    """The keys a verb declared with ``@accepts`` (through ``@verb``'s wrapper), or None."""
    return getattr(fn, ATTRIBUTE, None) if fn is not None else None
