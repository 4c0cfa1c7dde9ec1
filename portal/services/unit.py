"""The transaction boundary of a service verb.

``@verb`` commits on success. On a domain error it rolls back; a ``PermissionDenied`` also
leaves exactly one 'denied' audit entry, committed on its own after the rollback (R-ROLE-3,
security F). Verbs that call other verbs use ``other_verb.inner`` to stay in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models.enums import AuditOutcome
from portal import audit
from portal.services.errors import (
    N_,
    Conflict,
    DomainError,
    NotFound,
    OutOfScope,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)

P = ParamSpec("P")
R = TypeVar("R")


def record_denied(session: Session, actor: Any, exc: DomainError,
                  default_action: str | None = None) -> None:
    """Roll the business transaction back, then commit one 'denied' entry on its own
    (R-AUD-4: recorded even when the request is rolled back), with the rule and reason."""
    session.rollback()
    action = getattr(exc, "action", None) or exc.audit_action or default_action or "unknown"
    target = getattr(exc, "target", None) if isinstance(exc, PermissionDenied | OutOfScope) \
        else exc.audit_target
    detail = exc.translated()
    if exc.rule:
        detail = f"{exc.rule}: {detail}"
    if isinstance(exc, Conflict):
        seen = f" (version {exc.seen} seen, {exc.current} current)" if exc.seen is not None \
            else ""
        detail = f"optimistic lock{seen}: {detail}"
    audit.record(session, actor, action, _audit_target(target),
                 outcome=AuditOutcome.DENIED.value, detail=detail[:2000])
    session.commit()
    exc.audited = True  # callers that record refusals themselves must not record it twice


def _audit_target(target: Any) -> Any:
    """A target that may have been expired by the rollback: name it by type and id."""
    if target is None or isinstance(target, str | type | tuple):
        return target
    from sqlalchemy import inspect as sa_inspect

    try:
        ident = sa_inspect(target).identity
    except Exception:
        return target
    return (type(target).__name__, ident[0] if ident else None)


def _verb_name(func: Callable[..., Any]) -> str:
    module = func.__module__.rsplit(".", 1)[-1]
    return f"{module}.{func.__name__}"


def verb(func: Callable[P, R]) -> Callable[P, R]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        session: Session = args[0]  # type: ignore[assignment]
        actor = args[1] if len(args) > 1 else kwargs.get("actor")
        try:
            result = func(*args, **kwargs)
            session.commit()
            return result
        except (PermissionDenied, OutOfScope, RuleViolation, Conflict) as exc:
            # a stale version is a refused attempt too (R-AUD-4), recorded with its reason
            record_denied(session, actor, exc, _verb_name(func))
            raise
        except DomainError:
            session.rollback()
            raise
        except StaleDataError as exc:
            conflict = Conflict()
            record_denied(session, actor, conflict, _verb_name(func))
            raise conflict from exc
        except IntegrityError as exc:
            conflict = Conflict(N_("The change conflicts with existing data (%(detail)s)."),
                                detail=str(exc.orig).splitlines()[0][:200])
            record_denied(session, actor, conflict, _verb_name(func))
            raise conflict from exc

    wrapper.inner = func  # type: ignore[attr-defined]
    return wrapper


NO_VERSION = -1  # what a door passes when the form or input did not carry a version
MISSING_VERSION = N_("The form does not say which version of the record you saw: reload the "
                     "page and make the change again.")


def form_version(raw: Any) -> int:
    """The version an edit or workflow form says the user saw, or ``NO_VERSION``."""
    text = str(raw).strip() if raw is not None else ""
    return int(text) if text.isdigit() and len(text) <= 9 else NO_VERSION


def row_versions(rows: Any) -> str:
    """What a form acting on several rows carries: ``"id:version,…"`` of the rows shown."""
    return ",".join(f"{r.id}:{r.version}" for r in rows)


def form_versions(raw: Any) -> dict[int, int]:
    """The versions a several-row form says the user saw (``row_versions``); a row missing
    from it gets ``NO_VERSION`` from ``seen_version``."""
    seen: dict[int, int] = {}
    for part in str(raw or "").split(",")[:500]:
        ident, _, version = part.partition(":")
        if ident.strip().isdigit() and form_version(version) != NO_VERSION:
            seen[int(ident)] = form_version(version)
    return seen


def seen_version(versions: dict[int, int], row: Any) -> int:
    return versions.get(int(row.id), NO_VERSION)


def check_version(obj: Any, expected: int | None) -> None:
    """Web forms and API inputs carry the version the user saw; a different one is a conflict.
    Optimistic locking is not optional for them: a door passes ``NO_VERSION`` when the form or
    input carried none, which is refused with a clear message (after the grant check, so a
    refused attempt is still audited as denied). ``None`` is for the system's own calls."""
    if expected is None:
        return
    if int(expected) == NO_VERSION:
        raise ValidationFailed(MISSING_VERSION, field="version")
    if int(expected) != obj.version:
        raise Conflict(audit_target=obj, seen=int(expected), current=obj.version)


M = TypeVar("M")


def load(session: Session, actor: Any, model: type[M], ident: Any, action: str = "view") -> M:
    """Load one row through the policy. Missing and out-of-scope ids give the same NotFound;
    the out-of-scope one is also audited as denied (via ``@verb``)."""
    from sqlalchemy import select

    from portal import policy

    try:
        pk = int(ident)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not -(2**31) <= pk < 2**31:  # beyond the integer column: no such row, not a 500
        raise NotFound()
    pk_col = model.__table__.primary_key.columns.values()[0]  # type: ignore[attr-defined]
    # a loan (R-CUST-9) is for reading pages and answers, never for a verb's record
    obj = session.scalar(policy.scope(select(model), actor, model, action, borrowed=False)
                         .where(pk_col == pk))
    if obj is not None:
        return obj
    if session.get(model, pk) is not None:
        raise OutOfScope(action if "." in action else f"{policy.MODEL_AREA[model]}.{action}",
                         (model.__name__, pk))
    raise NotFound()
