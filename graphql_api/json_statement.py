"""A list answered by ONE PostgreSQL statement that builds its JSON (``GRAPHQL_JSON_STATEMENT``).

A list of row-backed nodes (the page of a connection, …) whose whole sub-selection is made of
fields the row path completes from rows (``execution_rows.compilable``: ids, columns, enums,
``__typename``, marked relationships) and whose every leaf has an exact SQL twin
(``json_sql.leaf_twin``) is answered by one statement instead of one per level plus per-row
building in Python:

- every relationship level is the SAME scoped select the loaders run today
  (``Loaders.scoped`` with the same columns, ``per_row``): the row scope is
  ``policy.scope``'s, nothing is re-written here; the list's own level is the rows it holds,
  picked by id (a page's rows come from ``paginate``'s scoped select, and today's path
  outputs a list's items as they are);
- a level's rows are the subquery of that select; a to-one relationship is a LATERAL subquery
  of the child's scoped select matched on the foreign key, a to-many one a LATERAL aggregate
  (``string_agg`` in the loaders' order) matched on the parent's id;
- each object's text is built with ``||`` in selection order (aliases, ``__typename``), so the
  body is byte for byte what today's path writes through orjson;
- further columns carry the ids that must be noted: credit amounts read (R-AUD-1,
  ``credit_reads.note_many``) and rows of archive-covered models (R-CUST-9,
  ``archive_loans.note_reads``), recorded only once the answer is known to be good.

The text is handed back as an ``orjson.Fragment``: the view's orjson writes it into the body
without parsing it again. A plan that cannot be built (a leaf without twin, a guarded or
computed field, arguments, directives) or an answer that contains ``json_sql.SENTINEL`` (a null
in a non-null position, an unknown enum value) leaves the list to today's path, which answers
(and reports errors) exactly as before.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any

import orjson
from graphql import GraphQLObjectType, OperationType
from sqlalchemy import ARRAY, Integer, Text, bindparam, cast, func, select, true
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from graphql_api.execution_plans import _resolved
from graphql_api.execution_rows import compilable, origin_of, relation_of, row_fields
from graphql_api.json_sql import SENTINEL, SENTINEL_SQL, cat, const, leaf_twin
from graphql_api.loaders import columns_for, light
from portal import policy, policy_loans
from portal.services import archive_loans, credit_reads

log = logging.getLogger(__name__)

# a note: ("credit", type name) or ("archive", model)
Note = tuple[str, Any]


class _NoPlan(Exception):
    """Some field of the selection has no exact SQL twin: today's path answers."""


def enabled() -> bool:
    """``GRAPHQL_JSON_STATEMENT`` of the current app (default on; off outside an app)."""
    from flask import current_app, has_app_context

    return has_app_context() and bool(current_app.config.get("GRAPHQL_JSON_STATEMENT", True))


def _on_postgresql(loaders: Any) -> bool:
    if loaders._pg is None:
        loaders._pg = loaders.session.get_bind().dialect.name == "postgresql"
    return bool(loaders._pg)


