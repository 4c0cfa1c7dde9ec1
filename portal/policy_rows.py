"""Who a row belongs to, for the one policy (``portal.policy``): the Python-side chain of a
record (owners, branch, department) and the SQL conditions of each scope. Split out of
``portal/policy.py``; import these names from there."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, false, or_, select, true
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from models import (
    ApiToken,
    ArchiveLoan,
    AuditEntry,
    Branch,
    Complaint,
    ComplaintEvent,
    ComplaintReminder,
    ConfidentialFile,
    CopyRequest,
    CreditApproval,
    Customer,
    Department,
    FileLevelChange,
    FileScopeMember,
    ImportStaging,
    JointAttendance,
    JointEvent,
    JointInvitation,
    JointRuling,
    Notification,
    NotificationChannel,
    PenaltyLine,
    PenaltyNotice,
    ReceivableSettlement,
    ReceptionRecord,
    RoleAssignment,
    RotationSlot,
    User,
)
from models.enums import Scope
from portal.policy_levels import is_open_to_staff, open_to_staff_sql

_OWN, _BR, _DEP, _ALL = Scope.OWN.value, Scope.BRANCH.value, Scope.DEPARTMENT.value, Scope.ALL.value


@dataclass(frozen=True)
class Chain:
    """Who a row belongs to: its owners, branch and department (for Python-side checks)."""

    owners: frozenset[int]
    branch_id: int | None
    department_id: int | None


def _customer_chain(c: Customer | None, extra: Iterable[int | None] = ()) -> Chain:
    owners = {u for u in extra if u}
    if c is None:
        return Chain(frozenset(owners), None, None)
    if c.owner_id:
        owners.add(c.owner_id)
    return Chain(frozenset(owners), c.branch_id, c.department_id)


def _owned_by(user_id: int | None) -> Chain:
    return Chain(frozenset({user_id} if user_id else ()), None, None)


def _file_chain(f: ConfidentialFile) -> Chain:
    base = _customer_chain(f.customer, (f.uploaded_by_id, f.responsible_manager_id))
    return Chain(base.owners, base.branch_id, f.department_id or base.department_id)


# record type → its chain (checked in order; the first matching type decides)
_CHAINS: tuple[tuple[type | tuple[type, ...], Callable[[Any], Chain]], ...] = (
    (Customer, _customer_chain),
    (ReceptionRecord, lambda o: Chain(
        frozenset(u for u in (o.received_by_id, o.assigned_to_id) if u),
        o.branch_id, o.department_id)),
    (Complaint, lambda o: _customer_chain(o.customer, (o.received_by_id, o.handler_id))),
    (ConfidentialFile, _file_chain),
    (User, lambda o: Chain(frozenset({o.id}), o.branch_id, o.department_id)),
    (Branch, lambda o: Chain(frozenset(), o.id, o.department_id)),
    (Department, lambda o: Chain(frozenset(), None, o.id)),
    (PenaltyNotice, lambda o: Chain(frozenset(), None, o.department_id)),
    (PenaltyLine, lambda o: chain_of(o.notice)),
    (ReceivableSettlement, lambda o: chain_of(o.receivable)),
    (AuditEntry, lambda o: _owned_by(o.actor_id)),
    ((RoleAssignment, ApiToken, Notification, NotificationChannel, ImportStaging),
     lambda o: _owned_by(o.user_id)),
    (RotationSlot, lambda o: Chain(frozenset({o.user_id}), o.branch_id, None)),
    ((ComplaintEvent, ComplaintReminder), lambda o: chain_of(o.complaint)),
    (CreditApproval, lambda o: chain_of(o.credit_line)),
    ((FileScopeMember, CopyRequest, FileLevelChange), lambda o: chain_of(o.file)),
    # a loan belongs to its borrower and to the archive's people (R-CUST-9)
    (ArchiveLoan, lambda o: _customer_chain(o.customer, (o.borrower_id,))),
    # a joint event belongs to its coordinator and (see ``_in_joint_event``) to every
    # department taking part
    (JointEvent, lambda o: _owned_by(o.coordinator_id)),
    (JointRuling, lambda o: chain_of(o.event)),
    (JointInvitation, lambda o: Chain(frozenset({o.confirmed_by_id, o.submitted_by_id}), None,
                                      o.department_id)),
    (JointAttendance, lambda o: Chain(frozenset({o.credited_user_id}), None, o.department_id)),
)


def chain_of(obj: Any) -> Chain:
    for kind, chain in _CHAINS:
        if isinstance(obj, kind):
            return chain(obj)
    customer = getattr(obj, "customer", None)
    if isinstance(customer, Customer):
        return _customer_chain(customer)
    return Chain(frozenset(), None, None)


def _in_scope(user: User, scope_name: str, obj: Any) -> bool:
    if scope_name == _ALL or is_open_to_staff(obj):
        return True
    chain = chain_of(obj)
    if scope_name == _OWN:
        return user.id in chain.owners
    if scope_name in (_DEP, _BR) and _in_joint_event(user, obj):
        return True
    if scope_name == _BR:
        return (user.branch_id is not None and chain.branch_id == user.branch_id) \
            or user.id in chain.owners
    if scope_name == _DEP:
        return (user.department_id is not None and chain.department_id == user.department_id) \
            or user.id in chain.owners or _file_customer_in_department(user, obj)
    return False


def _in_joint_event(user: User, obj: Any) -> bool:
    """A joint event (and its rulings) belongs to every department taking part, as in its SQL
    twin ``_joint_event_filter``."""
    if isinstance(obj, JointRuling):
        obj = obj.event
    return isinstance(obj, JointEvent) and user.department_id is not None \
        and user.department_id in obj.department_ids


def _file_customer_in_department(user: User, obj: Any) -> bool:
    """A file whose department differs from its customer's belongs to both departments, as in
    its SQL twin ``_file_row_filter`` (found by the no-read-up property test)."""
    if isinstance(obj, FileScopeMember | CopyRequest | FileLevelChange):
        obj = obj.file
    if not isinstance(obj, ConfidentialFile) or obj.customer is None \
            or user.department_id is None:
        return False
    return obj.customer.department_id == user.department_id


# (user, scope name, per_row) → the SQL condition for the rows of that scope
ScopeBuilder = Callable[..., ColumnElement[bool]]


def _customer_filter(user: User, scope_name: str, per_row: bool = False,
                     c: Any = Customer) -> ColumnElement[bool]:
    """Branch and department scopes include what the user owns (as ``_in_scope`` does), so
    an owner moved to another branch still sees their customers in lists and checks alike.
    ``c``: the customers table or an alias of it."""
    own = c.owner_id == user.id
    if scope_name == _OWN:
        return own
    if scope_name == _BR:
        return or_(own, c.branch_id == user.branch_id) if user.branch_id else own
    if scope_name == _DEP:
        return or_(own, c.department_id == user.department_id) \
            if user.department_id else own
    return true()


# the customer of the row in a per-row check (an alias: the outer statement may select
# customers itself); built once, an alias is costly to construct
_SCOPE_CUSTOMER = aliased(Customer, name="scope_customer")


def _via_customer(column: Any) -> ScopeBuilder:
    """Rows hanging off a customer in scope.

    Two SQL forms of the same rule. For a list, ``column IN (customers in scope)``: with the
    rule OR-ed to others (complaints), PostgreSQL hashes the customers in scope once, the
    right plan for a page or a count. For a few rows picked by id (``per_row``: the
    complaints of one page of customers), a correlated ``EXISTS`` looks each row's customer
    up by primary key instead of hashing the whole branch first, which at a million
    customers is twenty thousand rows for a supervisor."""
    def build(user: User, scope_name: str, per_row: bool = False) -> ColumnElement[bool]:
        if scope_name == _ALL:
            return true()
        if per_row:
            c = _SCOPE_CUSTOMER
            return (select(c.id)
                    .where(c.id == column, _customer_filter(user, scope_name, c=c))
                    .correlate_except(c).exists())
        return column.in_(select(Customer.id).where(_customer_filter(user, scope_name)))
    return build


def _columns(owner_cols: Iterable[Any], branch_col: Any, dept_col: Any) -> ScopeBuilder:
    owner_cols = tuple(owner_cols)

    def build(user: User, scope_name: str, per_row: bool = False) -> ColumnElement[bool]:
        own = or_(*[c == user.id for c in owner_cols]) if owner_cols else false()
        if scope_name == _OWN:
            return own
        if scope_name == _BR:
            return or_(own, branch_col == user.branch_id) \
                if branch_col is not None and user.branch_id else own
        if scope_name == _DEP:
            return or_(own, dept_col == user.department_id) \
                if dept_col is not None and user.department_id else own
        return true()
    return build


def _joint_event_filter(user: User, scope_name: str, per_row: bool = False
                        ) -> ColumnElement[bool]:
    """Joint events (R-CUST-10): ``own`` — the events one coordinates; ``branch`` and
    ``department`` — also the events one's department takes part in."""
    from models.joint_event import joint_event_departments as jed

    if scope_name == _ALL:
        return true()
    own = JointEvent.coordinator_id == user.id
    if scope_name == _OWN or user.department_id is None:
        return own
    return or_(own, JointEvent.id.in_(select(jed.c.event_id)
                                      .where(jed.c.department_id == user.department_id)))


