"""GraphQL queries G1–G5 written against whatever the schema of graphql_api/ exposes.

The schema is read (graphql-core types), not guessed: a connection is selected through
``nodes`` or ``edges { node }`` as it offers, and scalar fields are taken only if present. When the
schema has no ``customers`` connection, :func:`plan` says why and the GraphQL measures are
skipped."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
)


def _unwrap(t):
    while isinstance(t, GraphQLNonNull | GraphQLList):
        t = t.of_type
    return t


def _is_list(t) -> bool:
    while isinstance(t, GraphQLNonNull):
        t = t.of_type
    return isinstance(t, GraphQLList)


@dataclass
class Plan:
    ok: bool
    reason: str = ""
    customers_args: set[str] = field(default_factory=set)
    customer_type: GraphQLObjectType | None = None
    connection_style: str = "nodes"  # or "edges"
    detail_field: str | None = None  # customer(id:) or node(id:)
    schema: GraphQLSchema | None = None
    filter_fields: set[str] = field(default_factory=set)

    @property
    def can_search(self) -> bool:
        return bool({"search", "q", "text"} & (self.customers_args | self.filter_fields))

    # -- selection builders ------------------------------------------------------------------
    def _scalars(self, t: GraphQLObjectType, names: list[str]) -> str:
        return " ".join(n for n in names if n in t.fields)

    def _wrap_connection(self, selection: str, style: str | None = None) -> str:
        style = style or self.connection_style
        if style == "edges":
            return f"edges {{ node {{ {selection} }} }}"
        return f"nodes {{ {selection} }}"

    def _child(self, parent: GraphQLObjectType, names: tuple[str, ...], scalars: list[str],
               page: int) -> str:
        """Selection of a related object, list or connection, if the schema has one."""
        for name in names:
            fdef = parent.fields.get(name)
            if fdef is None:
                continue
            inner = _unwrap(fdef.type)
            if not isinstance(inner, GraphQLObjectType):
                continue
            if "edges" in inner.fields or "nodes" in inner.fields:
                node_t = _unwrap((inner.fields.get("nodes") or inner.fields["edges"]).type)
                if "node" in node_t.fields:
                    node_t = _unwrap(node_t.fields["node"].type)
                style = "nodes" if "nodes" in inner.fields else "edges"
                args = f"(first: {page})" if "first" in fdef.args else ""
                sel = self._scalars(node_t, scalars) or "id"
                return f"{name}{args} {{ {self._wrap_connection(sel, style)} }}"
            sel = self._scalars(inner, scalars) or "id"
            return f"{name} {{ {sel} }}"
        return ""

    def list_query(self, page: int, *, branch: str | None = None, scalars: list[str],
                   nested: bool = False, search: str | None = None) -> str:
        t = self.customer_type
        assert t is not None
        sel = self._scalars(t, scalars)
        if nested:
            sel += " " + self._child(t, ("owner",), ["id", "fullName", "username"], page)
            sel += " " + self._child(t, ("creditLines", "creditLine", "credit_lines"),
                                     ["id", "limitAmount", "status"], 50)
            sel += " " + self._child(t, ("complaints",), ["id", "number", "status"], 50)
        args = [f"first: {page}"]
        filters = []
        names = self.customers_args | self.filter_fields
        target = filters if self.filter_fields else args
        if branch is not None:
            for name in ("branch", "branchId"):
                if name in names:
                    target.append(f'{name}: "{branch}"')
                    break
        if search is not None:
            for name in ("search", "q", "text"):
                if name in names:
                    target.append(f'{name}: "{search}"')
                    break
        if filters:
            args.append("filter: { " + ", ".join(filters) + " }")
        return (f"query {{ customers({', '.join(args)}) "
                f"{{ {self._wrap_connection(sel)} }} }}")

    def detail_query(self, customer_gid: str) -> str:
        t = self.customer_type
        assert t is not None
        sel = self._scalars(t, ["id", "code", "name", "status", "phone", "address",
                                "registeredAt", "outstandingBalance"])
        sel += " " + self._child(t, ("owner",), ["id", "fullName"], 50)
        sel += " " + self._child(t, ("contacts",), ["id", "name", "phone"], 50)
        sel += " " + self._child(t, ("ownerChanges", "ownerHistory"), ["id", "reason"], 50)
        sel += " " + self._child(t, ("followUps",), ["id", "kind", "happenedAt"], 50)
        sel += " " + self._child(t, ("complaints",), ["id", "number", "status", "description"],
                                 50)
        sel += " " + self._child(t, ("creditEvaluations",), ["id", "rating"], 50)
        sel += " " + self._child(t, ("creditLines",), ["id", "limitAmount", "status"], 50)
        sel += " " + self._child(t, ("receptionRecords", "receptions"),
                                 ["id", "kind", "arrivedAt"], 50)
        sel += " " + self._child(t, ("files", "confidentialFiles"), ["id", "title", "level"],
                                 50)
        if self.detail_field == "customer":
            return f'query {{ customer(id: "{customer_gid}") {{ {sel} }} }}'
        return f'query {{ node(id: "{customer_gid}") {{ ... on Customer {{ {sel} }} }} }}'


def plan(schema: GraphQLSchema) -> Plan:
    q = schema.query_type
    if q is None or "customers" not in q.fields:
        return Plan(False, "graphql_api has no `customers` connection yet")
    fdef = q.fields["customers"]
    conn_t = _unwrap(fdef.type)
    if not isinstance(conn_t, GraphQLObjectType):
        return Plan(False, "`customers` is not an object/connection type")
    if "nodes" in conn_t.fields:
        node_t, style = _unwrap(conn_t.fields["nodes"].type), "nodes"
    elif "edges" in conn_t.fields:
        edge_t = _unwrap(conn_t.fields["edges"].type)
        node_t, style = _unwrap(edge_t.fields["node"].type), "edges"
    else:
        return Plan(False, "`customers` is not a connection (no nodes/edges)")
    if "first" not in fdef.args:
        return Plan(False, "`customers` takes no `first` argument")
    filter_fields: set[str] = set()
    if "filter" in fdef.args:
        ft = _unwrap(fdef.args["filter"].type)
        filter_fields = set(getattr(ft, "fields", {}) or {})
    detail = "customer" if "customer" in q.fields else ("node" if "node" in q.fields else None)
    return Plan(True, customers_args=set(fdef.args), customer_type=node_t,
                connection_style=style, detail_field=detail, schema=schema,
                filter_fields=filter_fields)


def load_plan() -> Plan:
    try:
        from graphql_api.schema import schema
    except Exception as exc:
        return Plan(False, f"graphql_api.schema does not import: {exc.__class__.__name__}: {exc}")
    return plan(schema._schema)
