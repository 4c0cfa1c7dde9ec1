"""ONE record with its relationships answered by one PostgreSQL statement (``node(id:)``).

The root field ``node(id:)`` loads its row through the scope (``Loaders.get``) and audits a
hidden node as before; its selection (a customer with its owner, contacts, complaints, credit
lines, files, …) is then completed here, on PostgreSQL with ``GRAPHQL_JSON_STATEMENT`` on, by
ONE statement built by ``json_statement._Builder`` instead of one per relationship plus the
node objects:

- the top level is that row, picked by id (``Loaders.plain``: the scoped read has picked it,
  and today's path outputs it as it is);
- a guarded field (a field group: ``phone``, ``outstandingBalance``, ``contacts``) is decided
  HERE, in Python, by the policy for this one row (``Loaders.visible``, exactly what
  ``permissions.check_visible`` asks): when every guarded field selected is visible, they are
  plain columns (and relationships) of this statement; when one is not, nothing is run and
  today's path answers and writes its FORBIDDEN error;
- each relationship level is the same scoped select the loaders run (``policy.scope``);
  ``files``, which the loaders read as ORM objects, is the same scope over its columns;
- the notes are those of the row path: the credit amounts read (R-AUD-1, the guard's
  ``credit_reads.note``), the rows of archive-covered models (R-CUST-9), recorded only once
  the answer is known to be good (the top row was noted by ``from_model`` already).

Anything else — a field without a twin, arguments, directives, a node that is not one ORM row
of a root field, SQLite, a mutation, a row gone meanwhile, a null in a non-null field — leaves
the object to today's path, which answers exactly as before.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import orjson
from graphql import GraphQLObjectType, OperationType
from sqlalchemy import Integer, Text, bindparam, case, cast, exists, func, select
from sqlalchemy import inspect as sa_inspect

from graphql_api.execution_plans import _LEAF, _LIST_OBJECT, _OBJECT, _identity_class, _resolved
from graphql_api.execution_rows import compilable, origin_of, relation_of, row_fields
from graphql_api.json_sql import SENTINEL, SENTINEL_SQL
from graphql_api.json_statement import (
    _PAGE_IDS,
    _bounded,
    _Builder,
    _document_key,
    _fingerprint,
    _NoPlan,
    _on_postgresql,
    _Planned,
    _record,
    _select,
)
from graphql_api.loaders import light
from portal import policy
from portal.services import credit_reads

log = logging.getLogger(__name__)

# (document key, "detail") → the levels' (model, columns, top), or None: no plan; then
# (that key, the levels' fingerprints) → the statement
_LEVELS: OrderedDict[tuple[Any, ...], tuple[list[tuple[Any, Any, bool]], list[Any]] | None] = \
    OrderedDict()
_STATEMENTS: OrderedDict[tuple[Any, ...], _Planned] = OrderedDict()


class _Unknown:
    """A document not planned yet."""


_UNKNOWN = _Unknown()


def _top(ctx: Any, item_type: GraphQLObjectType, details: Any, node: Any, model: Any
         ) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The selection's guarded fields as row entries and its relationships not marked
    ``relation`` (``types.base.one_row``), when every field is one a statement can answer
    and the policy lets the user read every guarded one on this row; None otherwise."""
    fields = row_fields(item_type)
    if fields is None:
        return None
    grouped, new_defer_usages, _ = ctx.collect_subfields(item_type, details)
    if new_defer_usages:
        return None
    resolved = _resolved(item_type, ctx.schema)
    scalars: dict[str, Any] = {}
    relations: dict[str, Any] = {}
    visible: frozenset[str] | None = None
    for sub in grouped.values():
        field = sub[0].node
        if field.arguments or field.directives:
            return None
        name = field.name.value
        if name == "__typename" or name in fields:
            continue
        spec = resolved.get(name)
        if spec is None:
            return None
        marked = relation_of(spec)
        if marked is not None:
            if not compilable(ctx, spec.inner, sub, _every_row(ctx, spec.inner, marked[2])):
                return None
            continue
        mark = getattr(spec.fn, "_one_row", None)
        if mark is None:
            return None
        if mark[0] is not None:
            if visible is None:
                visible = ctx.context_value.loaders.visible(node._m, model)
            if mark[0] not in visible:
                return None  # today's path writes the FORBIDDEN error
        found = _marked(ctx, item_type, model, spec, sub, mark)
        if found is None:
            return None
        (relations if mark[1] is not None else scalars)[name] = found
    return scalars, relations