class _Builder:
    def __init__(self, ctx: Any, loaders: Any, selects: list[Any] | None,
                 page: Any = None, top: tuple[dict[str, Any], dict[str, Any]] | None = None,
                 nested: Any = None) -> None:
        """``selects``: the levels' scoped selects, in the order the builder asks for them;
        None: made here (``Loaders.scoped``) and kept in ``made``. ``page``: the list's own
        level is that connection page's select (``pagination.Page``), its rows numbered.
        ``top``: the top level is ONE row whose selection the caller has checked
        (graphql_api.json_detail): its fields read as columns (GraphQL name → row entry: the
        guarded fields the policy lets the user read on that row) and its relationships not
        marked ``relation`` (GraphQL name → ``(kind, key, model, order_by)``); ``nested``:
        ``(item type, model) →`` the guarded fields read as columns at a level below it
        (the ones the policy lets the user read on every row)."""
        self.ctx = ctx
        self.loaders = loaders
        self.page = page
        self.top = top
        self.nested = nested
        self.selects = iter(selects) if selects is not None else None
        # (model, columns, whether it is the list's own level) of each level, in order
        self.levels: list[tuple[Any, Any, bool]] = []
        self.made: list[Any] = []

    def scoped(self, item_type: GraphQLObjectType, grouped: Any, model: Any,
               extra: tuple[str, ...] = ()) -> Any:
        names = {sub[0].node.name.value for sub in grouped.values()}
        cls = origin_of(item_type)
        cols = columns_for(cls, model, names, extra)
        top = not self.levels
        self.levels.append((model, cols, top))
        if self.selects is None:
            chosen = _select(self.loaders, model, cols, top, self.page)
            self.made.append(chosen)
        else:
            chosen = next(self.selects)
        rows = chosen.subquery()
        if top and self.page is not None:
            rows = _numbered(rows, self.page)
        return rows

    def level(self, item_type: GraphQLObjectType, details: Any, model: Any, extra: tuple[str, ...],
              checked: bool = False
              ) -> tuple[Any, Any, ColumnElement[Any], list[tuple[Note, ColumnElement[Any]]]]:
        """The rows of a level (the scoped subquery), what to select from (with its
        relationships' LATERAL joins), each row's JSON text and its notes (ids as text).
        ``checked``: the caller has checked the selection (``top``, or a relationship of it)."""
        top = self.top if not self.levels else None
        more: dict[str, Any] = {}
        if top is None and self.nested is not None:
            more = self.nested(item_type, model)
        if not checked and top is None and (not light(model) or not compilable(
                self.ctx, item_type, details, more)):
            raise _NoPlan
        grouped, _defer, _ = self.ctx.collect_subfields(item_type, details)
        rows = self.scoped(item_type, grouped, model, extra)
        fields = row_fields(item_type) or {}
        relations: dict[str, Any] = {}
        if top is not None:
            fields = {**fields, **top[0]}
            relations = top[1]
        elif more:
            fields = {**fields, **more}
        source: Any = rows
        parts: list[Any] = ["{"]
        notes: list[tuple[Note, ColumnElement[Any]]] = []
        credit_type = None
        for i, (response_name, sub) in enumerate(grouped.items()):
            name = sub[0].node.name.value
            parts.append(("," if i else "") + f'"{response_name}":')
            if name == "__typename":
                parts.append(f'"{item_type.name}"')
                continue
            entry = fields.get(name)
            if entry is not None:
                col = rows.c.get(entry[0])
                twin = leaf_twin(entry[:7], col) if col is not None else None
                if twin is None:
                    raise _NoPlan
                if len(entry) > 7:  # a guarded column decided per row (json_detail)
                    twin = entry[7](rows, twin)
                parts.append(twin)
                credit_type = entry[6] or credit_type
                continue
            spec = _resolved(item_type, self.ctx.schema)[name]
            text, lateral, sub_notes = self.relation(spec, sub, rows, relations.get(name))
            source = source.outerjoin(lateral, true())
            parts.append(text)
            notes += sub_notes
        parts.append("}")
        if credit_type is not None:  # the node's reader notes every credit read (R-AUD-1)
            notes.append((("credit", credit_type), cast(rows.c.id, Text)))
        return rows, source, cat(*parts), notes

    def relation(self, spec: Any, details: Any, parent: Any, given: Any = None
                 ) -> tuple[ColumnElement[Any], Any, list[tuple[Note, ColumnElement[Any]]]]:
        """``given``: a relationship of the ``top`` row (checked by the caller), else the
        marked ``relation`` of ``spec``."""
        relation = given or relation_of(spec)
        assert relation is not None
        kind, key, model, order_by = relation
        child_type = spec.inner
        checked = given is not None
        if kind == "one":
            rows, source, text, notes = self.level(child_type, details, model, (), checked)
            match = rows.c.id == parent.c[key]
        else:
            order_keys = tuple(c.key for c in order_by or (model.id,))
            rows, source, text, notes = self.level(child_type, details, model,
                                                   (key.key, *order_keys), checked)
            match = rows.c[key.key] == parent.c.id
            text = cat("[", func.string_agg(text, aggregate_order_by(
                const(","), *[rows.c[k] for k in order_keys])), "]")
        if model in policy_loans.COVERED:  # what FromModel.from_model notes (R-CUST-9)
            notes = [*notes, (("archive", model), cast(rows.c.id, Text))]
        if kind == "many":
            notes = [(note, func.string_agg(ids, const(","))) for note, ids in notes]
        columns = [text.label("t")] + [ids.label(f"n{i}") for i, (_n, ids) in enumerate(notes)]
        lateral = select(*columns).select_from(source).where(match).lateral()
        empty = "null" if kind == "one" else "[]"
        if kind == "one" and spec.non_null:
            empty = SENTINEL
        value = func.coalesce(lateral.c.t, SENTINEL_SQL if empty == SENTINEL else const(empty))
        return value, lateral, [(n, lateral.c[f"n{i}"]) for i, (n, _ids) in enumerate(notes)]


