"""Grants in force for a user and the three questions of the one policy: ``can``, ``scope``
and ``visible_fields`` (read once per transaction; changes apply on the next request). The
tables they read (``DEFAULT_GRANTS``, ``MODEL_AREA``, ``SCOPE_FILTERS``, ``FIELD_GROUPS``) are
in ``portal/policy.py``; split out of it, import these names from there."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    Select,
    and_,
    column,
    event,
    false,
    func,
    not_,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, object_session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import BooleanClauseList, ColumnElement, Grouping

import models
from models import ConfidentialFile, Grant, User
from portal.policy_loans import LOAN_VERBS, on_loan, widening, widening_applies
from portal.policy_rows import _ALL, _in_scope

_CACHE_KEY = "policy_grants"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_grants(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


def roles_of(user: Any) -> frozenset[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(user.roles)


def _grant_table(user: User) -> Mapping[tuple[str, str], frozenset[str]]:
    session = object_session(user)
    roles = roles_of(user)
    if not roles:
        return {}
    cache: dict[tuple[int, frozenset[str]], Mapping] | None = None
    if session is not None:
        cache = session.info.setdefault(_CACHE_KEY, {})
        hit = cache.get((user.id, roles))
        if hit is not None:
            return hit
        rows = session.execute(select(Grant.area, Grant.action, Grant.scope)
                               .where(Grant.role.in_(roles))).all()
    else:
        rows = [(a, act, s) for r in roles for (a, act, s) in _policy.DEFAULT_GRANTS.get(r, [])]
    frozen = _frozen(rows)
    if cache is not None:
        cache[(user.id, roles)] = frozen
    return frozen


# separators of the grants column read with a user's token (``grants_column``): control
# characters, which no area, action or scope name contains
_FIELD_SEP, _ROW_SEP = "\x1f", "\x1e"


def grants_column(user_id: Any) -> Any:
    """A scalar subquery: the grant rows (area, action, scope) of the roles in force of the
    user ``user_id`` (a column), as one string. Selected with the user (the API-token lookup),
    it saves the grants statement of a request; ``prime_grants`` files it where ``_grant_table``
    looks, for this transaction only (changes apply from the next request, as before)."""
    from sqlalchemy import func

    from models import RoleAssignment

    # correlated with the outer statement's row explicitly: two levels down, auto-correlation
    # does not reach it, and the roles of EVERY token's owner were read (a salesperson's token
    # got the general manager's "all")
    in_force = (select(RoleAssignment.role)
                .where(RoleAssignment.user_id == user_id, RoleAssignment.revoked_at.is_(None))
                .correlate_except(RoleAssignment))
    row = Grant.area + _FIELD_SEP + Grant.action + _FIELD_SEP + Grant.scope
    return (select(func.aggregate_strings(row, _ROW_SEP))
            .where(Grant.role.in_(in_force)).scalar_subquery())


def prime_grants(session: Session, user: User, packed: str | None) -> None:
    """File the grants read by ``grants_column`` in the same statement as ``user`` and its
    role assignments (so they agree) as this transaction's grant table of the user."""
    roles = roles_of(user)
    if not roles:
        return
    table = _unpacked(packed or "")
    if table is None:
        return  # not what grants_column writes: let _grant_table read the table
    session.info.setdefault(_CACHE_KEY, {})[(user.id, roles)] = table


@functools.lru_cache(maxsize=512)
def _unpacked(packed: str) -> Mapping[tuple[str, str], frozenset[str]] | None:
    """The grant table written in ``packed`` (a pure function of the text, so the same text —
    the same roles' grants, read afresh each request — is parsed once; read-only)."""
    rows = [tuple(r.split(_FIELD_SEP)) for r in packed.split(_ROW_SEP) if r]
    if any(len(r) != 3 for r in rows):
        return None
    return MappingProxyType(_frozen(rows))


def _frozen(rows: Any) -> dict[tuple[str, str], frozenset[str]]:
    table: dict[tuple[str, str], set[str]] = {}
    for area, action, scope_name in rows:
        table.setdefault((area, action), set()).add(scope_name)
    return {k: (frozenset({_ALL}) if _ALL in v else frozenset(v)) for k, v in table.items()}


def _usable(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) \
        and getattr(user, "is_active", False)


def split_action(action: str, target: Any = None) -> tuple[str, str]:
    if "." in action:
        area, verb = action.split(".", 1)
        return area, verb
    model = target if isinstance(target, type) else type(target)
    area = _policy.MODEL_AREA.get(model)
    if area is None:
        raise KeyError(f"no policy area for {model!r}")
    return area, action


