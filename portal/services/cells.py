"""One rule against spreadsheet formula injection (CSV injection) for every export: text that a
spreadsheet would run as a formula (starting with = + - @, a tab or a carriage return) gets a
leading apostrophe. Numbers are numbers, never formulas: they are written as they are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_text(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_cell(value: Any) -> str:
    """A CSV cell: empty for None, a number as written, any other value as neutralised text."""
    if value is None:
        return ""
    if isinstance(value, Decimal | int | float):
        return str(value)
    return neutralise_text(str(value))


def xlsx_cell(value: Any) -> Any:
    """An XLSX cell: numbers and dates keep their type (Decimal as float), text neutralised."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, int | float | date) or value is None:
        return value
    return neutralise_text(str(value))
