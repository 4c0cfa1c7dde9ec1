"""Relationship levels completed from rows (``GRAPHQL_ROW_LEVELS``): the per-row cost of a list.

The fast path of graphql_api.execution completes a list level by level, but a relationship
(``owner``, ``creditLines``, ``complaints`` of a page of customers) still costs, per parent
row, one resolver call (``types.base.one`` / ``many``: the loaders' memo look-ups, then a node
object per related row) before the next level is completed from those nodes. Here a
relationship whose resolver is marked with ``types.base.relation`` (its body is exactly
``one(...)`` / ``many(...)`` of the marked arguments) is answered for the whole level at once:

- the related rows are loaded by the same loader call the resolver makes (``Loaders.to_one``
  / ``to_many`` with the same ``wanted`` columns and the same batch, so the same scoped
  statement, once per level: statements per request stay constant in page size, and the row
  scope is ``policy.scope`` as everywhere);
- the next level is completed straight from those rows (no node objects): ids, plain columns,
  enums and further marked relationships, read and coerced exactly like the node properties
  (``FromModel._ROW_READERS`` and the leaf types' own output coercion);
- what the nodes would have noted is noted: every row of an archive-covered model for the
  archive-loan read audit (R-CUST-9, ``archive_loans.note_read``) and every credit amount read
  for the credit-read audit entry (R-AUD-1, ``credit_reads.note``).

Only a sub-selection made entirely of such fields (aliases allowed; ``__typename``) is taken
this way; anything else — a guarded field (field groups), a computed field, arguments,
directives, fragments of another type — leaves the relationship to the node path, which
answers as before. A null in a non-null position raises ``_Fallback``: the whole list then goes
through graphql-core, as on the node path.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLEnumType, GraphQLObjectType, Undefined

from graphql_api.execution_plans import (
    _LIST_OBJECT,
    _OBJECT,
    _Fallback,
    _identity_class,
    _plan,
    _Resolved,
    _resolved,
)
from portal import policy_loans
from portal.services import archive_loans, credit_reads

# item type → {field name: (row attribute, conversion, leaf, non-null, memo, identity class,
# credit type name or None)}, or None when the type's nodes do not wrap rows
_FIELDS: dict[GraphQLObjectType, dict[str, tuple[Any, ...]] | None] = {}


def origin_of(item_type: GraphQLObjectType) -> Any:
    definition = (item_type.extensions or {}).get("strawberry-definition")
    return getattr(definition, "origin", None)


def row_fields(item_type: GraphQLObjectType) -> dict[str, tuple[Any, ...]] | None:
    """How each plain field of a row-backed fast type is read from a row: its reader's
    attribute and conversion, credit amounts included (marked with the type name to note)."""
    if item_type in _FIELDS:
        return _FIELDS[item_type]
    origin = origin_of(item_type)
    found: dict[str, tuple[Any, ...]] | None = None
    if isinstance(origin, type) and hasattr(origin, "_install_readers") \
            and getattr(origin, "FAST_RESOLVERS", False) is True:
        if "_readers_installed" not in origin.__dict__:
            origin._install_readers()
        readers = origin.__dict__["_ROW_READERS"]
        type_name = item_type.name
        credit = credit_reads.credit_fields(type_name)
        enums = getattr(origin, "ENUMS", {})
        found = {}
        for name, (getter, leaf, non_null, _memo) in _plan(item_type).items():
            if getter.__class__ is not str:
                continue
            memo: dict[Any, Any] | None = {} if isinstance(leaf, GraphQLEnumType) else None
            if getter in readers:
                attr, conv = readers[getter]
                found[name] = (attr, conv, leaf, non_null, memo, _identity_class(leaf), None)
            elif getter in credit and getter in getattr(origin, "SCALARS", ()):
                found[name] = (getter, enums.get(getter), leaf, non_null, memo,
                               _identity_class(leaf), type_name)
    _FIELDS[item_type] = found
    return found


def relation_of(spec: _Resolved) -> tuple[Any, ...] | None:
    """The marked relationship of a resolved field (``types.base.relation``), or None."""
    if spec.shape not in (_OBJECT, _LIST_OBJECT):
        return None
    return getattr(spec.fn, "_relation", None)


def compilable(ctx: Any, item_type: GraphQLObjectType, details: Any,
               leaves: Any = ()) -> bool:
    """Whether the sub-selection ``details`` on ``item_type`` is made only of fields this
    module completes from rows (checked before anything is loaded or noted); ``leaves``:
    more field names read as columns at this level (graphql_api.json_detail)."""
    fields = row_fields(item_type)
    if fields is None:
        return False
    if leaves:
        fields = {**fields, **{name: () for name in leaves}}
    grouped, new_defer_usages, _ = ctx.collect_subfields(item_type, details)
    if new_defer_usages:
        return False
    resolved = None
    for sub in grouped.values():
        node = sub[0].node
        if node.arguments or node.directives:
            return False
        name = node.name.value
        if name == "__typename" or name in fields:
            continue
        if resolved is None:
            resolved = _resolved(item_type, ctx.schema)
        spec = resolved.get(name)
        if spec is None or relation_of(spec) is None:
            return False
        if not compilable(ctx, spec.inner, sub):
            return False
    return True


def _values(attr: str, rows: list[Any]) -> list[Any]:
    """``getattr(row, attr)`` for every row; by position for plain rows of one statement."""
    fields = getattr(rows[0], "_fields", None)
    if fields is not None and attr in fields:
        i = fields.index(attr)
        return [row[i] for row in rows]
    return [getattr(row, attr) for row in rows]


def _leaf_column(entry: tuple[Any, ...], rows: list[Any]) -> list[Any]:
    """What the node's reader and the leaf type's output coercion give for every row."""
    attr, conv, leaf, non_null, memo, ident, credit_type = entry
    if credit_type is not None:  # the node's reader notes every read (R-AUD-1)
        credit_reads.note_many(credit_type, _values("id", rows))
    values = _values(attr, rows)
    if memo is not None:  # an enum: memoised per raw value
        out = [memo.get(v) for v in values]
        if None not in out:
            return out
    elif conv is None and ident is not None and all(v.__class__ is ident for v in values):
        return values  # strings and booleans come out unchanged
    elif conv is not None and ident is not None and None not in values:
        out = [conv(v) for v in values]  # ids: "Type:pk"
        if all(v.__class__ is ident for v in out):
            return out
    return [_leaf(entry, v) for v in values]


def _leaf(entry: tuple[Any, ...], value: Any) -> Any:
    _attr, conv, leaf, non_null, memo, ident, _credit = entry
    if value is None:
        if non_null:  # the normal path raises the located error
            raise _Fallback
        return None
    raw = value
    if conv is not None:
        value = conv(value)
    if value.__class__ is ident:
        return value
    coerced = leaf.coerce_output_value(value)
    if coerced is None or coerced is Undefined:
        raise _Fallback
    if memo is not None:
        memo[raw] = coerced
    return coerced


def relation_column(ctx: Any, spec: _Resolved, relation: tuple[Any, ...], info: Any,
                    raw_info: Any, details: Any, path: Any, batch: Any,
                    parent_rows: list[Any]) -> list[Any]:
    """The completed values of a marked relationship for ``parent_rows`` (rows of one batch,
    ``batch``): one loader call for all of them, the next level completed from rows."""
    kind, key, model, order_by = relation
    child_type = spec.inner
    cls = origin_of(child_type)
    loaders = info.context.loaders
    if kind == "one":
        fks = [getattr(r, key) for r in parent_rows]
        if all(fk is None for fk in fks):  # ``one`` loads nothing then
            if spec.non_null:
                raise _Fallback
            return [None] * len(parent_rows)
        mapping, child_batch = loaders.to_one(batch, key, model,
                                              loaders.wanted(info, cls, model))
        # each related row is completed once, however many parents share it (the owner of
        # a page of customers): the parents' values are that one completed object
        distinct = list({fk: mapping[fk] for fk in fks if fk in mapping}.items())
        done = complete_rows(ctx, child_type, details, raw_info, path, child_batch,
                             [row for _fk, row in distinct])
        by_fk = {fk: value for (fk, _row), value in zip(distinct, done, strict=True)}
        values = [by_fk.get(fk) for fk in fks]
        if spec.non_null and None in values:
            raise _Fallback
        return values
    grouped, child_batch = loaders.to_many(batch, model, key, order_by,
                                           loaders.wanted(info, cls, model,
                                                          extra=(key.key,)))
    lists = [grouped.get(r.id, ()) for r in parent_rows]
    flat = [row for rows in lists for row in rows]
    done = complete_rows(ctx, child_type, details, raw_info, path, child_batch, flat)
    out: list[Any] = []
    start = 0
    for rows in lists:
        end = start + len(rows)
        out.append(done[start:end])
        start = end
    return out


def complete_rows(ctx: Any, item_type: GraphQLObjectType, details: Any, info: Any, path: Any,
                  batch: Any, rows: list[Any]) -> list[Any]:
    """The completed objects of ``item_type`` for ``rows`` (all of ``batch``), the
    sub-selection being ``compilable``."""
    if not rows:
        return []
    model = batch.model
    if model in policy_loans.COVERED:  # what FromModel.from_model notes (R-CUST-9)
        archive_loans.note_reads(model, _values("id", rows))
    fields = row_fields(item_type)
    assert fields is not None
    grouped, _defer, _ = ctx.collect_subfields(item_type, details)
    item_path = path.add_key(0, item_type.name)
    names: list[str] = []
    columns: list[list[Any]] = []
    for response_name, sub in grouped.items():
        name = sub[0].node.name.value
        names.append(response_name)
        if name == "__typename":
            columns.append([item_type.name] * len(rows))
            continue
        entry = fields.get(name)
        if entry is not None:
            columns.append(_leaf_column(entry, rows))
            continue
        spec = _resolved(item_type, ctx.schema)[name]
        relation = relation_of(spec)
        assert relation is not None
        sub_path = item_path.add_key(response_name, None)
        raw_info = ctx.build_resolve_info(spec.field_def, [d.node for d in sub], item_type,
                                          sub_path)
        sub_info = spec.info_class(_raw_info=raw_info, _field=spec.field)
        columns.append(relation_column(ctx, spec, relation, sub_info, raw_info, sub,
                                       sub_path, batch, rows))
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
