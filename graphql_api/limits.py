"""Limits checked before any resolver runs: tokens (while parsing), then depth, aliases
(fragments included), page size and cost (as a validation rule).

Values come from the app config of the request (GRAPHQL_MAX_TOKENS, GRAPHQL_MAX_DEPTH,
GRAPHQL_MAX_ALIASES, GRAPHQL_MAX_PAGE_SIZE, GRAPHQL_MAX_COST).

Depth: the nesting level of the deepest field; ``{ me { user { username } } }`` has depth 3.
Cost: every field that returns an object costs 1 plus its sub-selection; a connection costs
``first`` (default 20) × its sub-selection; a plain list (contacts, complaints of a customer, …)
counts as LIST_FACTOR items. Scalars are free.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import count_fields_with_alias

from graphql_api.pagination import DEFAULT_PAGE_SIZE

LIST_FACTOR = 10
_PASS_THROUGH = {"edges", "node", "nodes"}  # connection plumbing, already multiplied


def _limit_error(kind: str, actual: int, maximum: int, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "LIMIT_EXCEEDED", "limit": kind,
                                             "max": maximum, "actual": actual})


class _Walker:
    """Depth and cost of one operation, following fragments (each spread counted again)."""

    def __init__(self, ctx: ValidationContext, variables: Mapping[str, Any], max_page: int,
                 fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = ctx.schema
        self.variables = variables or {}
        self.max_page = max_page
        self.fragments = fragments
        self.page_errors: list[GraphQLError] = []

    def _first(self, node: FieldNode) -> int:
        for arg in node.arguments or ():
            if arg.name.value != "first":
                continue
            value = arg.value
            if isinstance(value, IntValueNode):
                n = int(value.value)
            elif isinstance(value, VariableNode):
                raw = self.variables.get(value.name.value)
                n = raw if isinstance(raw, int) and not isinstance(raw, bool) else DEFAULT_PAGE_SIZE
            else:
                n = DEFAULT_PAGE_SIZE
            if n < 0 or n > self.max_page:
                self.page_errors.append(_limit_error(
                    "pageSize", n, self.max_page,
                    f"first must be between 0 and {self.max_page} (got {n})."))
                return max(0, min(n, self.max_page))
            return n
        return DEFAULT_PAGE_SIZE

    def walk(self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None,
             depth: int, seen: frozenset[str]) -> tuple[int, int]:
        """(max depth below, cost) of a selection set."""
        if selection_set is None:
            return depth, 0
        max_depth, cost = depth, 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                d, c = self._field(sel, parent, depth + 1, seen)
            elif isinstance(sel, InlineFragmentNode):
                target = parent
                if sel.type_condition is not None:
                    target = self.schema.get_type(sel.type_condition.name.value) or parent
                d, c = self.walk(sel.selection_set, target, depth, seen)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                frag = self.fragments.get(name)
                if frag is None or name in seen:
                    continue
                target = self.schema.get_type(frag.type_condition.name.value) or parent
                d, c = self.walk(frag.selection_set, target, depth, seen | {name})
            else:  # pragma: no cover
                continue
            max_depth = max(max_depth, d)
            cost += c
        return max_depth, cost

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, depth: int,
               seen: frozenset[str]) -> tuple[int, int]:
        name = node.name.value
        field_type = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            fdef = parent.fields.get(name)
            field_type = fdef.type if fdef is not None else None
        is_list = False
        t = field_type
        while isinstance(t, GraphQLNonNull | GraphQLList):
            if isinstance(t, GraphQLList):
                is_list = True
            t = t.of_type
        sub_depth, sub_cost = self.walk(node.selection_set, t, depth, seen)
        if node.selection_set is None:
            return depth, 0
        type_name = getattr(t, "name", "") or ""
        parent_name = getattr(parent, "name", "") or ""
        if type_name.endswith("Connection"):
            return sub_depth, self._first(node) * max(1, sub_cost)
        if name in _PASS_THROUGH and (parent_name.endswith(("Connection", "Edge"))):
            return sub_depth, sub_cost
        unit = 1 + sub_cost
        return sub_depth, unit * LIST_FACTOR if is_list else unit


def make_rule(config: Mapping[str, Any], variables: Mapping[str, Any] | None,
              operation_name: str | None) -> type[ValidationRule]:
    max_depth = int(config["GRAPHQL_MAX_DEPTH"])
    max_aliases = int(config["GRAPHQL_MAX_ALIASES"])
    max_cost = int(config["GRAPHQL_MAX_COST"])
    max_page = int(config["GRAPHQL_MAX_PAGE_SIZE"])

    class LimitsRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            doc = context.document
            fragments = {d.name.value: d for d in doc.definitions
                         if isinstance(d, FragmentDefinitionNode)}
            operations = [d for d in doc.definitions if isinstance(d, OperationDefinitionNode)]
            aliases = sum(count_fields_with_alias(op, fragments) for op in operations)
            if aliases > max_aliases:
                context.report_error(_limit_error(
                    "aliases", aliases, max_aliases,
                    f"Too many aliases: {aliases} (at most {max_aliases})."))
            walker = _Walker(context, variables or {}, max_page, fragments)
            for op in operations:
                root = (context.schema.mutation_type if op.operation == OperationType.MUTATION
                        else context.schema.query_type)
                depth, cost = walker.walk(op.selection_set, root, 0, frozenset())
                if depth > max_depth:
                    context.report_error(_limit_error(
                        "depth", depth, max_depth,
                        f"The query is too deep: depth {depth} (at most {max_depth})."))
                if cost > max_cost:
                    context.report_error(_limit_error(
                        "cost", cost, max_cost,
                        f"The query is too expensive: cost {cost} (at most {max_cost}). "
                        "Ask for smaller pages or fewer nested lists."))
            for error in walker.page_errors:
                context.report_error(error)

    return LimitsRule


def csrf_rule(ctx: Any, operation_name: str | None) -> type[ValidationRule]:
    """Refuse a mutation sent with the session cookie but without a valid X-CSRFToken."""

    class CsrfRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            ops = [d for d in context.document.definitions
                   if isinstance(d, OperationDefinitionNode)]
            if operation_name:
                ops = [op for op in ops if op.name and op.name.value == operation_name]
            if any(op.operation == OperationType.MUTATION for op in ops):
                ctx.refusal_status = 403
                context.report_error(GraphQLError(
                    "A mutation with the session cookie needs the X-CSRFToken header.",
                    extensions={"code": "CSRF"}))

    return CsrfRule


class _LRU:
    """A small thread-safe LRU (gunicorn may run threads)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.data: OrderedDict[Any, Any] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            value = self.data.get(key)
            if value is not None:
                self.data.move_to_end(key)
            return value

    def put(self, key: Any, value: Any) -> None:
        with self.lock:
            self.data[key] = value
            self.data.move_to_end(key)
            while len(self.data) > self.maxsize:
                self.data.popitem(last=False)


