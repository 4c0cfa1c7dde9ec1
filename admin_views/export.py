"""CSV export: streamed, scoped, visible-columns-only, with spreadsheet formulas neutralised."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Response, stream_with_context
from flask_babel import get_timezone
from sqlalchemy import inspect
from sqlalchemy.orm import aliased

from admin_views.context import actor, full_action
from admin_views.fields import MASK
from models import Customer
from portal import audit, policy
from portal.extensions import db, orm_session
from portal.services import credit_reads
from portal.services.cells import FORMULA_PREFIXES as FORMULA_PREFIXES
from portal.services.cells import csv_cell

# one rule for every export (portal.services.cells); the name stays for the callers
neutralise = csv_cell


class ExportMixin:
    """The CSV export of a list (one Core select on its own connection)."""

    # Rows fetched per round trip by a streamed export (server-side cursor on PostgreSQL).
    export_yield_per = 2000

    if TYPE_CHECKING:  # provided by the model view this mixin is part of
        model: Any
        endpoint: str

        def _pk_column(self) -> Any: ...
        def get_pk_value(self, model: Any) -> Any: ...
        def get_export_value(self, model: Any, name: str) -> Any: ...
        def row_field_visible(self, obj: Any, name: str) -> bool: ...

    def _export_plan(self, columns: list[Any]) -> list[tuple[str, str, Any]] | None:
        """One ``(name, kind, expressions)`` per export column, expressible as plain SQL
        columns: a column of the model (``col``), or the name of a many-to-one related row
        through an outer join (``rel``; users show as "full name (username)"). None when a
        column needs Python (a formatter, a computed column, a to-many relationship): then
        the export falls back to loading ORM objects."""
        if self.model in policy.FIELD_GROUPS and self.model is not Customer:
            return None  # their row checks read more than the row's own columns
        mapper = inspect(self.model)
        formatters = self.column_formatters_export or {}
        plan: list[tuple[str, str, Any]] = []
        for column, _label in columns:
            name = column if isinstance(column, str) else getattr(column, "key", None)
            if not isinstance(name, str) or "." in name or name in formatters \
                    or name in self.computed_columns:
                return None
            if name in mapper.column_attrs:
                plan.append((name, "col", getattr(self.model, name)))
                continue
            rel = mapper.relationships.get(name)
            if rel is None or rel.uselist:
                return None
            target = rel.mapper.class_
            alias = aliased(target, name=f"export_{name}")
            if hasattr(target, "full_name") and hasattr(target, "username"):
                exprs: tuple[Any, ...] = (alias.full_name, alias.username)
            elif hasattr(target, "name"):
                exprs = (alias.name,)
            else:
                return None
            plan.append((name, "rel", (getattr(self.model, name).of_type(alias), exprs)))
        return plan

    def _export_csv(self, return_url: Any) -> Any:
        """Stream scoped rows, visible columns only, formulas neutralised.

        One Core select of just the export columns (related names by outer joins), scoped,
        filtered, searched and sorted as the list is, streamed from a server-side cursor with
        its own connection: nothing of the request's ORM session is touched while streaming,
        labels and choices are plain strings before the first row, and row-dependent field
        visibility is decided once per distinct (owner, branch, department)."""
        query = self._export_query()
        columns = list(self._export_columns)
        plan = self._export_plan(columns)
        if plan is None:
            return self._export_csv_orm(query, columns)
        user = actor()
        audit.record(db.session, user, full_action(self.model, "export"),
                     self.model.__name__, detail=f"csv: {', '.join(str(c[0]) for c in columns)}")

        policy_keys = [k for k in ("owner_id", "branch_id", "department_id")
                       if k in inspect(self.model).column_attrs]
        row_groups = self.model in policy.FIELD_GROUPS
        exprs: list[Any] = [getattr(self.model, k) for k in policy_keys] if row_groups else []
        query = query.enable_eagerloads(False)
        visible_for = (self._export_visibility(query, user, policy_keys) if row_groups
                       else None)
        self._record_credit_export(query, columns, policy_keys, visible_for)
        db.session.commit()
        query, slots = self._export_slots(query, plan, exprs)
        stmt = query.with_entities(*exprs).statement
        if not query._order_by_clauses:
            stmt = stmt.order_by(self._pk_column())
        header = [neutralise(str(label)) for _c, label in columns]
        cell = _cell_formatter(self, self.column_type_formatters_export, get_timezone())
        writer = csv.writer(_Echo())

        def rows() -> Iterator[str]:
            yield "\ufeff" + writer.writerow(header)
            with db.engine.connect() as conn:
                result = conn.execution_options(stream_results=True,
                                                yield_per=self.export_yield_per).execute(stmt)
                for part in result.partitions():
                    yield "".join(
                        writer.writerow(_export_values(row, slots, cell,
                                                       visible_for(row) if visible_for
                                                       else None))
                        for row in part)

        filename = self.get_export_name("csv")
        return Response(stream_with_context(rows()), mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={filename}",
                                 "Cache-Control": "no-store"})

    def _export_query(self) -> Any:
        """The list's query (scope, filters, search, sort) without its COUNT or paging."""
        view_args = self._get_list_extra_args()
        sort = self._get_column_by_idx(view_args.sort)
        simple = self.simple_list_pager
        self.simple_list_pager = True  # no COUNT for an export
        try:
            _count, query = self.get_list(0, sort[0] if sort else None, view_args.sort_desc,
                                          view_args.search, view_args.filters, execute=False,
                                          page_size=0)
        finally:
            self.simple_list_pager = simple
        return query

    def _export_visibility(self, query: Any, user: Any,
                           policy_keys: list[str]) -> Callable[[Any], frozenset[str]]:
        """Row-dependent field visibility, decided here while the request's session (and the
        user's grants) are at hand: once per distinct (owner, branch, department) of the
        exported rows. A row of a combination not seen here (inserted meanwhile) gets every
        row-dependent field masked. Rows start with the ``policy_keys`` values."""
        visible_cache: dict[tuple[Any, ...], frozenset[str]] = {}
        keys_stmt = (query.with_entities(*[getattr(self.model, k) for k in policy_keys])
                     .order_by(None).distinct())
        for key in db.session.execute(keys_stmt.statement):
            obj = self.model(**dict(zip(policy_keys, key, strict=True)))
            visible_cache[tuple(key)] = policy.visible_fields(user, self.model, obj)
        grouped = set().union(*policy.FIELD_GROUPS[self.model].values())
        fallback = policy.visible_fields(user, self.model) - grouped
        n_keys = len(policy_keys)

        def visible_for(row: Any) -> frozenset[str]:
            return visible_cache.get(tuple(row[:n_keys]), fallback)

        return visible_for

    def _export_slots(self, query: Any, plan: list[tuple[str, str, Any]], exprs: list[Any]
                      ) -> tuple[Any, list[tuple[str, str, list[int], dict[Any, str]]]]:
        """Append each export column's expressions to ``exprs`` (outer-joining relations);
        returns the query and, per column, (name, kind, indexes into the row, choices)."""
        slots: list[tuple[str, str, list[int], dict[Any, str]]] = []
        for name, kind, spec in plan:
            start = len(exprs)
            if kind == "rel":
                path, rel_exprs = spec
                query = query.outerjoin(path)
                exprs.extend(rel_exprs)
            else:
                exprs.append(spec)
            choices = {k: str(v) for k, v in self._column_choices_map.get(name, {}).items()}
            slots.append((name, kind, list(range(start, len(exprs))), choices))
        return query, slots

    def _export_csv_orm(self, query: Any, columns: list[Any]) -> Any:
        """Fallback for columns that need Python (formatters, computed columns, models whose
        row checks read relationships): ORM rows, rendered while the request's session and
        the user's grants are alive (the session is gone once the view has returned, so a
        lazy stream of ORM rows would fail part-way). Not memory-flat: the Core path above
        is the one for large tables."""
        user = actor()
        audit.record(db.session, user, full_action(self.model, "export"),
                     self.model.__name__, detail=f"csv: {', '.join(str(c[0]) for c in columns)}")
        db.session.commit()
        header = [neutralise(str(label)) for _c, label in columns]

        class _Echo:
            def write(self, value: str) -> str:
                return value

        writer = csv.writer(_Echo())

        lines = ["\ufeff" + writer.writerow(header)]
        credit = self._credit_columns(columns)
        shown: list[Any] = []
        for row in query.yield_per(500):
            lines.append(writer.writerow([neutralise(str(self.get_export_value(row, c)))
                                          for c, _label in columns]))
            if credit and any(self.row_field_visible(row, n) for n in credit):
                shown.append((self.model.__name__, self.get_pk_value(row)))
        if shown:  # one entry naming the rows whose credit amounts left in the file
            credit_reads.record_credit_read(orm_session(), user, shown,
                                            where=f"{self.endpoint}.export")
            db.session.commit()

        filename = self.get_export_name("csv")
        return Response(lines, mimetype="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f"attachment; filename={filename}",
                                 "Cache-Control": "no-store"})

    def _credit_columns(self, columns: list[Any]) -> list[str]:
        """The export columns that are credit amounts (``credit_reads.CREDIT_FIELDS``)."""
        fields = credit_reads.credit_fields(self.model)
        return [c[0] for c in columns if isinstance(c[0], str) and c[0] in fields]

    def _record_credit_export(self, query: Any, columns: list[Any], policy_keys: list[str],
                              visible_for: Callable[[Any], frozenset[str]] | None) -> None:
        """R-AUD-1: an export carrying credit amounts leaves one ``credit.view`` entry naming
        the rows whose amounts it contains (a row whose credit fields are masked for the
        reader is not named). One statement: the ids, with the keys that decide visibility."""
        credit = self._credit_columns(columns)
        if not credit:
            return
        keys = [getattr(self.model, k) for k in policy_keys] if visible_for else []
        pk = self._pk_column()
        stmt = query.with_entities(pk, *keys).order_by(None).statement.order_by(pk)
        # Streamed in primary-key order into a compact array: the whole table may be exported,
        # and a million (name, id) tuples would cost hundreds of MiB (the export must stay flat).
        shown = credit_reads.IdRun()
        rows = db.session.execute(stmt, execution_options={
            "stream_results": True, "yield_per": self.export_yield_per})
        for part in rows.partitions():
            shown.extend(row[0] for row in part
                         if visible_for is None or any(n in visible_for(row[1:]) for n in credit))
        credit_reads.record_credit_run(orm_session(), actor(), self.model.__name__, shown,
                                       where=f"{self.endpoint}.export")

    def get_export_name(self, export_type: str = "csv") -> str:
        from portal import clock

        return f"{self.endpoint}_{clock.now():%Y%m%d_%H%M%S}.{export_type}"