# (operation text, offset of the list field, item type) → the levels' (model, columns), or
# None when the list has no plan; then (that key, the levels' scoped selects) → statement
_LEVELS: OrderedDict[tuple[Any, ...], list[tuple[Any, Any, bool]] | None] = OrderedDict()
_STATEMENTS: OrderedDict[tuple[Any, ...], _Planned] = OrderedDict()
# (that key, the levels' keys: ``_scope_key``) → the same statement, found without building
# the levels' selects
_BY_SCOPE: OrderedDict[tuple[Any, ...], _Planned] = OrderedDict()
_MAX_STATEMENTS = 256  # per worker process; the oldest goes first
_PAGE_IDS = "json_page_ids"


def _select(loaders: Any, model: Any, cols: Any, top: bool, page: Any = None) -> Any:
    """A level's rows: the loaders' scoped select of the relationship (``per_row``, as the
    row path loads it); for the list's own level, the page's own scoped select (``page``:
    ``pagination.Page.select``, n + 1 rows) or the rows the list holds, picked by id — the
    statement that produced them has applied the scope already, and today's path outputs the
    list's items as they are."""
    if top and page is not None:
        return page.select(cols)
    if top:
        return loaders.plain(model, cols)
    if not light(model):  # rows of a model the loaders read as ORM objects (a one-row
        # answer's files): the same scope, over the columns (graphql_api.json_detail)
        return policy.scope(loaders.plain(model, cols), loaders.user, model, "view", True)
    return loaders.scoped(model, cols=cols, per_row=True)


def _numbered(rows: Any, page: Any) -> Any:
    """The page's rows with their place (``json_rn``, in the page's order) and how many the
    page's select found (``json_n``: n + 1 of them means a next page exists)."""
    return select(rows, func.row_number().over(order_by=page.order_keys(rows)).label("json_rn"),
                  func.count().over().label("json_n")).subquery()


def _document_key(ctx: Any, item_type: GraphQLObjectType, details: Any) -> tuple[Any, ...] | None:
    """The list field's place in the operation's text: the same text is the same selection
    (a document parsed again per request gets new node objects, never a new meaning)."""
    locs = [d.node.loc for d in details]
    if any(loc is None for loc in locs):
        return None
    body = locs[0].source.body
    key: tuple[Any, ...] = (body, tuple(loc.start for loc in locs), item_type.name)
    if "@" in body:  # @include/@skip on a fragment: the selection depends on the variables
        variables = getattr(ctx.variable_values, "coerced", ctx.variable_values)
        if variables and not isinstance(variables, dict):
            return None
        try:
            values = _hashable(variables or {})
            hash(values)
        except TypeError:
            return None
        key += (values,)
    return key


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _fingerprint(select_: Any) -> tuple[Any, ...]:
    """A scoped select's structure and bound values: equal fingerprints, equal SQL."""
    key = select_._generate_cache_key()
    if key is None:
        raise _NoPlan
    return (key.key, tuple(_hashable(b.effective_value) for b in key.bindparams))


