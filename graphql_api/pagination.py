"""Relay-style connections with keyset (cursor) pagination.

The cursor is opaque to clients: base64 of ``[order key, value, id]``. Pages are cut with a
keyset condition on (order column, id), never OFFSET, so page 1000 costs what page 1 costs.
``totalCount`` counts only the rows the user may see (the same scoped, filtered statement).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

import strawberry
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session
from strawberry.types import Info

from graphql_api.loaders import Batch, light
from graphql_api.permissions import ShownError
from portal import policy

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 20


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    _count_stmt: strawberry.Private[Callable[[], Select]]  # built only if totalCount is asked
    _session: strawberry.Private[Session]
    _page: strawberry.Private[Page]

    @strawberry.field
    def page_info(self) -> PageInfo:
        return self._page.info()

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        page = self._page
        cursor = page.cursor
        return [Edge(cursor=cursor(n), node=n) for n in page.nodes()]

    @strawberry.field(description="Rows visible to you that match the filter (all pages).")
    def total_count(self) -> int:
        return int(self._session.scalar(self._count_stmt()) or 0)

    @strawberry.field(description="The nodes of this page (shortcut for edges { node }).")
    def nodes(self) -> list[T]:
        return self._page.nodes()


@dataclass(frozen=True)
class Order:
    """A sort: ``key`` names it in cursors; ``column`` None means by id only."""

    key: str
    column: Any
    descending: bool = False


def _encode(order: Order, value: Any, pk: int) -> str:
    if isinstance(value, datetime):
        tagged: list[Any] = ["t", value.isoformat()]
    elif isinstance(value, date):
        tagged = ["d", value.isoformat()]
    else:
        tagged = ["v", value]
    raw = json.dumps([order.key, tagged, pk], ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


_INT32 = (-(2**31), 2**31 - 1)


def _column_kind(column: Any) -> type | None:
    """The Python type of a column; a TypeDecorator (UTCDateTime) reports ``object`` itself,
    so ask the type it wraps."""
    sql_type = getattr(column.type, "impl_instance", column.type)
    try:
        return sql_type.python_type
    except (NotImplementedError, AttributeError):
        return None


def _plain_value_fits(tag: str, kind: type | None, value: Any) -> bool:
    """A ``["v", value]`` part: null, a short string for a text column, an int32 for an
    integer column. A null sort value (e.g. a customer never registered) fits any column."""
    if tag != "v":
        return False
    if value is None:
        return True
    if kind in (datetime, date):
        return False
    return (kind is str and isinstance(value, str) and len(value) <= 1000) \
        or (kind is int and type(value) is int and _INT32[0] <= value <= _INT32[1])


def _decode(cursor: str, order: Order) -> tuple[Any, int]:
    """Strict: the cursor must be exactly what ``_encode`` writes for this ordering — a
    crafted one (a list, bool, float or huge integer where a value or id is expected) is the
    client's BAD_USER_INPUT, never a database error."""
    bad = ShownError("after: invalid cursor for this ordering.", code="BAD_USER_INPUT",
                     reason="BAD_CURSOR")
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key, (tag, value), pk = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise bad from None
    if key != order.key or type(pk) is not int or not _INT32[0] <= pk <= _INT32[1]:
        raise bad
    kind = _column_kind(order.column) if order.column is not None else None
    try:
        if order.column is None:
            if tag != "v" or value is not None:
                raise bad
        elif tag == "t" and kind is datetime and isinstance(value, str):
            value = datetime.fromisoformat(value)
        elif tag == "d" and kind is date and isinstance(value, str):
            value = date.fromisoformat(value)
        elif not _plain_value_fits(tag, kind, value):
            raise bad
    except (TypeError, ValueError):
        raise bad from None
    return value, pk


def _frozen(value: Any) -> Any:
    """A bound value as a hashable key part (a list of ids as a tuple)."""
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def check_first(info: Info, first: int | None) -> int:
    limit = int(info.context.config["GRAPHQL_MAX_PAGE_SIZE"])
    n = DEFAULT_PAGE_SIZE if first is None else first
    if n < 0 or n > limit:
        raise ShownError(f"first must be between 0 and {limit}.", code="LIMIT_EXCEEDED",
                         limit="pageSize", max=limit)
    return min(n, limit)