# Parsed documents by (query text, token limit), and validation results by everything the
# rules depend on. Front ends send the same few query texts over and over: parsing and
# validating them again (limits included) is about a tenth of a small request.
_PARSED = _LRU(256)
_VALIDATED = _LRU(512)
MAX_CACHED_QUERY = 20_000  # characters; longer texts are parsed and validated every time


class Limits(SchemaExtension):
    """Installs the limits (and the introspection switch) for each operation validated, and
    caches the parsed document and the validation result of a query text (a cached result
    needs no rules)."""

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        ctx = ec.context
        ec.parse_options["max_tokens"] = int(ctx.config["GRAPHQL_MAX_TOKENS"])
        # the CSRF rule has a side effect (the 403 status): never cached
        self._cacheable = not (ctx.auth_method == "cookie" and not ctx.csrf_ok)
        yield

    def _add_rules(self) -> None:
        """The limits (and the introspection switch, the CSRF rule) join the validation
        rules; only when the document is validated (not for a cached validation result)."""
        ec = self.execution_context
        ctx = ec.context
        config = ctx.config
        rules: list[type[ValidationRule]] = [make_rule(config, ec.variables, ec.operation_name)]
        if not config.get("GRAPHQL_INTROSPECTION", True):
            rules.append(NoSchemaIntrospectionCustomRule)
        if not self._cacheable:
            rules.append(csrf_rule(ctx, ec.operation_name))
        ec.validation_rules = ec.validation_rules + tuple(rules)

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        query = ec.query
        key = None
        if query and len(query) <= MAX_CACHED_QUERY and ec.graphql_document is None:
            key = (query, ec.parse_options.get("max_tokens"))
            hit = _PARSED.get(key)
            if hit is not None:
                ec.graphql_document = hit  # strawberry then skips parsing
                key = None
        yield
        if key is not None and ec.graphql_document is not None:
            _PARSED.put(key, ec.graphql_document)

    def _validation_key(self) -> Any:
        ec = self.execution_context
        query = ec.query
        if not self._cacheable or not query or len(query) > MAX_CACHED_QUERY:
            return None
        try:
            variables = json.dumps(ec.variables or {}, sort_keys=True, default=str)
        except (TypeError, ValueError):
            return None
        config = ec.context.config
        limits = tuple(config.get(k) for k in (
            "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_ALIASES", "GRAPHQL_MAX_COST",
            "GRAPHQL_MAX_PAGE_SIZE", "GRAPHQL_MAX_TOKENS", "GRAPHQL_INTROSPECTION"))
        return (query, ec.operation_name, variables, limits)

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        key = self._validation_key() if ec.pre_execution_errors is None else None
        if key is not None:
            hit = _VALIDATED.get(key)
            if hit is not None:
                ec.pre_execution_errors = list(hit)  # strawberry then skips validation
                key = None
        if ec.pre_execution_errors is None:
            self._add_rules()
        yield
        if key is not None and ec.pre_execution_errors is not None:
            _VALIDATED.put(key, tuple(ec.pre_execution_errors))
