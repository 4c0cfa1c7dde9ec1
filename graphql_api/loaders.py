"""Per-request batch loading, scoped by the policy (no N+1, no leaks through relationships).

Objects of one level of the answer (a page of customers, all complaints of that page, …) form
a ``Batch``. The first time a relationship is asked for on any object of a batch, it is loaded
for the whole batch with ONE statement::

    policy.scope(select(Child), user, Child).where(Child.parent_id.in_(parent ids))

The rows found form the next batch, so deeper levels are batched too: the number of SQL
statements of a request depends on the shape of the query, not on the page size. Every load
goes through ``policy.scope``: a related row the user may not see is ``null`` (to-one) or
missing (to-many), exactly as if it did not exist.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import Complaint, ConfidentialFile
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


class Batch:
    """Sibling rows of one level of the answer, and what was loaded for them."""

    __slots__ = ("cache", "objs")

    def __init__(self, objs: Iterable[Any]) -> None:
        self.objs = list(objs)
        self.cache: dict[Any, Any] = {}


class Loaders:
    def __init__(self, session: Session, user: User) -> None:
        self.session = session
        self.user = user
        self._visible: dict[tuple[type, int], frozenset[str]] = {}

    # -- statements ---------------------------------------------------------------------

    def scoped(self, model: type, action: str = "view") -> Select:
        stmt = policy.scope(select(model), self.user, model, action)
        options = LOAD_OPTIONS.get(model)
        return stmt.options(*options) if options else stmt

    def rows(self, stmt: Select) -> list[Any]:
        return list(self.session.scalars(stmt).unique().all())

    def get(self, model: type, pk: int) -> Any | None:
        """One row through the scope: out of scope answers exactly like missing."""
        return self.session.scalar(self.scoped(model).where(model.id == pk))

    # -- relationships ------------------------------------------------------------------

    def to_one(self, batch: Batch, fk_attr: str, model: type) -> tuple[dict[int, Any], Batch]:
        key = ("one", fk_attr, model)
        hit = batch.cache.get(key)
        if hit is None:
            ids = {v for v in (getattr(o, fk_attr) for o in batch.objs) if v is not None}
            found = self.rows(self.scoped(model).where(model.id.in_(ids))) if ids else []
            hit = ({o.id: o for o in found}, Batch(found))
            batch.cache[key] = hit
        return hit

    def to_many(self, batch: Batch, model: type, fk_col: Any,
                order_by: Sequence[Any] = ()) -> tuple[dict[int, list[Any]], Batch]:
        key = ("many", model, fk_col.key)
        hit = batch.cache.get(key)
        if hit is None:
            ids = {o.id for o in batch.objs}
            grouped: dict[int, list[Any]] = defaultdict(list)
            found: list[Any] = []
            if ids:
                stmt = self.scoped(model).where(fk_col.in_(ids))
                found = self.rows(stmt.order_by(*(order_by or (model.id,))))
                for row in found:
                    grouped[getattr(row, fk_col.key)].append(row)
            hit = (grouped, Batch(found))
            batch.cache[key] = hit
        return hit

    # -- field visibility ---------------------------------------------------------------

    def visible(self, obj: Any) -> frozenset[str]:
        key = (type(obj), obj.id)
        names = self._visible.get(key)
        if names is None:
            names = policy.visible_fields(self.user, type(obj), obj)
            self._visible[key] = names
        return names


def wrap(cls: Callable[..., T], objs: Iterable[Any]) -> list[T]:
    """Wrap the rows of one batch in their GraphQL type."""
    batch = objs if isinstance(objs, Batch) else Batch(objs)
    return [cls.from_model(o, batch) for o in batch.objs]  # type: ignore[attr-defined]
