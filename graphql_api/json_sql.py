"""SQL twins of the leaf values the row path outputs (graphql_api.execution_rows), as JSON text.

Each twin is a PostgreSQL text expression whose value is byte for byte what orjson writes for
the value today's path completes (``FromModel`` readers, then the leaf type's output coercion):

- a global id ``"Customer:7"``: the reader's ``to_global``;
- a string column: ``to_json(col)::text`` (PostgreSQL escapes exactly like orjson: ``\\"``,
  ``\\\\``, ``\\n``…, other control characters as ``\\u00XX``, everything else as is);
- an enum (stored as text, or as an integer: ``IntEnum``): the GraphQL name of each stored
  value, taken from the type itself;
- a Boolean, an Int (32-bit column), a Decimal (``str`` of the numeric: PostgreSQL's text of
  the same value);
- a DateTime read from a ``UTCDateTime`` column: the reader returns the value in UTC
  (``astimezone(UTC)``) and Strawberry writes ``isoformat()``: ``YYYY-MM-DDTHH:MM:SS``, then
  ``.ffffff`` only when the microsecond is not 0, then ``+00:00`` — ``to_char`` of the value
  at time zone UTC writes the same, whatever the session's time zone;
- a Date: ``isoformat()`` is ``YYYY-MM-DD``, ``to_char``'s zero-padded four-digit year too.

A datetime or date outside what Python reads back unchanged whatever the session's time zone
(before 0001-01-02 or from 9999-12-31 on, ``infinity``) is not written here: it comes out as
``SENTINEL`` and today's path answers (and fails) as before.

Anything else (floats — only computed report fields are floats, and Python's ``repr`` of a
double is not what PostgreSQL prints —, times, custom scalars) has no twin: the plan is not
built and today's path answers. A null in a non-null position, or a stored enum value the type does
not know, comes out as ``SENTINEL`` (which no JSON text contains: ``to_json`` escapes control
characters), and the caller then answers the list through today's path, which reports it
exactly as before.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import reduce
from typing import Any

from graphql import GraphQLBoolean, GraphQLEnumType, GraphQLInt, GraphQLScalarType
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    Numeric,
    String,
    Text,
    case,
    cast,
    func,
    null,
)
from sqlalchemy import literal_column as _literal_column
from sqlalchemy.sql.elements import ColumnElement

from graphql_api.ids import to_global
from models.base import UTCDateTime

SENTINEL = "\x01"
_SAFE = re.compile(r"[A-Za-z0-9_:\[\]{},\"]*\Z")
_NAME = re.compile(r"[A-Za-z0-9_]+\Z")
SENTINEL_SQL = _literal_column("chr(1)", Text)


def const(text: str) -> ColumnElement[Any]:
    """A SQL string literal of JSON punctuation, GraphQL names (aliases, types, enum values)
    and global-id prefixes: never user input, and checked to be only such characters."""
    if not _SAFE.match(text):
        raise ValueError(f"not a safe JSON constant: {text!r}")
    return _literal_column(f"'{text}'", Text)


def cat(*parts: str | ColumnElement[Any]) -> ColumnElement[Any]:
    """``a || b || …``, adjacent constants merged into one literal."""
    merged: list[str | ColumnElement[Any]] = []
    for part in parts:
        if isinstance(part, str) and merged and isinstance(merged[-1], str):
            merged[-1] += part
        else:
            merged.append(part)
    exprs = [const(p) if isinstance(p, str) else p for p in merged]
    return reduce(lambda a, b: a.op("||", return_type=Text)(b), exprs)


def or_null(expr: ColumnElement[Any], non_null: bool) -> ColumnElement[Any]:
    return func.coalesce(expr, SENTINEL_SQL if non_null else const("null"))


def _sql_type(col: Any) -> Any:
    sql_type = col.type
    return getattr(sql_type, "impl_instance", sql_type)


def _is_decimal_scalar(leaf: Any) -> bool:
    if not isinstance(leaf, GraphQLScalarType) or leaf.name != "Decimal":
        return False
    try:
        return bool(leaf.serialize(Decimal("10.50")) == "10.50")
    except Exception:
        return False


def _writes_isoformat(leaf: Any, name: str, samples: dict[Any, str]) -> bool:
    """Whether the scalar ``leaf`` is ``name`` and writes each sample as shown (the check
    that its output coercion is still ``isoformat()``)."""
    if not isinstance(leaf, GraphQLScalarType) or leaf.name != name:
        return False
    try:
        return all(leaf.serialize(value) == text for value, text in samples.items())
    except Exception:
        return False


_DATETIME_SAMPLES = {
    datetime(2026, 3, 10, 1, 2, 3, 456789, tzinfo=UTC): "2026-03-10T01:02:03.456789+00:00",
    datetime(99, 1, 2, tzinfo=UTC): "0099-01-02T00:00:00+00:00",
    datetime(9999, 12, 30, 23, 59, 59, 1, tzinfo=UTC): "9999-12-30T23:59:59.000001+00:00"}
_DATE_SAMPLES = {date(2026, 3, 1): "2026-03-01", date(99, 1, 2): "0099-01-02",
                 date(9999, 12, 31): "9999-12-31"}


# to_char's format of a DateTime's JSON text (with or without the fraction)
_FORMAT = """'\\"YYYY-MM-DD"T"HH24:MI:SS{}"+00:00"\\"'"""


def _sql(text: str) -> ColumnElement[Any]:
    """A fixed SQL fragment of this module (a format or a bound of a range)."""
    return _literal_column(text)


def _datetime_twin(col: Any) -> ColumnElement[Any]:
    """``"YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00"`` of a timestamptz: the value in UTC, the
    fraction only when not 0 (``datetime.isoformat``); one ``to_char`` per value, the JSON
    quotes written by it (``\\"`` in a format is a double quote)."""
    utc = func.timezone(_sql("'UTC'"), col)
    whole = func.date_trunc(_sql("'second'"), utc) == utc
    text = case((whole, func.to_char(utc, _sql(_FORMAT.format("")))),
                else_=func.to_char(utc, _sql(_FORMAT.format(".US"))))
    in_range = (col >= _sql("'0001-01-02 00:00:00+00'::timestamptz")) \
        & (col < _sql("'9999-12-31 00:00:00+00'::timestamptz"))
    return case((col.is_(None), null()), (in_range, text), else_=SENTINEL_SQL)


def _date_twin(col: Any) -> ColumnElement[Any]:
    """``"YYYY-MM-DD"`` (``date.isoformat``)."""
    text = func.to_char(col, _sql("""'\\"YYYY-MM-DD\\"'"""))
    in_range = (col >= _sql("'0001-01-01'::date")) & (col <= _sql("'9999-12-31'::date"))
    return case((col.is_(None), null()), (in_range, text), else_=SENTINEL_SQL)


def _int_enum_twin(col: Any, conv: Any, leaf: GraphQLEnumType) -> ColumnElement[Any] | None:
    """An enum stored as an integer (``IntEnum``: a file's level): the GraphQL name of each
    stored value, taken from the type itself; another stored value is ``SENTINEL``."""
    whens: list[tuple[Any, Any]] = [(col.is_(None), null())]
    for member in conv:
        value = member.value
        name = leaf.coerce_output_value(conv(value))
        if not isinstance(name, str) or type(value) is not int:
            return None
        whens.append((col == _literal_column(str(int(value)), Integer), const(f'"{name}"')))
    return case(*whens, else_=SENTINEL_SQL)


def leaf_twin(entry: tuple[Any, ...], col: Any) -> ColumnElement[Any] | None:
    """The JSON text of a row-path leaf (an ``execution_rows.row_fields`` entry) read from
    ``col``, or None when it has no exact SQL twin."""
    _attr, conv, leaf, non_null, _memo, ident, _credit = entry
    sql_type = _sql_type(col)
    expr: ColumnElement[Any]
    if isinstance(conv, functools.partial) and conv.func is to_global and not conv.keywords \
            and len(conv.args) == 1 and isinstance(sql_type, Integer):
        expr = cat(f'"{conv.args[0]}:', cast(col, Text), '"')
    elif isinstance(leaf, GraphQLEnumType) and isinstance(sql_type, String) and conv is not None:
        whens: list[tuple[Any, Any]] = [(col.is_(None), null())]
        for member in conv:
            name = leaf.coerce_output_value(conv(member.value))
            if not isinstance(name, str) or not isinstance(member.value, str) \
                    or not _NAME.match(member.value):
                return None
            whens.append((col == _literal_column(f"'{member.value}'", Text),
                          const(f'"{name}"')))
        expr = case(*whens, else_=SENTINEL_SQL)
    elif isinstance(leaf, GraphQLEnumType) and isinstance(sql_type, Integer) \
            and not isinstance(sql_type, BigInteger) and conv is not None:
        int_enum = _int_enum_twin(col, conv, leaf)
        if int_enum is None:
            return None
        expr = int_enum
    elif conv is not None:
        return None
    elif ident is str and isinstance(sql_type, String):
        expr = cast(func.to_json(col), Text)
    elif leaf is GraphQLBoolean and isinstance(sql_type, Boolean):
        expr = case((col, const("true")), (~col, const("false")))
    elif leaf is GraphQLInt and isinstance(sql_type, Integer) \
            and not isinstance(sql_type, BigInteger):
        expr = cast(col, Text)
    elif _is_decimal_scalar(leaf) and isinstance(sql_type, Numeric) and sql_type.asdecimal:
        expr = cat('"', cast(col, Text), '"')
    elif type(col.type) is UTCDateTime and _writes_isoformat(leaf, "DateTime", _DATETIME_SAMPLES):
        expr = _datetime_twin(col)
    elif type(sql_type) is Date and _writes_isoformat(leaf, "Date", _DATE_SAMPLES):
        expr = _date_twin(col)
    else:
        return None
    return or_null(expr, non_null)
