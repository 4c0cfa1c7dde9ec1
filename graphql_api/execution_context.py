"""``FastExecutionContext``: the execution context of graphql_api.execution (see its docstring
for what is taken the fast way and when graphql-core answers instead)."""

from __future__ import annotations

from typing import Any, cast

from graphql import GraphQLNonNull, GraphQLObjectType, Undefined
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from graphql_api.execution_plans import (
    _LEAF,
    _LIST_LEAF,
    _OBJECT,
    _coerce,
    _Fallback,
    _leaf_values,
    _ordered,
    _plain_column,
    _plan,
    _Resolved,
    _resolved,
    all_nodes_of,
    row_column,
    row_plan,
)
from graphql_api.execution_rows import compilable, relation_column, relation_of
from graphql_api.json_detail import json_detail
from graphql_api.json_statement import enabled as json_statement_enabled
from graphql_api.json_statement import json_list, json_page
from graphql_api.pagination import Connection


def fast_execution_enabled() -> bool:
    """graphql_api.execution.fast_execution_enabled (looked up there on each call, so its
    self-check state is the one that counts)."""
    from graphql_api import execution

    return execution.fast_execution_enabled()


def row_levels_enabled() -> bool:
    """``GRAPHQL_ROW_LEVELS`` of the current app (on outside an app): marked relationships
    are completed from rows (graphql_api.execution_rows)."""
    from flask import current_app, has_app_context

    return not has_app_context() or bool(current_app.config.get("GRAPHQL_ROW_LEVELS", True))


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fast = fast_execution_enabled()
        self.row_levels = self.fast and row_levels_enabled()
        # GRAPHQL_JSON_STATEMENT (PostgreSQL): a list answered by one JSON statement
        self.json_statement = self.row_levels and json_statement_enabled()

    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any,
                       path: Path | None, grouped_field_set: Any,
                       position_context: Any) -> Any:
        manager = self.middleware_manager
        if not self.fast or (manager is not None and manager.middlewares):
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
        if self.json_statement and source_value.__class__ is Connection \
                and source_value._page.pending:
            done = self._with_folded_page(parent_type, source_value, path, grouped_field_set,
                                          position_context)
            if done is not None:
                return done
        plan = _plan(parent_type)
        if not plan:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
        fast: dict[str, Any] = {}
        slow: dict[str, Any] = {}
        for response_name, details in grouped_field_set.items():
            node = details[0].node
            entry = plan.get(node.name.value)
            if entry is None or node.arguments:
                slow[response_name] = details
                continue
            getter, leaf, non_null, memo = entry
            try:
                value = (getattr(source_value, getter) if getter.__class__ is str
                         else getter(source_value, None))
                if value is None:
                    if non_null:  # let the normal path raise the located error
                        slow[response_name] = details
                        continue
                    fast[response_name] = None
                    continue
                coerced = _coerce(leaf, memo, value)
            except Exception:
                slow[response_name] = details
                continue
            if coerced is Undefined or coerced is None:
                slow[response_name] = details
            else:
                fast[response_name] = coerced
        if not slow:
            return fast
        rest = super().execute_fields(parent_type, source_value, path, slow, position_context)
        if self.is_awaitable(rest):
            pending: Any = rest

            async def merged() -> dict[str, Any]:
                done = await pending
                return _ordered(grouped_field_set, fast, done)
            return merged()
        return _ordered(grouped_field_set, fast, cast(dict[str, Any], rest))


    def _with_folded_page(self, parent_type: GraphQLObjectType, connection: Any,
                          path: Path | None, grouped_field_set: Any,
                          position_context: Any) -> Any:
        """The connection's fields with its ``nodes`` answered by ``_folded_page``, or None
        (the page is then read as rows when a field needs it)."""
        folded = self._folded_page(parent_type, connection, grouped_field_set)
        if folded is None:
            return None
        name, text = folded
        rest = {k: v for k, v in grouped_field_set.items() if k != name}
        if not rest:
            return {name: text}
        done = self.execute_fields(parent_type, connection, path, rest, position_context)
        if self.is_awaitable(done):
            later: Any = done

            async def merged() -> dict[str, Any]:
                return _ordered(grouped_field_set, {name: text}, await later)
            return merged()
        return _ordered(grouped_field_set, {name: text}, cast(dict[str, Any], done))

    def _folded_page(self, parent_type: GraphQLObjectType, connection: Any,
                     grouped_field_set: Any) -> tuple[str, Any] | None:
        """A connection whose page is not read yet and whose only list of rows is one plain
        ``nodes`` field: its nodes (and what its ``pageInfo`` needs) from ONE JSON statement
        over the page's own select (json_statement.json_page); None: the row path."""
        found: tuple[str, Any] | None = None
        for response_name, details in grouped_field_set.items():
            name = details[0].node.name.value
            if name == "edges":
                return None  # edges need the node objects: the page is read as rows
            if name != "nodes":
                continue
            if found is not None or any(d.node.arguments or d.node.directives
                                        for d in details):
                return None
            found = (response_name, details)
        if found is None:
            return None
        response_name, details = found
        list_type = parent_type.fields["nodes"].type
        if isinstance(list_type, GraphQLNonNull):
            list_type = list_type.of_type
        item_type = getattr(list_type, "of_type", None)
        if isinstance(item_type, GraphQLNonNull):
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType):
            return None
        text = json_page(self, item_type, details, connection._page)
        return None if text is None else (response_name, text)

    def collect_and_execute_subfields(self, return_type: GraphQLObjectType,
                                      field_details_list: Any, path: Path, result: Any,
                                      position_context: Any) -> Any:
        """A root field's ONE row (``node(id:)``) with its relationships: answered by one
        JSON statement when it can be (graphql_api.json_detail), else as usual."""
        if self.json_statement and path.prev is None and getattr(result, "_b", None) is not None:
            text = json_detail(self, return_type, field_details_list, result)
            if text is not None:
                return text
        return super().collect_and_execute_subfields(return_type, field_details_list, path,
                                                     result, position_context)

    def complete_list_value(self, return_type: Any, field_details_list: Any, info: Any,
                            path: Path, result: Any, position_context: Any) -> Any:
        """A list of objects (a page of rows, the complaints of a customer, …) is completed
        level by level: each selected field is computed for every item of the list in one
        loop, and a relationship's objects (of all items at once) form the next level. Only
        plain fields and side-effect-free resolvers (see ``_resolved``) are taken this way;
        anything unusual falls back to graphql-core for the whole list."""
        fast = self._fast_list(return_type, field_details_list, info, path, result)
        if fast is not None:
            return fast
        return super().complete_list_value(return_type, field_details_list, info, path,
                                           result, position_context)

    def _fast_list(self, return_type: Any, field_details_list: Any, info: Any, path: Path,
                   result: Any) -> list[Any] | None:
        manager = self.middleware_manager
        if (not self.fast or (manager is not None and manager.middlewares)
                or not isinstance(result, list)):
            return None
        item_type = return_type.of_type
        item_non_null = isinstance(item_type, GraphQLNonNull)
        if item_non_null:
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType):
            return None
        if any(d.node.directives for d in field_details_list):
            return None  # @stream and friends: the normal path
        if self.json_statement and result and not self.is_awaitable(result[0]):
            done = json_list(self, item_type, field_details_list, result)
            if done is not None:
                return done  # type: ignore[return-value]  # orjson writes it as is
        try:
            return self._complete_level(item_type, item_non_null, field_details_list, info,
                                        path, result)
        except Exception:
            return None    # with its location)

    def _complete_level(self, item_type: GraphQLObjectType, item_non_null: bool,
                        field_details_list: Any, info: Any, path: Path,
                        items: list[Any]) -> list[Any]:
        """The completed values of ``items`` (objects of ``item_type``, ``None`` allowed
        unless ``item_non_null``), or ``_Fallback``."""
        present = [item for item in items if item is not None]
        if len(present) != len(items) and item_non_null:
            raise _Fallback
        if not present:
            return [None] * len(items)
        rows_of = row_plan(item_type)
        if rows_of is not None and all_nodes_of(rows_of[0], present):
            from_rows = rows_of[1]  # nodes wrapping rows: plain fields read from the rows
        else:
            from_rows = {}
            is_awaitable = self.is_awaitable
            is_type_of = item_type.is_type_of
            for item in present:
                if is_awaitable(item):
                    raise _Fallback  # graphql-core awaits it (or reports its error)
                if is_type_of is not None and is_type_of(item, info) is not True:
                    raise _Fallback
        grouped, new_defer_usages, _forbidden = self.collect_subfields(item_type,
                                                                       field_details_list)
        if new_defer_usages:
            raise _Fallback
        plain = _plan(item_type)
        resolved = _resolved(item_type, self.schema)
        item_path = path.add_key(0, item_type.name)
        names: list[str] = []
        columns: list[list[Any]] = []
        for response_name, details in grouped.items():
            node = details[0].node
            if node.arguments or node.directives:
                raise _Fallback
            field_name = node.name.value
            names.append(response_name)
            if field_name == "__typename":
                columns.append([item_type.name] * len(present))
                continue
            row_entry = from_rows.get(field_name)
            if row_entry is not None:
                columns.append(row_column(row_entry, present))
                continue
            entry = plain.get(field_name)
            if entry is not None:
                columns.append(_plain_column(entry, present))
                continue
            spec = resolved.get(field_name)
            if spec is None:
                raise _Fallback
            columns.append(self._resolved_column(spec, item_type, details,
                                                 item_path.add_key(response_name, None),
                                                 present))
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        if len(rows) == len(items):
            return rows
        it = iter(rows)
        return [None if item is None else next(it) for item in items]

    def _resolved_column(self, spec: _Resolved, parent_type: GraphQLObjectType, details: Any,
                         path: Path, items: list[Any]) -> list[Any]:
        raw_info = self.build_resolve_info(spec.field_def, [d.node for d in details],
                                           parent_type, path)
        if self.row_levels:
            done = self._relation_from_rows(spec, details, raw_info, path, items)
            if done is not None:
                return done
        fn = spec.fn
        if spec.with_info:
            info = spec.info_class(_raw_info=raw_info, _field=spec.field)
            values = [fn(item, info) for item in items]
        else:
            values = [fn(item) for item in items]
        if spec.shape == _LEAF:
            if any(map(self.is_awaitable, values)):
                raise _Fallback
            return _leaf_values(spec.inner, spec.memo, spec.non_null, values)
        if spec.shape == _OBJECT:
            if spec.non_null and any(v is None for v in values):
                raise _Fallback
            return self._complete_level(spec.inner, False, details, raw_info, path, values)
        return self._list_column(spec, details, raw_info, path, values)

    def _list_column(self, spec: _Resolved, details: Any, raw_info: Any, path: Path,
                     values: list[Any]) -> list[Any]:
        """A list per item: completed all together, then cut back into the items' lists."""
        flat: list[Any] = []
        sizes: list[int] = []
        for value in values:
            if value is None:
                if spec.non_null:
                    raise _Fallback
                sizes.append(-1)
                continue
            if not isinstance(value, list | tuple):
                raise _Fallback
            flat.extend(value)
            sizes.append(len(value))
        if spec.shape == _LIST_LEAF:
            if any(map(self.is_awaitable, flat)):
                raise _Fallback
            done = _leaf_values(spec.inner, spec.memo, spec.inner_non_null, flat)
        else:
            done = self._complete_level(spec.inner, spec.inner_non_null, details, raw_info,
                                        path, flat)
        out: list[Any] = []
        start = 0
        for size in sizes:
            if size < 0:
                out.append(None)
            else:
                out.append(done[start:start + size])
                start += size
        return out

    def _relation_from_rows(self, spec: _Resolved, details: Any, raw_info: Any, path: Path,
                            items: list[Any]) -> list[Any] | None:
        """A marked relationship of nodes of one batch whose whole sub-selection is
        compilable: completed from rows (graphql_api.execution_rows); None: the node path."""
        relation = relation_of(spec)
        if relation is None or not items:
            return None
        batch = getattr(items[0], "_b", None)
        if batch is None or not hasattr(batch.model, "__table__") or any(
                getattr(item, "_b", None) is not batch for item in items):
            return None
        if not compilable(self, spec.inner, details):
            return None
        info = spec.info_class(_raw_info=raw_info, _field=spec.field)
        return relation_column(self, spec, relation, info, raw_info, details, path, batch,
                               [item._m for item in items])
