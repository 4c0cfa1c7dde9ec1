"""Per-request batch loading, scoped by the policy (no N+1, no leaks through relationships).

Objects of one level of the answer (a page of customers, all complaints of that page, …) form
a ``Batch``. The first time a relationship is asked for on any object of a batch, it is loaded
for the whole batch with ONE statement::

    policy.scope(select(Child), user, Child).where(Child.parent_id.in_(parent ids))

The rows found form the next batch, so deeper levels are batched too: the number of SQL
statements of a request depends on the shape of the query, not on the page size. Every load
goes through ``policy.scope``: a related row the user may not see is ``null`` (to-one) or
missing (to-many), exactly as if it did not exist.

Lists and relationships are fetched as plain rows (a Core-style select of the columns the
selected fields need: no identity map, no instance state), except for files, whose policy
checks read relationships of the row and which stay ORM objects. Complaint rows carry their
customer's owner, branch and department (joined), which is what their scope depends on.
``node(id:)`` and mutations hand ORM objects to the same types; both read the same attribute
names. Field visibility (``visible``) depends only on the model and the row's own columns for
the light models, and is computed once per distinct owner/branch/department (customers),
self/other (users) or per model (the rest).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ARRAY, Integer, Select, Text, any_, cast, literal, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session, aliased, joinedload, selectinload

from models import Complaint, ConfidentialFile, Customer
from models.org import User
from portal import policy

T = TypeVar("T")

# Relationships the policy itself reads on a row (chain_of, knowledge scope), loaded with the
# row so that visibility checks never issue one statement per row.
LOAD_OPTIONS: dict[type, tuple[Any, ...]] = {
    Complaint: (joinedload(Complaint.customer),),
    ConfidentialFile: (joinedload(ConfidentialFile.customer),
                       selectinload(ConfidentialFile.scope_members)),
}


_COLUMNS: dict[type, tuple[Any, ...]] = {}


# Models always loaded as ORM objects: the file checks (clearance, knowledge scope, download)
# read relationships of the row.
ENTITIES_ONLY = frozenset({ConfidentialFile})

# A complaint's scope depends on its customer's owner/branch/department: plain complaint rows
# carry them as extra labelled columns (an outer join to the customer).
_COMPLAINT_CUSTOMER = aliased(Customer, name="complaint_customer")
_COMPLAINT_CHAIN = (
    _COMPLAINT_CUSTOMER.owner_id.label("customer_owner_id"),
    _COMPLAINT_CUSTOMER.branch_id.label("customer_branch_id"),
    _COMPLAINT_CUSTOMER.department_id.label("customer_department_id"),
)


def light(model: type) -> bool:
    """Loaded as plain rows (what the policy reads is in the row, or joined to it)."""
    return model not in ENTITIES_ONLY


def columns(model: type) -> tuple[Any, ...]:
    """The model's column attributes a node may read (never the NEVER_VISIBLE ones)."""
    cols = _COLUMNS.get(model)
    if cols is None:
        cols = tuple(getattr(model, a.key) for a in sa_inspect(model).column_attrs
                     if a.key not in policy.NEVER_VISIBLE)
        _COLUMNS[model] = cols
    return cols


# Columns the policy reads on a light row to decide field visibility (Loaders.visible).
POLICY_COLUMNS: dict[type, tuple[str, ...]] = {
    Customer: ("owner_id", "branch_id", "department_id"),
    Complaint: ("customer_id", "received_by_id", "handler_id"),
}
_NEEDS: dict[tuple[type, type, frozenset[str]], tuple[Any, ...] | None] = {}
_GQL_NAMES: dict[type, dict[str, str]] = {}


def _python_names(cls: type) -> dict[str, str]:
    """GraphQL field name → Python attribute name of a node type."""
    names = _GQL_NAMES.get(cls)
    if names is None:
        from strawberry.utils.str_converters import to_camel_case

        definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
        names = {(f.graphql_name or to_camel_case(f.python_name)): f.python_name
                 for f in definition.fields}
        _GQL_NAMES[cls] = names
    return names