def _statement(ctx: Any, item_type: GraphQLObjectType, details: Any, model: Any,
               loaders: Any, page: Any = None) -> _Planned | None:
    doc = _document_key(ctx, item_type, details)
    if doc is None:
        return None
    if page is not None:
        doc += ("page",)
    if doc not in _LEVELS:
        try:
            stmt, notes, builder = _build(ctx, item_type, details, model, loaders, None, page)
            key = (doc, tuple(_fingerprint(s) for s in builder.made))
        except _NoPlan:
            _bounded(_LEVELS, doc, None)
            return None
        _bounded(_LEVELS, doc, builder.levels)
        return _by_scope(doc, builder.levels, loaders, page, _remember(key, stmt, notes))
    levels_ = _LEVELS.get(doc)
    if levels_ is None:
        return None
    scoped = _scope_key(doc, levels_, loaders, page)
    if scoped is not None:
        known = _BY_SCOPE.get(scoped)
        if known is not None:
            return known  # the same levels' selects: not built again to be compared
    selects = [_select(loaders, m, c, top, page) for m, c, top in levels_]
    try:
        key = (doc, tuple(_fingerprint(s) for s in selects))
    except _NoPlan:
        return None
    hit = _STATEMENTS.get(key)
    if hit is None:
        try:
            stmt, notes, _builder = _build(ctx, item_type, details, model, loaders, selects,
                                           page)
        except _NoPlan:
            return None
        hit = _remember(key, stmt, notes)
    if scoped is not None:
        _bounded(_BY_SCOPE, scoped, hit)
    return hit


def _scope_key(doc: tuple[Any, ...], levels_: list[tuple[Any, Any, bool]], loaders: Any,
               page: Any) -> tuple[Any, ...] | None:
    """A key of the levels' scoped selects that is cheaper than building them: equal keys,
    equal selects (``_select``'s, for the columns ``levels_`` name). Each level's row rule
    is the policy's key (``policy.scope_key``, the form ``Loaders.scoped`` adds with
    ``per_row``); a page's own level is ``Page.select_key``; a list's own level picks its
    rows by id (no rule, the ids are the statement's parameter). None: not keyable."""
    parts: list[Any] = []
    for model, _cols, top in levels_:
        if top:
            part = page.select_key() if page is not None else "by id"
        else:
            part = policy.scope_key(loaders.user, model, "view", True)
        if part is None:
            return None
        parts.append(part)
    return (doc, tuple(parts))


def _by_scope(doc: tuple[Any, ...], levels_: list[tuple[Any, Any, bool]], loaders: Any,
              page: Any, planned: _Planned) -> _Planned:
    scoped = _scope_key(doc, levels_, loaders, page)
    if scoped is not None:
        _bounded(_BY_SCOPE, scoped, planned)
    return planned