def _marked(ctx: Any, item_type: GraphQLObjectType, model: Any, spec: Any, sub: Any,
            mark: tuple[str | None, Any]) -> Any:
    """A ``one_row`` field the policy lets the user read: its relationship, or its row
    entry (``execution_rows.row_fields``' form) — what ``permissions.guard`` returns,
    noted as a credit read when it is one (R-AUD-1); None: no plan."""
    guarded, relation = mark
    if relation is not None:
        shape = _OBJECT if relation[0] == "one" else _LIST_OBJECT
        if spec.shape != shape or not compilable(ctx, spec.inner, sub,
                                                 _every_row(ctx, spec.inner, relation[2])):
            return None
        return relation
    if guarded is None or spec.shape != _LEAF or guarded not in _column_keys(model):
        return None
    credit = item_type.name if guarded in credit_reads.credit_fields(item_type.name) else None
    return (guarded, None, spec.inner, spec.non_null, None, _identity_class(spec.inner),
            credit)


def _every_row(ctx: Any, item_type: GraphQLObjectType, model: Any) -> dict[str, Any]:
    """The guarded columns of ``item_type`` (``one_row`` marks without a relationship) read
    at a level of many rows: as plain columns where the policy lets the user read them on
    every row (``visible_on_every_row``), else decided per row in the statement by the
    policy's own row condition of the field group (``policy.scope`` for
    ``<group>.view``, as the customer search does): a row that may not show it makes the
    answer ``SENTINEL``, and today's path answers with its FORBIDDEN error. Memoised per
    request."""
    loaders = ctx.context_value.loaders
    memo = loaders.__dict__.setdefault("_json_every_row", {})
    key = (item_type, model)
    found = memo.get(key)
    if found is None:
        found = {}
        visible = None
        for name, spec in _resolved(item_type, ctx.schema).items():
            mark = getattr(spec.fn, "_one_row", None)
            if mark is None or mark[0] is None or mark[1] is not None:
                continue
            if visible is None:
                visible = policy.visible_on_every_row(loaders.user, model)
            entry = _marked(ctx, item_type, model, spec, None, mark)
            if entry is None:
                continue
            if mark[0] not in visible:
                action = _group_action(model, mark[0])
                if action is None:
                    continue
                entry = (*entry, _PerRow(loaders.user, model, action))
            found[name] = entry
        memo[key] = found
    return found


def _group_action(model: Any, name: str) -> str | None:
    """``<group>.view`` of the field group holding ``name`` (None: no such group)."""
    for group, fields in policy.FIELD_GROUPS.get(model, {}).items():
        if name in fields and group != "user_private":
            return f"{group}.view"
    return None


class _PerRow:
    """A guarded column's text, or ``SENTINEL`` on a row where the policy's row condition of
    its field group does not hold (the builder calls it with the level's rows)."""

    __slots__ = ("action", "model", "user")

    def __init__(self, user: Any, model: Any, action: str) -> None:
        self.user, self.model, self.action = user, model, action

    def condition(self, rows: Any = None) -> Any:
        """The policy's scoped select of the row (``rows``: the level's rows; None: the
        same select for the cache key)."""
        model = self.model
        stmt = select(model.id)
        if rows is not None:
            stmt = stmt.where(model.id == rows.c.id)
        return policy.scope(stmt, self.user, model, self.action, per_row=True)

    def __call__(self, rows: Any, twin: Any) -> Any:
        return case((exists(self.condition(rows)), twin), else_=SENTINEL_SQL)


class _Nested:
    """The builder's ``nested``: ``_every_row``, remembering which levels asked (their
    answers are part of the statement's cache key)."""

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.asked: list[tuple[Any, Any]] = []

    def __call__(self, item_type: GraphQLObjectType, model: Any) -> dict[str, Any]:
        self.asked.append((item_type, model))
        return _every_row(self.ctx, item_type, model)


def _signature(ctx: Any, asked: list[tuple[Any, Any]]) -> tuple[Any, ...]:
    """What the statement's guarded columns depend on: which ones are read, and the
    structure and values of each per-row condition (another user's may differ)."""
    out: list[Any] = []
    for t, m in asked:
        for name, entry in sorted(_every_row(ctx, t, m).items()):
            out.append((t.name, m.__name__, name,
                        _fingerprint(entry[7].condition()) if len(entry) > 7 else None))
    return tuple(out)