def scopes_for(user: Any, action: str, target: Any = None) -> frozenset[str]:
    """The scopes under which ``user`` may do ``action`` (empty: not at all)."""
    if not _usable(user):
        return frozenset()
    area, verb = split_action(action, target)
    if verb not in _policy.READ_ACTIONS and roles_of(user) & _policy.READ_ONLY_ROLES \
            and (area, verb) not in _policy.READ_ONLY_EXEMPT:
        return frozenset()  # R-ROLE-3: auditors never write, whatever the grants say
    return _grant_table(user).get((area, verb), frozenset())


def is_read_only(user: Any) -> bool:
    return bool(roles_of(user) & _policy.READ_ONLY_ROLES)


def can(user: Any, action: str, target: Any = None) -> bool:
    """May ``user`` do ``action`` to ``target`` (a model class: on some rows; an instance:
    on that row)? ``action`` is ``"area.verb"`` or a bare verb with a model target."""
    scopes = scopes_for(user, action, target)
    if not scopes:
        return False
    if target is None or isinstance(target, type | str):
        return True
    if not any(_in_scope(user, s, target) for s in scopes) and not (
            split_action(action, target)[1] in LOAN_VERBS and on_loan(user, target)):
        return False  # neither in the row scope nor read through a loan (R-CUST-9)
    if isinstance(target, ConfidentialFile) and split_action(action, target)[1] in (
            "view", "download", "export"):
        return _policy.can_read_file(user, target)
    return True


def scope(stmt: Select, user: Any, model: type, action: str = "view",
          per_row: bool = False, borrowed: bool = True) -> Select:
    """Restrict ``stmt`` (selecting ``model``) to the rows ``user`` may ``action``.

    ``per_row``: the statement already picks a few rows by id (a relationship loaded for a
    page of parents); the same rule is then written in the form that checks those rows one
    by one (see ``_via_customer``). The rows allowed are the same either way.

    ``borrowed``: whether an archive on loan to the user counts for a ``view`` (R-CUST-9).
    A service verb's ``unit.load`` passes False: a loan is for reading pages and answers, and
    a write that loads its record "for viewing" (registering a complaint or a visit against an
    archive, evaluating its credit) must not reach a borrowed archive."""
    if per_row and not _selects_from(stmt, model):
        per_row = False  # the EXISTS must correlate with the model's rows of the statement
    condition = _scope_condition(user, model, action, per_row, borrowed)
    if condition is not true():
        stmt = stmt.where(condition)
    return stmt


def _scope_condition(user: Any, model: type, action: str, per_row: bool,
                     borrowed: bool) -> ColumnElement[bool]:
    """The condition ``scope`` adds: ``true()`` itself when every row is allowed."""
    full_action = action if "." in action else f"{_policy.MODEL_AREA[model]}.{action}"
    scopes = scopes_for(user, full_action, model)
    if not scopes:
        return false()
    build = _policy.SCOPE_FILTERS.get(model)
    if build is None:
        return false()
    if _ALL in scopes:
        condition: ColumnElement[bool] = true()
    else:
        condition = _row_condition(model, build, user, scopes, per_row)
    if borrowed and full_action.split(".")[1] in LOAN_VERBS and _ALL not in scopes:
        lent = widening(user, model)  # an archive on loan is read like one in scope
        if lent is not None:
            condition = or_(condition, lent)
    if model is ConfidentialFile and full_action.split(".")[1] in ("view", "download", "export"):
        condition = and_(condition, _policy.file_read_filter(user))
    return condition