def _bounded(cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
    """Insert, dropping the oldest entries past the bound (first in, first out: a hit
    costs no bookkeeping)."""
    cache[key] = value
    while len(cache) > _MAX_STATEMENTS:
        cache.popitem(last=False)


class _Planned:
    """A list's statement, its note columns, and (after its first run) its SQL text and
    bound values as the driver takes them: a hit runs the text directly, without
    SQLAlchemy's per-execution work on a statement of this size."""

    __slots__ = ("notes", "params", "processors", "sql", "stmt", "through_session")

    def __init__(self, stmt: Any, notes: list[Note]) -> None:
        self.stmt = stmt
        self.notes = notes
        self.sql: str | None = None
        self.params: dict[str, Any] = {}
        # (column index, result processor) of the columns whose type converts the value
        # (a cursor's datetime): what ``session.execute`` would have done
        self.processors: list[tuple[int, Any]] = []
        self.through_session = False

    def run(self, session: Any, ids: str | None) -> Any:
        """The statement's one row; ``ids``: the page's ids (a list picked by id), None for
        a statement without that parameter (a folded page)."""
        conn = session.connection()
        given = {} if ids is None else {_PAGE_IDS: ids}
        if self.through_session:
            return session.execute(self.stmt, given).one()
        if self.sql is None:
            dialect = conn.dialect
            compiled = self.stmt.compile(dialect=dialect)
            if compiled._bind_processors or compiled.positiontup \
                    or compiled.post_compile_params or compiled.literal_execute_params:
                # values the driver cannot take as they are (a datetime to convert, an IN
                # list expanded per execution): SQLAlchemy runs it, from its own cache
                self.through_session = True
                return session.execute(self.stmt, given).one()
            self.params = compiled.construct_params({} if ids is None else {_PAGE_IDS: ""})
            self.processors = [
                (i, proc) for i, c in enumerate(self.stmt.selected_columns)
                if (proc := c.type.dialect_impl(dialect).result_processor(dialect, None))
                is not None]
            self.sql = compiled.string
        row = conn.exec_driver_sql(self.sql, {**self.params, **given}).one()
        if not self.processors:
            return row
        values = list(row)
        for i, proc in self.processors:
            values[i] = proc(values[i])
        return values


def _remember(key: tuple[Any, ...], stmt: Any, notes: list[Note]) -> _Planned:
    planned = _Planned(stmt, notes)
    _bounded(_STATEMENTS, key, planned)
    return planned


def _build(ctx: Any, item_type: GraphQLObjectType, details: Any, model: Any, loaders: Any,
           selects: list[Any] | None, page: Any = None) -> tuple[Any, list[Note], _Builder]:
    """The list's statement over the levels' scoped ``selects`` (in the builder's order;
    None: made by the builder); the page's ids are its one parameter, or (``page``) its
    top level is the page's own select (``_build_page``)."""
    builder = _Builder(ctx, loaders, selects, page)
    if page is not None:
        return _build_page(builder, item_type, details, model, page)
    rows, source, text, notes = builder.level(item_type, details, model, ())
    array = cast(bindparam(_PAGE_IDS, type_=Text), ARRAY(Integer))
    # the page's ids with their places (not array_position per row: quadratic in the size)
    page = func.unnest(array).table_valued("id", with_ordinality="n").render_derived("page")
    columns = [func.count(), cat("[", func.string_agg(text, aggregate_order_by(
        const(","), page.c.n)), "]")]
    columns += [func.string_agg(note_ids, const(",")) for _note, note_ids in notes]
    stmt = select(*columns).select_from(page.join(source, rows.c.id == page.c.id))
    return stmt, [note for note, _ids in notes], builder


# the columns of a folded page's statement before its notes
_PAGE_COLUMNS = ("count", "found", "text", "first_id", "last_id", "first_key", "last_key")


def _build_page(builder: _Builder, item_type: GraphQLObjectType, details: Any, model: Any,
                page: Any) -> tuple[Any, list[Note], _Builder]:
    """A connection's page as one statement: its rows are the page's own select (n + 1 rows,
    numbered in the page's order: ``_numbered``); the first n are the JSON text, ordered by
    their place; and beside it how many rows the select found (n + 1: a next page), the
    first and last rows' id and order value (the cursors) and the ids to note — the page's
    own rows of an archive-covered model too (what ``from_model`` notes, R-CUST-9)."""
    rows, source, text, notes = builder.level(item_type, details, model, page.extra)
    if model in policy_loans.COVERED:
        notes = [*notes, (("archive", model), cast(rows.c.id, Text))]
    rn = rows.c.json_rn
    first = rn == 1
    last = rn == func.least(rows.c.json_n, page.n)
    key = rows.c[page.order.column.key] if page.order.column is not None else None
    columns = [func.count(), func.max(rows.c.json_n),
               cat("[", func.string_agg(text, aggregate_order_by(const(","), rn)), "]"),
               func.max(rows.c.id).filter(first), func.max(rows.c.id).filter(last),
               func.max(key).filter(first) if key is not None else const(""),
               func.max(key).filter(last) if key is not None else const("")]
    columns += [func.string_agg(note_ids, const(",")) for _note, note_ids in notes]
    stmt = select(*columns).select_from(source).where(rn <= page.n)
    return stmt, [note for note, _ids in notes], builder


def json_page(ctx: Any, item_type: GraphQLObjectType, details: Any, page: Any
              ) -> orjson.Fragment | None:
    """The ``nodes`` of a connection's page not read yet (``pagination.Page``) and its
    ``pageInfo`` from ONE statement over the page's own scoped select: no row is loaded into
    Python and no node object is built. None: nothing was run or recorded, the row path
    answers (and reads the page)."""
    loaders = getattr(ctx.context_value, "loaders", None)
    if loaders is None or not page.n or not _on_postgresql(loaders):
        return None
    if ctx.operation.operation is not OperationType.QUERY:
        return None  # a mutation's rows may have changes the statement would not see
    model = page.model
    if origin_of(item_type) is not page.cls or not hasattr(model, "__table__"):
        return None
    try:
        planned = _statement(ctx, item_type, details, model, loaders, page)
    except Exception:  # a plan that cannot be built is today's path, never a wrong answer
        log.exception("JSON statement not built; the row path answers")
        return None
    if planned is None:
        return None
    found = planned.run(loaders.session, None)
    count, fetched, body, first_id, last_id, first_key, last_key = found[:len(_PAGE_COLUMNS)]
    body = body or "[]"
    if SENTINEL in body:
        return None  # a null in a non-null field, an unknown enum value: today's path
    _record(planned.notes, found[len(_PAGE_COLUMNS):])
    keyed = page.order.column is not None
    page.fold(bool(fetched) and fetched > page.n,
              (first_key if keyed else None, first_id) if count else None,
              (last_key if keyed else None, last_id) if count else None)
    return orjson.Fragment(body)


def json_list(ctx: Any, item_type: GraphQLObjectType, details: Any, items: list[Any]
              ) -> orjson.Fragment | None:
    """The completed list ``items`` (the nodes of a whole batch of rows, in its order: a
    page, not one parent's share of a level, which would cost a statement per parent) as
    one JSON statement's text, or None: today's path answers."""
    loaders = getattr(ctx.context_value, "loaders", None)
    if not items or loaders is None or not _on_postgresql(loaders):
        return None
    if ctx.operation.operation is not OperationType.QUERY:
        return None  # a mutation's rows may have changes the statement would not see
    origin = origin_of(item_type)
    batch: Any = getattr(items[0], "_b", None)
    if batch is None or batch.model is None or not hasattr(batch.model, "__table__"):
        return None
    objs = batch.objs
    if len(objs) != len(items):
        return None  # one parent's share of a level: the level is answered as a whole
    for item, obj in zip(items, objs, strict=True):
        if item is None or item.__class__ is not origin or getattr(item, "_b", None) is not batch \
                or item._m is not obj:
            return None
    if not _nests(ctx, item_type, details):
        return None  # the rows are loaded and nothing hangs off them: no statement to save
    try:
        planned = _statement(ctx, item_type, details, batch.model, loaders)
    except Exception:  # a plan that cannot be built is today's path, never a wrong answer
        log.exception("JSON statement not built; the row path answers")
        return None
    if planned is None:
        return None
    ids = "{" + ",".join(str(item._m.id) for item in items) + "}"
    found = planned.run(loaders.session, ids)
    notes = planned.notes
    body = found[1] or "[]"
    if found[0] != len(items) or SENTINEL in body:
        return None  # a row gone meanwhile, a null in a non-null field: today's path
    _record(notes, found[2:])
    return orjson.Fragment(body)


def _nests(ctx: Any, item_type: GraphQLObjectType, details: Any) -> bool:
    """Whether the selection has a field besides the rows' own columns (a relationship):
    only then does one statement save the row path's statements per level."""
    fields = row_fields(item_type) or {}
    grouped, _defer, _ = ctx.collect_subfields(item_type, details)
    return any(name != "__typename" and name not in fields
               for name in (sub[0].node.name.value for sub in grouped.values()))


def _record(notes: list[Note], values: Any) -> None:
    for (kind, what), text in zip(notes, values, strict=True):
        if not text:
            continue
        ids = [int(i) for i in text.split(",")]
        if kind == "credit":
            credit_reads.note_many(what, ids)
        else:
            archive_loans.note_reads(what, ids)
