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

from graphql_api.loaders import Batch
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
    page_info: PageInfo
    _count_stmt: strawberry.Private[Callable[[], Select]]  # built only if totalCount is asked
    _session: strawberry.Private[Session]
    _nodes: strawberry.Private[list]
    _cursor: strawberry.Private[Any]  # node → its cursor (computed only if asked for)

    @strawberry.field
    def edges(self) -> list[Edge[T]]:
        cursor = self._cursor
        return [Edge(cursor=cursor(n), node=n) for n in self._nodes]

    @strawberry.field(description="Rows visible to you that match the filter (all pages).")
    def total_count(self) -> int:
        return int(self._session.scalar(self._count_stmt()) or 0)

    @strawberry.field(description="The nodes of this page (shortcut for edges { node }).")
    def nodes(self) -> list[T]:
        return self._nodes


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


def check_first(info: Info, first: int | None) -> int:
    limit = int(info.context.config["GRAPHQL_MAX_PAGE_SIZE"])
    n = DEFAULT_PAGE_SIZE if first is None else first
    if n < 0 or n > limit:
        raise ShownError(f"first must be between 0 and {limit}.", code="LIMIT_EXCEEDED",
                         limit="pageSize", max=limit)
    return min(n, limit)


def paginate(info: Info, model: type, cls: Any, where: list[Any], order: Order,
             first: int | None, after: str | None) -> Connection:
    """One page of ``model`` rows the user may see, matching ``where``, as a connection."""
    ctx = info.context
    n = check_first(info, first)
    def count_stmt() -> Select:
        return select(func.count()).select_from(
            policy.scope(select(model.id), ctx.user, model).where(*where).subquery())

    pk = model.id
    col = order.column
    # only the columns the selected fields need (and the cursor's order column)
    cols = ctx.loaders.wanted(info, cls, model, (("nodes",), ("edges", "node")),
                              (col.key,) if col is not None else ())
    stmt = ctx.loaders.scoped(model, cols=cols).where(*where)
    if after:
        value, last = _decode(after, order)
        if col is None:
            stmt = stmt.where(pk < last if order.descending else pk > last)
        elif order.descending:
            stmt = stmt.where(or_(col < value, and_(col == value, pk < last)))
        else:
            stmt = stmt.where(or_(col > value, and_(col == value, pk > last)))
    keys = [col] if col is not None else []
    keys.append(pk)
    stmt = stmt.order_by(*[k.desc() if order.descending else k.asc() for k in keys])
    rows = ctx.loaders.rows(stmt.limit(n + 1), model) if n else []
    has_next = len(rows) > n
    rows = rows[:n]
    batch = Batch(rows, model)
    attr = col.key if col is not None else None

    def cursor(node: Any) -> str:
        r = node._m
        return _encode(order, getattr(r, attr) if attr else None, r.id)

    nodes = [cls.from_model(r, batch) for r in rows]
    return Connection(
        page_info=PageInfo(has_next_page=has_next, has_previous_page=bool(after),
                           start_cursor=cursor(nodes[0]) if nodes else None,
                           end_cursor=cursor(nodes[-1]) if nodes else None),
        _count_stmt=count_stmt, _session=ctx.session, _nodes=nodes, _cursor=cursor)