class _Echo:
    """A file-like object whose write returns the line: csv.writer renders one row."""

    def write(self, value: str) -> str:
        return value


def _cell_formatter(view: Any, type_formatters: dict[Any, Any], tz: Any
                    ) -> Callable[[Any], Any]:
    def cell(value: Any) -> Any:
        if isinstance(value, datetime):  # company_time, without babel per cell
            if value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        for typeobj, formatter in type_formatters.items():
            if isinstance(value, typeobj):
                return formatter(view, value, None)
        return value

    return cell


def _export_values(row: Any, slots: list[tuple[str, str, list[int], dict[Any, str]]],
                   cell: Callable[[Any], Any], visible: frozenset[str] | None) -> list[str]:
    """One CSV row: masked where the row's field group is hidden, related names as
    "name (login)", choices by label, formulas neutralised."""
    values = []
    for name, kind, idx, choices in slots:
        if visible is not None and name not in visible:
            values.append(MASK)
            continue
        if kind == "rel":
            if row[idx[0]] is None:
                value: Any = ""
            elif len(idx) == 2:
                value = f"{row[idx[0]]} ({row[idx[1]]})"
            else:
                value = row[idx[0]]
        else:
            value = row[idx[0]]
            value = choices[value] if choices and value in choices else cell(value)
        values.append(neutralise(value))
    return values