def scope_key(user: Any, model: type, action: str = "view", per_row: bool = False,
              borrowed: bool = True) -> tuple[Any, ...] | None:
    """A hashable key of the condition ``scope`` (and ``scope_ordered``) adds for ``user``
    on ``model``: two calls with equal keys add the same SQL with the same bound values, so a
    statement built over the scope can be reused without building the scope again. None when
    the condition cannot be keyed this way (a rule reading the clock or a setting, a loan in
    force, the user's branch or department not loaded): then build the statement itself.

    The key holds what ``_scope_condition`` reads: the scopes granted (which already reflect
    the roles, R-ROLE-3 and R-ROLE-4), the SQL form (``per_row``) and, for a row rule, the
    user's id, branch and department (``_PURE_RULES``, the same key as the condition cache).
    ``per_row`` is the caller's: ``scope`` may drop it for a statement it cannot correlate,
    which depends only on the statement's columns, not on the user."""
    full_action = action if "." in action else f"{_policy.MODEL_AREA[model]}.{action}"
    verb = full_action.split(".")[1]
    scopes = scopes_for(user, full_action, model)
    if not scopes or _policy.SCOPE_FILTERS.get(model) is None:
        return (model, full_action, "none")  # false(): no row
    if model is ConfidentialFile and verb in ("view", "download", "export"):
        return None  # the clearance rule reads today's date (``file_read_filter``)
    if _ALL in scopes:
        return (model, full_action, _ALL)  # true(): every row, no loan widening
    state = getattr(user, "__dict__", {})
    if model not in _PURE_RULES or any(k not in state for k in _USER_KEYS):
        return None
    if borrowed and verb in LOAN_VERBS and widening_applies(user, model):
        return None  # the widening's bound values hold the time of the request
    return (model, full_action, scopes, per_row, state["id"], state["branch_id"],
            state["department_id"])


def scope_ordered(stmt: Select, user: Any, model: type, keys: list[Any], descending: bool,
                  limit: int, action: str = "view") -> Select:
    """``scope(stmt, user, model, action)`` in the order of ``keys`` (columns of ``stmt``,
    the last one unique), its first ``limit`` rows: the same rows in the same order.

    For a model in ``ORDERED_PARTS`` whose row rule is an OR of parts (a supervisor's
    customers: the ones they own OR their branch's), each part is read as its own ordered,
    limited select and the parts are merged: PostgreSQL cannot walk an index in the page's
    order through an OR, so it walks the primary key and filters (5,050 customers for a page
    of 101 of a branch holding 2 % of them), where each part alone follows its
    ``(owner_id, id)`` / ``(branch_id, id)`` index and reads about the page. Only in the
    primary key's order (``keys`` is the id alone): no index serves a part in another order,
    and there the OR is as cheap (measured: bench/notes/2026-11-29-supervisor-sql.md). A row is read by
    the first part it matches only (the later parts exclude the earlier ones, NULL as no), so
    no row comes twice; the first ``limit`` rows of the whole are among the first ``limit``
    of their part. ``stmt`` selects plain columns (not entities)."""
    cond = _scope_condition(user, model, action, False, True)
    parts = _disjuncts(cond) if model in _policy.ORDERED_PARTS and len(keys) == 1 else [cond]
    names = [k.key for k in keys]
    selected = {c.key for c in stmt.selected_columns}
    if len(parts) < 2 or any(n not in selected for n in names):
        ordered = stmt if cond is true() else stmt.where(cond)
        return ordered.order_by(*[k.desc() if descending else k.asc() for k in keys]) \
            .limit(limit)
    # the parts' rows by column name (``column``, typed as ``stmt``'s): a subquery's ``.c``
    # would build a proxy of every column, three times a request
    out = [column(str(c.key), c.type) for c in stmt.selected_columns]
    branches = []
    for i, part in enumerate(parts):
        earlier = [not_(func.coalesce(p, false())) for p in parts[:i]]
        one = (stmt.where(part, *earlier)
               .order_by(*[k.desc() if descending else k.asc() for k in keys]).limit(limit)
               .subquery(f"scope_part_{i + 1}"))
        branches.append(select(*out).select_from(one))
    merged = union_all(*branches).subquery("scope_parts")
    by: list[Any] = [column(n) for n in names]
    return select(*out).select_from(merged).order_by(
        *[k.desc() if descending else k.asc() for k in by]).limit(limit)


def _disjuncts(condition: Any) -> list[ColumnElement[bool]]:
    """The parts of an OR (nested ORs flattened); any other condition is its own one part."""
    while isinstance(condition, Grouping):
        condition = condition.element
    if isinstance(condition, BooleanClauseList) and condition.operator is operators.or_:
        return [p for c in condition.clauses for p in _disjuncts(c)]
    return [condition]