def selected(info: Any, path: tuple[str, ...] = ()) -> set[str] | None:
    """GraphQL names of the fields selected at ``path`` below the current field (fragments
    followed, aliases merged); None when it cannot be told (then everything is loaded)."""
    raw = info._raw_info
    fragments = raw.fragments
    out: set[str] = set()

    def walk(selection_set: Any, rest: tuple[str, ...]) -> None:
        if selection_set is None:
            return
        for sel in selection_set.selections:
            kind = sel.kind
            if kind == "field":
                if not rest:
                    out.add(sel.name.value)
                elif sel.name.value == rest[0]:
                    walk(sel.selection_set, rest[1:])
            elif kind == "inline_fragment":
                walk(sel.selection_set, rest)
            elif kind == "fragment_spread":
                frag = fragments.get(sel.name.value)
                if frag is not None:
                    walk(frag.selection_set, rest)

    for node in raw.field_nodes:
        walk(node.selection_set, path)
    return out


def _list_fields(cls: type) -> frozenset[str]:
    """Python names of the resolver fields of ``cls`` that return a list (its to-many
    relationships: ``types.base.many``, which reads only the parent's id)."""
    names = _LIST_FIELDS.get(cls)
    if names is None:
        from strawberry.types.base import StrawberryList, StrawberryOptional

        found = set()
        for f in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
            t = f.type
            if isinstance(t, StrawberryOptional):
                t = t.of_type
            if f.base_resolver is not None and isinstance(t, StrawberryList):
                found.add(f.python_name)
        names = frozenset(found)
        _LIST_FIELDS[cls] = names
    return names


_LIST_FIELDS: dict[type, frozenset[str]] = {}


def columns_for(cls: type, model: type, gql_names: set[str] | None,
                extra: Iterable[str] = ()) -> tuple[Any, ...] | None:
    """The columns of ``model`` a node of ``cls`` needs for the selected fields, the policy's
    columns and ``extra``; None (= every column) when a selected field's needs are unknown.

    A selected field needs: its column (scalars, guarded columns); its foreign key
    ``<name>_id`` (to-one relationships); nothing (list fields: to-many relationships, loaded
    by the parent's id); or what the node class declares in ``NEEDS`` (computed fields).
    Anything else loads every column. A guarded field of a complaint also needs the customer
    chain (``_COMPLAINT_CHAIN``) for its visibility."""
    if gql_names is None or not light(model):
        return None
    key = (cls, model, frozenset(gql_names) | {"\0" + e for e in extra})
    if key in _NEEDS:
        return _NEEDS[key]
    mapper = sa_inspect(model)
    column_keys = {a.key for a in mapper.column_attrs} - policy.NEVER_VISIBLE
    python = _python_names(cls)
    lists = _list_fields(cls)
    declared: dict[str, tuple[str, ...]] = getattr(cls, "NEEDS", {})
    guarded = frozenset().union(*policy.FIELD_GROUPS.get(model, {}).values())
    needed = {"id", *POLICY_COLUMNS.get(model, ()), *extra}
    chain = False
    result: tuple[Any, ...] | None = None
    for gname in gql_names:
        if gname == "__typename":
            continue
        name = python.get(gname)
        if name is None:
            break
        chain = chain or name in guarded or name in getattr(cls, "GUARDED_FIELDS", ())
        if name in ("id", "database_id"):
            continue
        if name in declared:
            needed.update(declared[name])
        elif name in column_keys:
            needed.add(name)  # a scalar, or a guarded column (phone, description, …)
        elif f"{name}_id" in column_keys:
            needed.add(f"{name}_id")  # a to-one relationship: its foreign key
        elif name in lists:
            continue  # a to-many relationship: loaded by the parent's id
        else:
            break  # a computed field: its needs are unknown, load everything
    else:
        result = tuple(getattr(model, k) for k in sorted(needed))
        if chain and model is Complaint:
            result += _COMPLAINT_CHAIN
    _NEEDS[key] = result
    return result