class Page:
    """One page of a connection, read on first use: either its rows are loaded and wrapped in
    nodes (``nodes``, ``info``: the row path), or ONE JSON statement over ``select`` answers
    its nodes and what ``pageInfo`` needs (``graphql_api.json_statement.json_page``, which
    calls ``fold``); no node object is built then."""

    __slots__ = ("_folded", "_info", "_nodes", "after", "cls", "cols", "ctx", "model", "n",
                 "order", "where", "_after_where")

    def __init__(self, ctx: Any, model: type, cls: Any, where: list[Any], order: Order,
                 n: int, after: str | None, cols: tuple[Any, ...] | None) -> None:
        self.ctx = ctx
        self.model = model
        self.cls = cls
        self.where = where
        self.order = order
        self.n = n
        self.after = after
        self.cols = cols  # the columns the row path loads
        self._info: PageInfo | None = None
        self._nodes: list[Any] | None = None
        # (has next, first, last) as ``fold`` got them; the PageInfo is made when asked
        self._folded: tuple[bool, tuple[Any, int] | None, tuple[Any, int] | None] | None = None
        # the keyset condition of ``after`` (decoded now: a bad cursor is the field's error)
        self._after_where: Any = None
        if after:
            pk = model.id  # type: ignore[attr-defined]
            col = order.column
            value, last = _decode(after, order)
            if col is None:
                self._after_where = pk < last if order.descending else pk > last
            elif order.descending:
                self._after_where = or_(col < value, and_(col == value, pk < last))
            else:
                self._after_where = or_(col > value, and_(col == value, pk > last))

    @property
    def pending(self) -> bool:
        """Neither loaded nor answered yet."""
        return self._info is None and self._nodes is None and self._folded is None

    @property
    def extra(self) -> tuple[str, ...]:
        """Columns a page's rows carry besides the selected fields' (the cursor's)."""
        col = self.order.column
        return (col.key,) if col is not None else ()

    def select(self, cols: tuple[Any, ...] | None) -> Select:
        """The page's scoped, filtered select of ``cols``: after the cursor, in the page's
        order, ``n + 1`` rows (the last one only tells that a next page exists)."""
        loaders = self.ctx.loaders
        # plain rows: the policy's ``scope_ordered`` adds the row rule, the order and the
        # limit (a supervisor's customers part by part); entities: scoped, ordered here
        plain = light(self.model)
        stmt = loaders.plain(self.model, cols) if plain \
            else loaders.scoped(self.model, cols=cols)
        stmt = stmt.where(*self.where)
        if self._after_where is not None:
            stmt = stmt.where(self._after_where)
        if plain:
            keys = [self.order.column] if self.order.column is not None else []
            keys.append(self.model.id)  # type: ignore[attr-defined]
            return policy.scope_ordered(stmt, loaders.user, self.model, keys,
                                        self.order.descending, self.n + 1)
        return stmt.order_by(*self.order_keys(None)).limit(self.n + 1)

    def select_key(self) -> tuple[Any, ...] | None:
        """What ``select(cols)`` depends on besides ``cols``: equal keys, equal statements
        (SQL and bound values). The user's row rule is the policy's own key
        (``policy.scope_key``, the form ``scope_ordered`` and ``scope`` add); the filters are
        their SQL cache keys with their bound values; the cursor, order and size as given.
        None: not keyable (the statement is then built and compared as a whole)."""
        scope = policy.scope_key(self.ctx.loaders.user, self.model)
        if scope is None:
            return None
        where: list[Any] = []
        for condition in self.where:
            key = condition._generate_cache_key()
            if key is None:
                return None
            where.append((key.key, tuple(_frozen(b.effective_value) for b in key.bindparams)))
        col = self.order.column
        return (scope, tuple(where), self.after, self.order.key, self.order.descending,
                col.key if col is not None else None, self.n)

    def order_keys(self, rows: Any) -> list[Any]:
        """The page's ORDER BY, on the model's columns (``rows`` None) or on the same
        columns of a subquery ``rows``."""
        pk: Any = self.model.id  # type: ignore[attr-defined]
        keys = [self.order.column] if self.order.column is not None else []
        keys.append(pk)
        if rows is not None:
            keys = [rows.c[k.key] for k in keys]
        return [k.desc() if self.order.descending else k.asc() for k in keys]

    def cursor_of(self, value: Any, pk: int) -> str:
        return _encode(self.order, value, pk)

    def cursor(self, node: Any) -> str:
        r = node._m
        col = self.order.column
        return _encode(self.order, getattr(r, col.key) if col is not None else None, r.id)

    def nodes(self) -> list[Any]:
        if self._nodes is None:
            self._load()
        assert self._nodes is not None
        return self._nodes

    def info(self) -> PageInfo:
        if self._info is None and self._folded is not None:
            return self._unfold()
        if self._info is None:
            self._load()
        assert self._info is not None
        return self._info

    def _load(self) -> None:
        loaders = self.ctx.loaders
        rows = loaders.rows(self.select(self.cols), self.model) if self.n else []
        has_next = len(rows) > self.n
        rows = rows[:self.n]
        batch = Batch(rows, self.model)
        nodes = [self.cls.from_model(r, batch) for r in rows]
        self._nodes = nodes
        if self._info is None and self._folded is None:
            self._info = PageInfo(has_next_page=has_next, has_previous_page=bool(self.after),
                                  start_cursor=self.cursor(nodes[0]) if nodes else None,
                                  end_cursor=self.cursor(nodes[-1]) if nodes else None)

    def fold(self, has_next: bool, first: tuple[Any, int] | None,
             last: tuple[Any, int] | None) -> None:
        """The page as one statement found it: ``first``/``last`` are its first and last
        rows' (order value, id), None for an empty page; the cursors are the row path's,
        encoded only if ``pageInfo`` is asked for."""
        self._folded = (has_next, first, last)

    def _unfold(self) -> PageInfo:
        assert self._folded is not None
        has_next, first, last = self._folded
        self._info = PageInfo(
            has_next_page=has_next, has_previous_page=bool(self.after),
            start_cursor=self.cursor_of(*first) if first is not None else None,
            end_cursor=self.cursor_of(*last) if last is not None else None)
        return self._info


def paginate(info: Info, model: type, cls: Any, where: list[Any], order: Order,
             first: int | None, after: str | None) -> Connection:
    """One page of ``model`` rows the user may see, matching ``where``, as a connection (its
    rows are read when a field of it is completed: see ``Page``)."""
    ctx = info.context
    n = check_first(info, first)
    def count_stmt() -> Select:
        return select(func.count()).select_from(
            policy.scope(select(model.id), ctx.user, model).where(*where).subquery())

    col = order.column
    # only the columns the selected fields need (and the cursor's order column)
    cols = ctx.loaders.wanted(info, cls, model, (("nodes",), ("edges", "node")),
                              (col.key,) if col is not None else ())
    page = Page(ctx, model, cls, where, order, n, after, cols)
    return Connection(_count_stmt=count_stmt, _session=ctx.session, _page=page)
