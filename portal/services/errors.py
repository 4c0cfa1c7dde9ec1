"""Domain errors. Messages are English msgids marked with ``N_`` so pybabel extracts them;
the edges (admin views, GraphQL) translate them with their parameters."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a message for extraction without translating it here (no Flask in services)."""
    return message


class Term(str):
    """A message parameter that is itself a msgid (a field label, a unit): translated with
    the message."""

    __slots__ = ()


# Parameters that name a field (``key="phone"``) are shown as the field's label in the
# reader's language, never as the identifier ("已存在 电话 相同的客户档案").
FIELD_PARAMS = frozenset({"key", "field_name"})
FIELD_LABELS = {
    "name": N_("customer name"), "phone": N_("phone number"),
    "credit_code": N_("unified social credit code"),
}


class DomainError(Exception):
    """A refused request with a clear message; nothing was changed."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None,
                 audit_action: str | None = None, audit_target: Any = None,
                 **params: Any) -> None:
        self.message = message
        self.field = field
        self.rule = rule
        # what the denied audit entry names (R-AUD-4); the verb's name when not given
        self.audit_action = audit_action
        self.audit_target = audit_target
        self.params = params
        super().__init__(message % params if params else message)

    def translated(self, gettext: Any = None) -> str:
        text = gettext(self.message) if gettext else self.message
        params = {k: gettext(v) if gettext and isinstance(v, Term) else v
                  for k, v in self.params.items()}
        if gettext and any(k in FIELD_PARAMS for k in params):
            params = {k: gettext(FIELD_LABELS[v]) if k in FIELD_PARAMS and v in FIELD_LABELS
                      else v for k, v in params.items()}
        try:
            return text % params if params else text
        except (KeyError, ValueError, TypeError):
            return self.message % self.params if self.params else self.message


class ValidationFailed(DomainError):
    code = "validation"


class RuleViolation(DomainError):
    """A company rule (R-…) refuses the request."""

    code = "rule"


class NotFound(DomainError):
    """Missing, or outside the user's scope: the two answers are identical on purpose."""

    code = "not_found"

    def __init__(self, message: str = N_("Not found."), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class PermissionDenied(DomainError):
    """The policy refuses. ``action`` and ``target`` feed the single 'denied' audit entry."""

    code = "forbidden"

    def __init__(self, action: str, target: Any = None,
                 message: str = N_("You are not allowed to do this."), **kwargs: Any) -> None:
        super().__init__(message, audit_action=action, audit_target=target, **kwargs)
        self.action = action
        self.target = target


class Conflict(DomainError):
    """Someone else changed the record since it was read (optimistic lock)."""

    code = "conflict"

    def __init__(self, message: str = N_(
            "This record was changed by someone else since you opened it. "
            "Reload it and apply your change again."), *, seen: int | None = None,
            current: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        # the version the user saw and the record's (for the denied audit entry, R-AUD-4)
        self.seen = seen
        self.current = current


class OutOfScope(NotFound):
    """The row exists but the user may not see it: answered exactly like ``NotFound``, but
    recorded in the audit log as a denied attempt."""

    def __init__(self, action: str, target: object = None) -> None:
        super().__init__(audit_action=action, audit_target=target)
        self.action = action
        self.target = target