class Batch:
    """Sibling rows of one level of the answer (all of ``model``), and what was loaded for
    them."""

    __slots__ = ("cache", "model", "objs")

    def __init__(self, objs: Iterable[Any], model: type | None = None) -> None:
        self.objs = list(objs)
        self.model = model if model is not None else (
            type(self.objs[0]) if self.objs else None)
        self.cache: dict[Any, Any] = {}


class Loaders:
    def __init__(self, session: Session, user: User) -> None:
        self.session = session
        self.user = user
        self._visible: dict[Any, frozenset[str]] = {}
        self._wanted: dict[Any, tuple[Any, ...] | None] = {}
        self._pg: bool | None = None

    def wanted(self, info: Any, cls: type, model: type, paths: Sequence[tuple[str, ...]] = ((),),
               extra: tuple[str, ...] = ()) -> tuple[Any, ...] | None:
        """``columns_for`` the fields selected below the current field (at ``paths``),
        memoised per field of the query: the hundred resolutions of ``owner`` on a page ask
        once."""
        nodes = info._raw_info.field_nodes
        key = (tuple(map(id, nodes)), cls, model, tuple(paths), extra)
        if key in self._wanted:
            return self._wanted[key]
        names: set[str] = set()
        for path in paths:
            names |= selected(info, path) or set()
        cols = columns_for(cls, model, names, extra)
        self._wanted[key] = cols
        return cols

    # -- statements ---------------------------------------------------------------------

    def scoped(self, model: type, action: str = "view",
               cols: tuple[Any, ...] | None = None, per_row: bool = False) -> Select:
        """The scoped statement for a list of ``model``: plain rows of ``cols`` (default: every
        readable column) for light models, ORM objects for the others. ``per_row``: the
        caller picks the rows by id (``policy.scope``)."""
        if not light(model):
            return self.scoped_entities(model, action, per_row)
        return policy.scope(self.plain(model, cols), self.user, model, action, per_row)

    @staticmethod
    def plain(model: type, cols: tuple[Any, ...] | None = None) -> Select:
        """The columns ``cols`` of a light model's rows (its customer chain joined for a
        complaint), before any scope: for rows a scoped statement has already picked."""
        if cols is None:
            cols = columns(model) + (_COMPLAINT_CHAIN if model is Complaint else ())
        stmt = select(*cols)
        if model is Complaint and any(c is _COMPLAINT_CHAIN[0] for c in cols):
            stmt = stmt.select_from(Complaint).outerjoin(
                _COMPLAINT_CUSTOMER, _COMPLAINT_CUSTOMER.id == Complaint.customer_id)
        return stmt

    def scoped_entities(self, model: type, action: str = "view",
                        per_row: bool = False) -> Select:
        stmt = policy.scope(select(model), self.user, model, action, per_row)
        options = LOAD_OPTIONS.get(model)
        return stmt.options(*options) if options else stmt

    def rows(self, stmt: Select, model: type) -> list[Any]:
        if light(model):
            return list(self.session.execute(stmt).all())
        return list(self.session.scalars(stmt).unique().all())

    def get(self, model: type, pk: int) -> Any | None:
        """One row (an ORM object) through the scope: out of scope answers exactly like
        missing."""
        return self.session.scalar(self.scoped_entities(model, per_row=True)
                                   .where(model.id == pk))

    def _in(self, column: Any, ids: set[int]) -> Any:
        """``column IN ids``; on PostgreSQL ``column = ANY(:array)``: one parameter, so the
        statement text does not depend on the number of ids and psycopg prepares it (no
        planning per request) after a few executions."""
        if self._pg is None:
            self._pg = self.session.get_bind().dialect.name == "postgresql"
        if self._pg:
            # the array as its text form, cast in SQL: psycopg's dumping of a Python list
            # checks every element, the text is one string (the ids are ints)
            text = "{" + ",".join(map(str, sorted(int(i) for i in ids))) + "}"
            return column == any_(cast(literal(text, Text), ARRAY(Integer)))
        return column.in_(ids)

    # -- relationships ------------------------------------------------------------------

    def to_one(self, batch: Batch, fk_attr: str, model: type,
               cols: tuple[Any, ...] | None = None) -> tuple[dict[int, Any], Batch]:
        key = ("one", fk_attr, model, cols)
        hit = batch.cache.get(key)
        if hit is None:
            ids = {v for v in (getattr(o, fk_attr) for o in batch.objs) if v is not None}
            stmt = self.scoped(model, cols=cols, per_row=True).where(self._in(model.id, ids))
            found = self.rows(stmt, model) if ids else []
            hit = ({o.id: o for o in found}, Batch(found, model))
            batch.cache[key] = hit
        return hit

    def to_many(self, batch: Batch, model: type, fk_col: Any, order_by: Sequence[Any] = (),
                cols: tuple[Any, ...] | None = None) -> tuple[dict[int, list[Any]], Batch]:
        key = ("many", model, fk_col.key, cols)
        hit = batch.cache.get(key)
        if hit is None:
            ids = {o.id for o in batch.objs}
            grouped: dict[int, list[Any]] = defaultdict(list)
            found: list[Any] = []
            if ids:
                stmt = self.scoped(model, cols=cols, per_row=True).where(
                    self._in(fk_col, ids))
                found = self.rows(stmt.order_by(*(order_by or (model.id,))), model)
                for row in found:
                    grouped[getattr(row, fk_col.key)].append(row)
            hit = (grouped, Batch(found, model))
            batch.cache[key] = hit
        return hit

    # -- field visibility ---------------------------------------------------------------

    def visible(self, obj: Any, model: type | None = None) -> frozenset[str]:
        """``policy.visible_fields`` for the row ``obj`` of ``model`` (an ORM object or a
        plain row)."""
        model = model or type(obj)
        if model not in policy.FIELD_GROUPS:
            key: Any = model  # no field groups: the same for every row
        elif model is Customer:
            key = (model, obj.owner_id, obj.branch_id, obj.department_id)
        elif model is User:
            key = (model, obj.id == self.user.id)
        elif model is Complaint and not isinstance(obj, Complaint):
            key = (model, obj.received_by_id, obj.handler_id, obj.customer_id is None,
                   obj.customer_owner_id, obj.customer_branch_id, obj.customer_department_id)
        else:
            key = (model, obj.id)
        names = self._visible.get(key)
        if names is None:
            names = policy.visible_fields(self.user, model, self._policy_obj(obj, model))
            self._visible[key] = names
        return names

    @staticmethod
    def _policy_obj(obj: Any, model: type) -> Any:
        """What the policy's row checks read: the ORM object, or for a plain customer row a
        transient Customer carrying the columns the scope of a customer depends on."""
        if isinstance(obj, model):
            return obj
        if model is Customer:
            return Customer(id=obj.id, owner_id=obj.owner_id, branch_id=obj.branch_id,
                            department_id=obj.department_id)
        if model is User:
            return obj  # the policy reads only ``id`` of a user row
        if model is Complaint:
            customer = None if obj.customer_id is None else Customer(
                id=obj.customer_id, owner_id=obj.customer_owner_id,
                branch_id=obj.customer_branch_id, department_id=obj.customer_department_id)
            return Complaint(id=obj.id, customer_id=obj.customer_id, customer=customer,
                             received_by_id=obj.received_by_id, handler_id=obj.handler_id)
        raise TypeError(f"{model.__name__} rows must be loaded as ORM objects")


def wrap(cls: Callable[..., T], objs: Iterable[Any]) -> list[T]:
    """Wrap the rows of one batch in their GraphQL type."""
    batch = objs if isinstance(objs, Batch) else Batch(objs)
    return [cls.from_model(o, batch) for o in batch.objs]  # type: ignore[attr-defined]