def _column_keys(model: Any) -> frozenset[str]:
    return frozenset(a.key for a in sa_inspect(model).column_attrs) - policy.NEVER_VISIBLE


def json_detail(ctx: Any, item_type: GraphQLObjectType, details: Any, node: Any
                ) -> orjson.Fragment | None:
    """The completed object ``node`` (a root field's ONE row, an ORM object its resolver
    read through the scope) as one JSON statement's text, or None: nothing was run or
    recorded, today's path answers."""
    loaders = getattr(ctx.context_value, "loaders", None)
    if loaders is None or ctx.operation.operation is not OperationType.QUERY:
        return None  # a mutation's rows may have changes the statement would not see
    batch = getattr(node, "_b", None)
    if batch is None or node.__class__ is not origin_of(item_type):
        return None
    model, obj = batch.model, node._m
    if model is None or len(batch.objs) != 1 or batch.objs[0] is not obj \
            or not isinstance(obj, model) or not light(model) \
            or not hasattr(model, "__table__") or not _on_postgresql(loaders):
        return None
    try:
        top = _top(ctx, item_type, details, node, model)
        planned = None if top is None else _statement(ctx, item_type, details, model,
                                                      loaders, top)
    except Exception:  # a plan that cannot be built is today's path, never a wrong answer
        log.exception("JSON detail statement not built; the row path answers")
        return None
    if planned is None:
        return None
    found = planned.run(loaders.session, str(int(obj.id)))
    count, body = found[0], found[1]
    if count != 1 or body is None or SENTINEL in body:
        return None  # the row gone meanwhile, a null in a non-null field: today's path
    _record(planned.notes, found[2:])
    return orjson.Fragment(body)


def _statement(ctx: Any, item_type: GraphQLObjectType, details: Any, model: Any,
               loaders: Any, top: tuple[dict[str, Any], dict[str, Any]]) -> _Planned | None:
    doc = _document_key(ctx, item_type, details)
    if doc is None:
        return None
    doc += ("detail", tuple(sorted(top[0])), tuple(sorted(top[1])))
    known = _LEVELS.get(doc, _UNKNOWN)
    if known is _UNKNOWN:
        try:
            stmt, notes, builder = _build(ctx, item_type, details, model, loaders, None, top)
            asked = builder.nested.asked
            key = (doc, tuple(_fingerprint(s) for s in builder.made), _signature(ctx, asked))
        except _NoPlan:
            _bounded(_LEVELS, doc, None)
            return None
        _bounded(_LEVELS, doc, (builder.levels, asked))
        return _remember(key, stmt, notes)
    if known is None or isinstance(known, _Unknown):
        return None
    levels, asked = known
    selects = [_select(loaders, m, c, is_top) for m, c, is_top in levels]
    try:
        key = (doc, tuple(_fingerprint(s) for s in selects), _signature(ctx, asked))
    except _NoPlan:
        return None
    hit = _STATEMENTS.get(key)
    if hit is not None:
        return hit
    try:
        stmt, notes, _builder = _build(ctx, item_type, details, model, loaders, selects, top)
    except _NoPlan:
        return None
    return _remember(key, stmt, notes)


def _remember(key: tuple[Any, ...], stmt: Any, notes: list[Any]) -> _Planned:
    planned = _Planned(stmt, notes)
    _bounded(_STATEMENTS, key, planned)
    return planned


def _build(ctx: Any, item_type: GraphQLObjectType, details: Any, model: Any, loaders: Any,
           selects: list[Any] | None, top: tuple[dict[str, Any], dict[str, Any]]
           ) -> tuple[Any, list[Any], _Builder]:
    """The row's statement: how many rows it found (1), its JSON text, and the ids to note;
    the row's id is its one parameter."""
    builder = _Builder(ctx, loaders, selects, None, top, _Nested(ctx))
    rows, source, text, notes = builder.level(item_type, details, model, ())
    picked = cast(bindparam(_PAGE_IDS, type_=Text), Integer)
    columns = [func.count(), func.max(text)] + [func.max(ids) for _note, ids in notes]
    stmt = select(*columns).select_from(source).where(rows.c.id == picked)
    return stmt, [note for note, _ids in notes], builder
