"""A faster execution context: plain scalar fields are completed inline.

graphql-core runs every field through the same machinery (a ``Path``, a resolve-info object,
Strawberry's resolver wrapper, ``complete_value``): about 4 µs per field, which dominates a
page of a thousand rows. A *plain* field — a Strawberry field without resolver, extensions or
arguments (``field.is_basic_field``: its value is ``getattr(source, python_name)``) whose type
is a scalar or an enum — needs none of that: this context reads the attribute and coerces it
with the type's own ``coerce_output_value``, exactly what ``complete_leaf_value`` does.

Anything else — fields with resolvers (the permission-guarded ones included), objects, lists,
``__typename``, or a plain field whose value is missing or cannot be coerced — goes through
the normal path, so errors, nulls and their locations are exactly graphql-core's. Nothing is
skipped when a middleware (a schema extension with a ``resolve`` hook) is installed.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, GraphQLObjectType, Undefined, is_leaf_type
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# parent type → {field name: (attribute name or resolver, leaf type, non-null)}; built once
# per type
_PLANS: dict[GraphQLObjectType, dict[str, tuple[Any, Any, bool, Any]]] = {}
_ENUM_MEMO: dict[GraphQLEnumType, dict[Any, Any]] = {}


def _coerce(leaf: Any, memo: dict[Any, Any] | None, value: Any) -> Any:
    if memo is None:
        return leaf.coerce_output_value(value)
    coerced = memo.get(value)
    if coerced is None:
        coerced = leaf.coerce_output_value(value)
        if coerced is not None and coerced is not Undefined:
            memo[value] = coerced
    return coerced


def _plan(parent_type: GraphQLObjectType) -> dict[str, tuple[Any, Any, bool, Any]]:
    plan = _PLANS.get(parent_type)
    if plan is not None:
        return plan
    plan = {}
    for name, fdef in parent_type.fields.items():
        resolve = fdef.resolve
        if resolve is None or not getattr(resolve, "_is_default", False) or fdef.args:
            continue
        t = fdef.type
        non_null = isinstance(t, GraphQLNonNull)
        if non_null:
            t = t.of_type
        if not is_leaf_type(t):
            continue
        definition = (fdef.extensions or {}).get("strawberry-definition")
        python_name = getattr(definition, "python_name", None)
        # an enum's output coercion is a linear search over its values: memoised per type
        # (a closed vocabulary, so the memo stays small)
        memo = _ENUM_MEMO.setdefault(t, {}) if isinstance(t, GraphQLEnumType) else None
        if python_name and getattr(definition, "default_resolver", getattr) is getattr:
            # Strawberry's basic resolver is getattr(source, python_name): call it directly
            plan[name] = (python_name, t, non_null, memo)
        else:
            plan[name] = (resolve, t, non_null, memo)
    _PLANS[parent_type] = plan
    return plan


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(self, parent_type: GraphQLObjectType, source_value: Any,
                       path: Path | None, grouped_field_set: Any,
                       position_context: Any) -> Any:
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return super().execute_fields(parent_type, source_value, path, grouped_field_set,
                                          position_context)
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
            except Exception:  # noqa: BLE001  (the normal path reports it properly)
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
            async def merged() -> dict[str, Any]:
                done = await rest
                return _ordered(grouped_field_set, fast, done)
            return merged()
        return _ordered(grouped_field_set, fast, rest)


    def complete_list_value(self, return_type: Any, field_details_list: Any, info: Any,
                            path: Path, result: Any, position_context: Any) -> Any:
        """A list of objects whose selected fields are all plain fields (a page of rows, the
        complaints of a customer, …) is completed in one loop, without the per-item
        machinery; anything unusual falls back to graphql-core for the whole list."""
        fast = self._fast_list(return_type, field_details_list, info, result)
        if fast is not None:
            return fast
        return super().complete_list_value(return_type, field_details_list, info, path,
                                           result, position_context)

    def _fast_list(self, return_type: Any, field_details_list: Any, info: Any,
                   result: Any) -> list[Any] | None:
        manager = self.middleware_manager
        if (manager is not None and manager.middlewares) or not isinstance(result, list):
            return None
        item_type = return_type.of_type
        item_non_null = isinstance(item_type, GraphQLNonNull)
        if item_non_null:
            item_type = item_type.of_type
        if not isinstance(item_type, GraphQLObjectType):
            return None
        if any(d.node.directives for d in field_details_list):
            return None  # @stream and friends: the normal path
        grouped, new_defer_usages, _forbidden = self.collect_subfields(item_type,
                                                                       field_details_list)
        if new_defer_usages:
            return None
        plan = _plan(item_type)
        fields = []
        for response_name, details in grouped.items():
            node = details[0].node
            entry = plan.get(node.name.value)
            if entry is None or node.arguments or node.directives:
                return None
            fields.append((response_name, *entry))
        is_type_of = item_type.is_type_of
        out: list[Any] = []
        append = out.append
        try:
            for item in result:
                if item is None:
                    if item_non_null:
                        return None
                    append(None)
                    continue
                if is_type_of is not None and not is_type_of(item, info):
                    return None
                data: dict[str, Any] = {}
                for response_name, getter, leaf, non_null, memo in fields:
                    value = (getattr(item, getter) if getter.__class__ is str
                             else getter(item, None))
                    if value is None:
                        if non_null:
                            return None
                        data[response_name] = None
                        continue
                    coerced = _coerce(leaf, memo, value)
                    if coerced is Undefined or coerced is None:
                        return None
                    data[response_name] = coerced
                append(data)
        except Exception:  # noqa: BLE001  (the normal path reports it with its location)
            return None
        return out


def _ordered(grouped_field_set: Any, fast: dict[str, Any], rest: dict[str, Any]
             ) -> dict[str, Any]:
    """Merge the two halves in the order of the query (responses keep field order)."""
    if not fast:
        return rest
    out: dict[str, Any] = {}
    for name in grouped_field_set:
        if name in fast:
            out[name] = fast[name]
        elif name in rest:
            out[name] = rest[name]
    return out