# The models whose row rule (``SCOPE_FILTERS``) is a pure function of the scope names, the SQL
# form (``per_row``) and the user's id, branch and department: nothing read from the clock, a
# setting or a table while building it (the classified files' rule reads today's date, so it
# is not here). Their conditions are built once per such key and reused: SQL expressions are
# immutable, and the key holds everything the rule reads, so a user moved to another branch
# gets the other condition from the next request; the grants (which scopes) are still read
# per transaction. A loan's widening and the file clearance rule are added per call.
_PURE_RULES: frozenset[type] = frozenset({
    models.Customer, models.CustomerContact, models.FollowUp, models.OwnerChange,
    models.CustomerCorrection, models.CorrectionRequest, models.CustomerTransaction,
    models.CreditEvaluation, models.CreditLine, models.OverLimitApproval,
    models.CreditUsageReview, models.Receivable, models.Complaint, models.ComplaintEvent,
    models.ComplaintReminder, models.CreditApproval, models.ReceivableSettlement,
    models.ArchiveLoan, User, models.Branch, models.Department, models.AuditEntry,
    models.RoleAssignment, models.ApiToken, models.Notification})
_CONDITIONS: dict[tuple, ColumnElement[bool]] = {}
_CONDITIONS_MAX = 4096
_USER_KEYS = ("id", "branch_id", "department_id")


def _row_condition(model: type, build: Any, user: Any, scopes: frozenset[str],
                   per_row: bool) -> ColumnElement[bool]:
    """``or_`` of the row rule of each scope (the policy's ``SCOPE_FILTERS``), from the cache
    of pure rules when the user's id, branch and department are loaded (never loads them)."""
    state = getattr(user, "__dict__", {})
    if model not in _PURE_RULES or any(k not in state for k in _USER_KEYS):
        return or_(*[build(user, s, per_row) for s in sorted(scopes)])
    key = (model, scopes, per_row, state["id"], state["branch_id"], state["department_id"])
    condition = _CONDITIONS.get(key)
    if condition is None:
        condition = or_(*[build(user, s, per_row) for s in sorted(scopes)])
        if len(_CONDITIONS) >= _CONDITIONS_MAX:
            _CONDITIONS.clear()
        _CONDITIONS[key] = condition
    return condition


def _selects_from(stmt: Select, model: type) -> bool:
    """Whether the statement selects columns of the model's table (what the per-row EXISTS
    correlates with). Only the columns clause is looked at: it is cheap, where computing the
    final FROM list costs up to a millisecond; a statement that does not qualify simply keeps
    the list form."""
    return model.__table__ in stmt.columns_clause_froms


def _viewable_names(user: Any, model: type) -> set[str]:
    """Every field of ``model`` but the never-visible ones, or none when ``user`` may not
    view the model at all: what the field groups are then taken away from."""
    from sqlalchemy import inspect as sa_inspect

    if not scopes_for(user, "view", model):
        return set()
    mapper: Any = sa_inspect(model)
    names = {a.key for a in mapper.column_attrs} | {r.key for r in mapper.relationships}
    return names - _policy.NEVER_VISIBLE


def visible_fields(user: Any, model: type, obj: Any = None) -> frozenset[str]:
    """Fields of ``model`` that ``user`` may read (on ``obj`` if given)."""
    names = _viewable_names(user, model)
    for group, fields in _policy.FIELD_GROUPS.get(model, {}).items():
        if model is User and obj is not None and getattr(user, "id", None) == obj.id:
            continue  # everyone reads their own account
        if not group_visible(user, group, obj):
            names -= fields
    return frozenset(names)


def visible_on_every_row(user: Any, model: type) -> frozenset[str]:
    """Fields of ``model`` that ``user`` may read on EVERY row: ``visible_fields`` of any row
    contains them (a field group granted in scope ``all``, or not depending on the row).
    A list answered without its rows in Python (graphql_api.json_detail) reads these
    fields as plain columns; the others stay a per-row decision of ``visible_fields``."""
    names = _viewable_names(user, model)
    for group, fields in _policy.FIELD_GROUPS.get(model, {}).items():
        if group == "user_private":
            every_row = group_visible(user, group)  # does not depend on the row
        else:
            every_row = _ALL in scopes_for(user, f"{group}.view")  # _in_scope: always
        if not every_row:
            names -= fields
    return frozenset(names)


def group_visible(user: Any, group: str, obj: Any = None) -> bool:
    """Whether a field group (``customer_contact``, ``customer_credit``, …) is readable."""
    if group == "user_private":
        return bool(scopes_for(user, "user.change")) or bool(scopes_for(user, "user.set_clearance")) \
            or is_read_only(user) and bool(scopes_for(user, "user.view"))
    scopes = scopes_for(user, f"{group}.view")
    if not scopes:
        return False
    if obj is None:
        return True
    return any(_in_scope(user, s, obj) for s in scopes) or on_loan(user, obj)


# at the end: ``portal.policy`` imports this module at its top (either may be imported first)
from portal import policy as _policy  # noqa: E402