def _complaint_filter(user: User, scope_name: str, per_row: bool = False
                      ) -> ColumnElement[bool]:
    if scope_name == _ALL:
        return true()
    mine = or_(Complaint.received_by_id == user.id, Complaint.handler_id == user.id)
    return or_(mine, _via_customer(Complaint.customer_id)(user, scope_name, per_row))


def _file_row_filter(user: User, scope_name: str, per_row: bool = False
                     ) -> ColumnElement[bool]:
    if scope_name == _ALL:
        return true()
    mine = or_(ConfidentialFile.uploaded_by_id == user.id,
               ConfidentialFile.responsible_manager_id == user.id,
               # the customer's owner is in the chain whatever the scope (as in ``chain_of``)
               ConfidentialFile.customer_id.in_(
                   select(Customer.id).where(Customer.owner_id == user.id)))
    by_customer = and_(ConfidentialFile.customer_id.is_not(None),
                       _via_customer(ConfidentialFile.customer_id)(user, scope_name,
                                                                   per_row))
    parts = [mine, by_customer, open_to_staff_sql()]
    if scope_name == _DEP and user.department_id:
        parts.append(ConfidentialFile.department_id == user.department_id)
    return or_(*parts)


def _loan_filter(user: User, scope_name: str, per_row: bool = False) -> ColumnElement[bool]:
    """SQL twin of the loan's chain: the borrower's own, and those of archives in scope."""
    if scope_name == _ALL:
        return true()
    return or_(ArchiveLoan.borrower_id == user.id,
               _via_customer(ArchiveLoan.customer_id)(user, scope_name, per_row))
