"""The one policy: the only module that knows roles, scopes, field visibility and clearances.

Grants are data (table ``grants``: role → area → action → scope); scopes and field groups are
code here. Both front doors ask only three questions:

- ``can(user, action, target)``: model-level (target is a class) or object-level (an instance);
- ``scope(select, user, model, action="view")``: the same Select restricted to permitted rows;
- ``visible_fields(user, model, obj=None)``: the fields this user may read on that row.

Deny by default: no grant means no rows and no actions. Hard rules that grants cannot override:
auditors are read-only (R-ROLE-3); inactive users can do nothing (R-ROLE-4); classified files are
never read up (R-FILE-1), whatever the role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, case, event, false, literal, or_, select, true
from sqlalchemy.orm import Session, aliased, object_session
from sqlalchemy.sql.elements import ColumnElement

from models import (
    ApiToken,
    AuditEntry,
    Branch,
    CalendarDay,
    Complaint,
    ComplaintEvent,
    ComplaintReminder,
    ConfidentialFile,
    CopyRequest,
    CorrectionRequest,
    CreditApproval,
    CreditEvaluation,
    CreditLine,
    CreditSummaryApproval,
    CreditUsageReview,
    Customer,
    CustomerContact,
    CustomerCorrection,
    CustomerTransaction,
    Department,
    FileLevelChange,
    FileScopeMember,
    FollowUp,
    Grant,
    ImportStaging,
    Notification,
    NotificationChannel,
    OutboxMessage,
    OverLimitApproval,
    OwnerChange,
    PenaltyLine,
    PenaltyNotice,
    PendingAction,
    Receivable,
    ReceivableSettlement,
    ReceptionRecord,
    RoleAssignment,
    RotationSlot,
    Setting,
    User,
)
from models.enums import Level, Role, Scope

# ---------------------------------------------------------------------------------------------
# Roles and default grants (domain.md, "People, organisation and roles")
# ---------------------------------------------------------------------------------------------

ADMIN_ROLES = frozenset({Role.SYSADMIN.value, Role.SECADMIN.value, Role.SECAUDITOR.value})
READ_ONLY_ROLES = frozenset({Role.AUDITOR.value, Role.SECAUDITOR.value})
READ_ACTIONS = frozenset({"view", "export"})
# The one write a read-only role does: the security auditor is one of the three who confirm
# each other's actions on administrators' accounts (R-ROLE-2); it changes no business data.
READ_ONLY_EXEMPT = frozenset({("two_person", "confirm")})

ROLE_LABELS = {
    Role.SALES: ("Salesperson", "销售顾问"),
    Role.SUPERVISOR: ("Showroom supervisor", "展厅主管"),
    Role.DEPT_MANAGER: ("Department manager", "部门经理"),
    Role.GENERAL_MANAGER: ("General manager", "总经理"),
    Role.FINANCE: ("Finance credit officer", "财务信用主管"),
    Role.SERVICE: ("Customer service", "客服专员"),
    Role.RECEPTION: ("Receptionist", "前台"),
    Role.AUDITOR: ("Auditor", "审计员"),
    Role.SYSADMIN: ("System administrator", "系统管理员"),
    Role.SECADMIN: ("Security administrator", "安全保密管理员"),
    Role.SECAUDITOR: ("Security auditor", "安全审计员"),
}

# Areas and their actions. Every grant names one of these.
AREAS: dict[str, tuple[str, ...]] = {
    "customer": ("view", "add", "change", "export", "import", "reassign", "follow_up",
                 "claim", "be_owner", "close", "approve_correction"),
    "customer_contact": ("view", "change"),
    "customer_credit": ("view",),
    "reception": ("view", "add", "change", "export", "take_turns", "manage_rotation",
                  "approve_go_out"),
    "complaint": ("view", "add", "change", "assign", "handle", "approve", "approve_major",
                  "close", "reject", "extend", "remind", "export", "approve_compensation",
                  "confirm_penalty"),
    "complaint_detail": ("view",),
    "credit": ("view", "evaluate", "propose", "review", "approve", "record_transaction",
               "approve_over_limit", "review_usage", "export", "approve_summary"),
    "penalty": ("view", "export"),
    "file": ("view", "upload", "download", "in_chain", "read_all_levels", "approve_copy",
             "approve_copy_top", "manage_scope", "name_top_secret", "classify", "export"),
    "user": ("view", "add", "change", "deactivate", "reset_password", "set_clearance",
             "export"),
    "org": ("view", "add", "change", "export"),
    "setting": ("view", "change", "delete"),
    "audit": ("view", "export"),
    "grant": ("view", "change"),
    "report": ("view", "export"),
    "token": ("view", "add", "change"),
    # two-person actions on administrators' accounts (R-ROLE-2): see and confirm/refuse
    "two_person": ("view", "confirm"),
}

_S = Scope
_OWN, _BR, _DEP, _ALL = _S.OWN.value, _S.BRANCH.value, _S.DEPARTMENT.value, _S.ALL.value


def _g(area: str, actions: Iterable[str], scope: str) -> list[tuple[str, str, str]]:
    return [(area, a, scope) for a in actions]


def _customer_work(scope: str) -> list[tuple[str, str, str]]:
    """What sales, supervisors and managers do with the customers in their scope."""
    return (_g("customer", ("view", "add", "change", "follow_up", "export", "import"), scope)
            + _g("customer_contact", ("view", "change"), scope)
            + _g("customer_credit", ("view",), scope)
            + _g("reception", ("view", "add", "change"), scope)
            + _g("complaint", ("view",), scope)
            + _g("complaint_detail", ("view",), scope)
            + _g("credit", ("view",), scope)
            + _g("file", ("view", "upload", "download", "in_chain"), scope)
            + _g("org", ("view",), scope)
            + _g("user", ("view",), scope)
            + _g("report", ("view",), scope))


def _read_everything(scope: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for area, actions in AREAS.items():
        if area in ("grant", "token", "two_person"):
            continue
        rows += [(area, a, scope) for a in ("view", "export") if a in actions]
    return rows


DEFAULT_GRANTS: dict[str, list[tuple[str, str, str]]] = {
    Role.SALES: _customer_work(_OWN) + _g("customer", ("be_owner", "claim"), _OWN)
    + _g("reception", ("take_turns",), _OWN) + _g("token", ("view", "add", "change"), _OWN),
    Role.SUPERVISOR: _customer_work(_BR)
    + _g("customer", ("reassign", "claim"), _BR)
    + _g("reception", ("manage_rotation", "export", "approve_go_out"), _BR)
    + _g("token", ("view", "add", "change"), _OWN),
    Role.DEPT_MANAGER: _customer_work(_DEP)
    + _g("customer", ("reassign", "close", "approve_correction"), _DEP)
    + _g("reception", ("manage_rotation", "export", "approve_go_out"), _DEP)
    + _g("complaint", ("approve", "assign", "remind", "extend", "export"), _DEP)
    + _g("credit", ("propose", "evaluate", "export"), _DEP)
    + _g("penalty", ("view",), _DEP)
    + _g("file", ("approve_copy", "manage_scope"), _DEP)
    + _g("token", ("view", "add", "change"), _OWN),
    Role.GENERAL_MANAGER: _read_everything(_ALL)
    + _customer_work(_ALL)
    + _g("customer", ("reassign", "close", "approve_correction"), _ALL)
    + _g("complaint", ("approve", "approve_major", "approve_compensation", "assign", "remind",
                       "extend", "confirm_penalty"), _ALL)
    + _g("credit", ("approve", "approve_over_limit", "propose", "evaluate", "approve_summary"),
         _ALL)
    + _g("file", ("read_all_levels", "approve_copy", "approve_copy_top", "manage_scope",
                  "name_top_secret"), _ALL)
    + _g("token", ("view", "add", "change"), _OWN),
    Role.FINANCE: _g("customer", ("view", "export"), _ALL)
    + _g("customer_credit", ("view",), _ALL)
    + _g("credit", ("view", "evaluate", "review", "record_transaction", "review_usage",
                    "export"), _ALL)
    + _g("org", ("view",), _ALL) + _g("user", ("view",), _ALL) + _g("report", ("view",), _ALL)
    + _g("file", ("view", "upload", "download"), _OWN)
    + _g("token", ("view", "add", "change"), _OWN),
    Role.SERVICE: _g("customer", ("view", "follow_up", "export"), _ALL)
    + _g("customer_contact", ("view",), _ALL)
    + _g("complaint", ("view", "add", "change", "assign", "handle", "close", "reject",
                       "remind", "extend", "export"), _ALL)
    + _g("complaint_detail", ("view",), _ALL)
    + _g("org", ("view",), _ALL) + _g("user", ("view",), _ALL) + _g("report", ("view",), _ALL)
    + _g("file", ("view", "download"), _OWN)  # R-FILE-1: the company's public documents
    + _g("token", ("view", "add", "change"), _OWN),
    Role.RECEPTION: _g("reception", ("view", "add", "change", "manage_rotation"), _BR)
    + _g("file", ("view", "download"), _OWN)  # R-FILE-1: the company's public documents
    + _g("customer", ("view", "add"), _ALL)
    + _g("customer_contact", ("view",), _ALL)
    + _g("org", ("view",), _ALL) + _g("user", ("view",), _BR)
    + _g("token", ("view", "add", "change"), _OWN),
    Role.AUDITOR: _read_everything(_ALL),
    Role.SYSADMIN: _g("user", ("view", "add", "change", "deactivate", "reset_password",
                               "export"), _ALL)
    + _g("two_person", ("view", "confirm"), _ALL)
    + _g("org", ("view", "add", "change", "export"), _ALL)
    + _g("setting", ("view", "change", "delete"), _ALL)
    + _g("token", ("view", "add", "change"), _OWN),
    Role.SECADMIN: _g("grant", ("view", "change"), _ALL)
    + _g("two_person", ("view", "confirm"), _ALL)
    + _g("user", ("view", "set_clearance"), _ALL)
    + _g("org", ("view",), _ALL)
    + _g("file", ("view", "classify", "manage_scope"), _ALL)
    + _g("token", ("view", "add", "change"), _OWN),
    Role.SECAUDITOR: _g("audit", ("view", "export"), _ALL) + _g("user", ("view",), _ALL)
    + _g("two_person", ("view", "confirm"), _ALL)
    + _g("org", ("view",), _ALL),
}

# ---------------------------------------------------------------------------------------------
# Models → areas, scopes and field groups
# ---------------------------------------------------------------------------------------------

MODEL_AREA: dict[type, str] = {
    Customer: "customer", CustomerContact: "customer", FollowUp: "customer",
    OwnerChange: "customer", CustomerCorrection: "customer", CorrectionRequest: "customer", CustomerTransaction: "credit",
    ReceptionRecord: "reception", RotationSlot: "reception",
    Complaint: "complaint", ComplaintEvent: "complaint", ComplaintReminder: "complaint",
    CreditEvaluation: "credit", CreditLine: "credit", CreditApproval: "credit",
    OverLimitApproval: "credit", CreditUsageReview: "credit",
    Receivable: "credit", ReceivableSettlement: "credit", CreditSummaryApproval: "credit",
    PenaltyNotice: "penalty", PenaltyLine: "penalty",
    ConfidentialFile: "file", FileScopeMember: "file", CopyRequest: "file",
    FileLevelChange: "file",
    User: "user", Department: "org", Branch: "org",
    Setting: "setting", CalendarDay: "setting",
    AuditEntry: "audit", Grant: "grant", RoleAssignment: "grant",
    ApiToken: "token", Notification: "token", NotificationChannel: "token",
    OutboxMessage: "setting", ImportStaging: "token",
    PendingAction: "two_person",
}

# Fields hidden unless the user holds ``<group>.view`` on the row. Everything else of a
# readable row is readable; NEVER_VISIBLE is never shown to anyone.
FIELD_GROUPS: dict[type, dict[str, frozenset[str]]] = {
    Customer: {
        "customer_contact": frozenset({"phone", "address", "website", "credit_code", "contacts"}),
        "customer_credit": frozenset({"outstanding_balance", "transaction_summary"}),
    },
    Complaint: {
        "complaint_detail": frozenset({"description", "resolution", "compensation_amount",
                                       "accused_user", "accused_user_id", "rejection_reason",
                                       "satisfaction", "events"}),
    },
    User: {
        "user_private": frozenset({"email", "phone", "failed_logins", "locked_until",
                                   "last_login_at", "clearance", "is_active", "language"}),
    },
}
NEVER_VISIBLE = frozenset({"password_hash", "token_hash", "session_version", "name_normalized",
                           "phone_normalized", "credit_code_normalized", "hash", "prev_hash"})


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


def chain_of(obj: Any) -> Chain:
    if isinstance(obj, Customer):
        return _customer_chain(obj)
    if isinstance(obj, ReceptionRecord):
        return Chain(frozenset(u for u in (obj.received_by_id, obj.assigned_to_id) if u),
                     obj.branch_id, obj.department_id)
    if isinstance(obj, Complaint):
        return _customer_chain(obj.customer, (obj.received_by_id, obj.handler_id))
    if isinstance(obj, ConfidentialFile):
        base = _customer_chain(obj.customer, (obj.uploaded_by_id, obj.responsible_manager_id))
        return Chain(base.owners, base.branch_id, obj.department_id or base.department_id)
    if isinstance(obj, User):
        return Chain(frozenset({obj.id}), obj.branch_id, obj.department_id)
    if isinstance(obj, Branch):
        return Chain(frozenset(), obj.id, obj.department_id)
    if isinstance(obj, Department):
        return Chain(frozenset(), None, obj.id)
    if isinstance(obj, PenaltyNotice):
        return Chain(frozenset(), None, obj.department_id)
    if isinstance(obj, PenaltyLine):
        return chain_of(obj.notice)
    if isinstance(obj, ReceivableSettlement):
        return chain_of(obj.receivable)
    if isinstance(obj, AuditEntry):
        return Chain(frozenset({obj.actor_id} if obj.actor_id else ()), None, None)
    if isinstance(obj, RoleAssignment | ApiToken | Notification | NotificationChannel
                  | ImportStaging):
        return Chain(frozenset({obj.user_id} if obj.user_id else ()), None, None)
    if isinstance(obj, RotationSlot):
        return Chain(frozenset({obj.user_id}), obj.branch_id, None)
    if isinstance(obj, ComplaintEvent | ComplaintReminder):
        return chain_of(obj.complaint)
    if isinstance(obj, CreditApproval):
        return chain_of(obj.credit_line)
    if isinstance(obj, FileScopeMember | CopyRequest | FileLevelChange):
        return chain_of(obj.file)
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
    if scope_name == _BR:
        return (user.branch_id is not None and chain.branch_id == user.branch_id) \
            or user.id in chain.owners
    if scope_name == _DEP:
        return (user.department_id is not None and chain.department_id == user.department_id) \
            or user.id in chain.owners or _file_customer_in_department(user, obj)
    return False


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


def _complaint_filter(user: User, scope_name: str, per_row: bool = False
                      ) -> ColumnElement[bool]:
    if scope_name == _ALL:
        return true()
    mine = or_(Complaint.received_by_id == user.id, Complaint.handler_id == user.id)
    return or_(mine, _via_customer(Complaint.customer_id)(user, scope_name, per_row))


def is_open_to_staff(obj: Any, today: date | None = None) -> bool:
    """R-FILE-1: a standalone file (no customer) whose level in force is public or internal
    needs no knowledge scope: it is in every scope of a file grant (公司简介, 销售政策).
    Files attached to a customer follow that customer's scope. SQL twin: open_to_staff_sql."""
    return isinstance(obj, ConfidentialFile) and obj.customer_id is None \
        and effective_level(obj, today) <= Level.INTERNAL


def open_to_staff_sql(today: date | None = None) -> ColumnElement[bool]:
    """SQL twin of ``is_open_to_staff`` (in ``_file_row_filter``, so in ``scope``)."""
    return and_(ConfidentialFile.customer_id.is_(None),
                _effective_level_sql(today or _company_today()) <= Level.INTERNAL.value)


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


def _child_of(parent_col: Any, parent_model: type) -> ScopeBuilder:
    def build(user: User, scope_name: str, per_row: bool = False) -> ColumnElement[bool]:
        if scope_name == _ALL:
            return true()
        parent_rule = SCOPE_FILTERS[parent_model](user, scope_name, per_row)
        if per_row:  # see _via_customer
            return (select(parent_model.id)
                    .where(parent_model.id == parent_col, parent_rule)
                    .correlate_except(parent_model).exists())
        return parent_col.in_(select(parent_model.id).where(parent_rule))
    return build


SCOPE_FILTERS: dict[type, ScopeBuilder] = {
    Customer: _customer_filter,
    CustomerContact: _via_customer(CustomerContact.customer_id),
    FollowUp: _via_customer(FollowUp.customer_id),
    OwnerChange: _via_customer(OwnerChange.customer_id),
    CustomerCorrection: _via_customer(CustomerCorrection.customer_id),
    CorrectionRequest: _via_customer(CorrectionRequest.customer_id),
    CustomerTransaction: _via_customer(CustomerTransaction.customer_id),
    CreditEvaluation: _via_customer(CreditEvaluation.customer_id),
    CreditLine: _via_customer(CreditLine.customer_id),
    OverLimitApproval: _via_customer(OverLimitApproval.customer_id),
    CreditUsageReview: _via_customer(CreditUsageReview.customer_id),
    Receivable: _via_customer(Receivable.customer_id),
    # a company-wide table: only an "all" grant reads it
    CreditSummaryApproval: _columns((), None, None),
    PenaltyNotice: _columns((), None, PenaltyNotice.department_id),
    Complaint: _complaint_filter,
    ReceptionRecord: _columns((ReceptionRecord.received_by_id, ReceptionRecord.assigned_to_id),
                              ReceptionRecord.branch_id, ReceptionRecord.department_id),
    RotationSlot: _columns((RotationSlot.user_id,), RotationSlot.branch_id, None),
    ConfidentialFile: _file_row_filter,
    User: _columns((User.id,), User.branch_id, User.department_id),
    Branch: _columns((), Branch.id, Branch.department_id),
    Department: _columns((), None, Department.id),
    AuditEntry: _columns((AuditEntry.actor_id,), None, None),
    RoleAssignment: _columns((RoleAssignment.user_id,), None, None),
    ApiToken: _columns((ApiToken.user_id,), None, None),
    Notification: _columns((Notification.user_id,), None, None),
    NotificationChannel: _columns((NotificationChannel.user_id,), None, None),
    OutboxMessage: _columns((), None, None),
    ImportStaging: _columns((ImportStaging.user_id,), None, None),
    PendingAction: _columns((PendingAction.requested_by_id,), None, None),
    Grant: _columns((), None, None),
    Setting: _columns((), None, None),
    CalendarDay: _columns((), None, None),
}
SCOPE_FILTERS[ComplaintEvent] = _child_of(ComplaintEvent.complaint_id, Complaint)
SCOPE_FILTERS[ComplaintReminder] = _child_of(ComplaintReminder.complaint_id, Complaint)
SCOPE_FILTERS[CreditApproval] = _child_of(CreditApproval.credit_line_id, CreditLine)
SCOPE_FILTERS[ReceivableSettlement] = _child_of(ReceivableSettlement.receivable_id, Receivable)
SCOPE_FILTERS[PenaltyLine] = _child_of(PenaltyLine.notice_id, PenaltyNotice)
SCOPE_FILTERS[FileScopeMember] = _child_of(FileScopeMember.file_id, ConfidentialFile)
SCOPE_FILTERS[FileLevelChange] = _child_of(FileLevelChange.file_id, ConfidentialFile)


def _copy_request_filter(user: User, scope_name: str, per_row: bool = False
                         ) -> ColumnElement[bool]:
    """A requester always sees their own requests; approvers see those of files in scope."""
    if scope_name == _ALL:
        return true()
    return or_(CopyRequest.requested_by_id == user.id,
               _child_of(CopyRequest.file_id, ConfidentialFile)(user, scope_name, per_row))


SCOPE_FILTERS[CopyRequest] = _copy_request_filter

# ---------------------------------------------------------------------------------------------
# Grants in force for a user (read once per transaction; changes apply on the next request)
# ---------------------------------------------------------------------------------------------

_CACHE_KEY = "policy_grants"


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_grants(session: Session) -> None:
    session.info.pop(_CACHE_KEY, None)


def roles_of(user: Any) -> frozenset[str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return frozenset()
    return frozenset(user.roles)


def _grant_table(user: User) -> dict[tuple[str, str], frozenset[str]]:
    session = object_session(user)
    roles = roles_of(user)
    if not roles:
        return {}
    cache: dict[tuple[int, frozenset[str]], dict] | None = None
    if session is not None:
        cache = session.info.setdefault(_CACHE_KEY, {})
        hit = cache.get((user.id, roles))
        if hit is not None:
            return hit
        rows = session.execute(select(Grant.area, Grant.action, Grant.scope)
                               .where(Grant.role.in_(roles))).all()
    else:
        rows = [(a, act, s) for r in roles for (a, act, s) in DEFAULT_GRANTS.get(r, [])]
    table: dict[tuple[str, str], set[str]] = {}
    for area, action, scope_name in rows:
        table.setdefault((area, action), set()).add(scope_name)
    frozen = {k: (frozenset({_ALL}) if _ALL in v else frozenset(v)) for k, v in table.items()}
    if cache is not None:
        cache[(user.id, roles)] = frozen
    return frozen


def _usable(user: Any) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) \
        and getattr(user, "is_active", False)


def split_action(action: str, target: Any = None) -> tuple[str, str]:
    if "." in action:
        area, verb = action.split(".", 1)
        return area, verb
    model = target if isinstance(target, type) else type(target)
    area = MODEL_AREA.get(model)
    if area is None:
        raise KeyError(f"no policy area for {model!r}")
    return area, action


def scopes_for(user: Any, action: str, target: Any = None) -> frozenset[str]:
    """The scopes under which ``user`` may do ``action`` (empty: not at all)."""
    if not _usable(user):
        return frozenset()
    area, verb = split_action(action, target)
    if verb not in READ_ACTIONS and roles_of(user) & READ_ONLY_ROLES \
            and (area, verb) not in READ_ONLY_EXEMPT:
        return frozenset()  # R-ROLE-3: auditors never write, whatever the grants say
    return _grant_table(user).get((area, verb), frozenset())


def is_read_only(user: Any) -> bool:
    return bool(roles_of(user) & READ_ONLY_ROLES)


def can(user: Any, action: str, target: Any = None) -> bool:
    """May ``user`` do ``action`` to ``target`` (a model class: on some rows; an instance:
    on that row)? ``action`` is ``"area.verb"`` or a bare verb with a model target."""
    scopes = scopes_for(user, action, target)
    if not scopes:
        return False
    if target is None or isinstance(target, type | str):
        return True
    if not any(_in_scope(user, s, target) for s in scopes):
        return False
    if isinstance(target, ConfidentialFile) and split_action(action, target)[1] in (
            "view", "download", "export"):
        return can_read_file(user, target)
    return True


def scope(stmt: Select, user: Any, model: type, action: str = "view",
          per_row: bool = False) -> Select:
    """Restrict ``stmt`` (selecting ``model``) to the rows ``user`` may ``action``.

    ``per_row``: the statement already picks a few rows by id (a relationship loaded for a
    page of parents); the same rule is then written in the form that checks those rows one
    by one (see ``_via_customer``). The rows allowed are the same either way."""
    full_action = action if "." in action else f"{MODEL_AREA[model]}.{action}"
    if per_row and not _selects_from(stmt, model):
        per_row = False  # the EXISTS must correlate with the model's rows of the statement
    scopes = scopes_for(user, full_action, model)
    if not scopes:
        return stmt.where(false())
    build = SCOPE_FILTERS.get(model)
    if build is None:
        return stmt.where(false())
    if _ALL in scopes:
        condition: ColumnElement[bool] = true()
    else:
        condition = or_(*[build(user, s, per_row) for s in sorted(scopes)])
    if model is ConfidentialFile and full_action.split(".")[1] in ("view", "download", "export"):
        condition = and_(condition, file_read_filter(user))
    if condition is not true():
        stmt = stmt.where(condition)
    return stmt


def _selects_from(stmt: Select, model: type) -> bool:
    """Whether the statement selects columns of the model's table (what the per-row EXISTS
    correlates with). Only the columns clause is looked at: it is cheap, where computing the
    final FROM list costs up to a millisecond; a statement that does not qualify simply keeps
    the list form."""
    return model.__table__ in stmt.columns_clause_froms


def visible_fields(user: Any, model: type, obj: Any = None) -> frozenset[str]:
    """Fields of ``model`` that ``user`` may read (on ``obj`` if given)."""
    from sqlalchemy import inspect as sa_inspect

    mapper = sa_inspect(model)
    names = {a.key for a in mapper.column_attrs} | {r.key for r in mapper.relationships}
    names -= NEVER_VISIBLE
    if not scopes_for(user, "view", model):
        return frozenset()
    for group, fields in FIELD_GROUPS.get(model, {}).items():
        if model is User and obj is not None and getattr(user, "id", None) == obj.id:
            continue  # everyone reads their own account
        if not group_visible(user, group, obj):
            names -= fields
    return frozenset(names)


def group_visible(user: Any, group: str, obj: Any = None) -> bool:
    """Whether a field group (``customer_contact``, ``customer_credit``, …) is readable."""
    if group == "user_private":
        return bool(scopes_for(user, "user.change")) or bool(scopes_for(user, "user.set_clearance")) \
            or is_read_only(user) and bool(scopes_for(user, "user.view"))
    scopes = scopes_for(user, f"{group}.view")
    if not scopes:
        return False
    if obj is None:
        return True
    return any(_in_scope(user, s, obj) for s in scopes)


# ---------------------------------------------------------------------------------------------
# Classified files: clearance and knowledge scope (R-FILE-1, R-FILE-2, R-ROLE-2)
# ---------------------------------------------------------------------------------------------


def _company_today() -> date:
    """The company's date from the controllable clock (not the server's local date)."""
    from portal import clock

    return clock.today()


def effective_level(f: ConfidentialFile, today: date | None = None) -> int:
    """The level in force: from the day after its secrecy period's end date (inclusive end), a
    classified file reads as internal — 内部, not public (R-FILE-4, derived at read time)."""
    today = today or _company_today()
    if f.level > Level.INTERNAL and f.secrecy_until is not None and f.secrecy_until < today:
        return Level.INTERNAL.value
    return f.level


def _effective_level_sql(today: date) -> ColumnElement[int]:
    return case(
        (and_(ConfidentialFile.level > Level.INTERNAL.value,
              ConfidentialFile.secrecy_until.is_not(None),
              ConfidentialFile.secrecy_until < today), literal(Level.INTERNAL.value)),
        else_=ConfidentialFile.level,
    )


def _clearance(user: Any) -> int:
    return int(getattr(user, "clearance", Level.PUBLIC.value) or 0)


def in_knowledge_scope(user: Any, f: ConfidentialFile, today: date | None = None) -> bool:
    level = effective_level(f, today)
    if level <= Level.INTERNAL:
        return True
    if scopes_for(user, "file.read_all_levels"):
        return True
    if any(m.user_id == user.id for m in f.scope_members):
        return True
    if level == Level.SECRET:
        scopes = scopes_for(user, "file.in_chain")
        return any(_in_scope(user, s, f) for s in scopes)
    if level == Level.CONFIDENTIAL:
        return f.responsible_manager_id == user.id
    return False  # top secret: only people named by the general manager


def can_read_file(user: Any, f: ConfidentialFile, today: date | None = None) -> bool:
    """No read up: clearance ≥ level AND in the knowledge scope. Being an administrator
    gives nothing here (R-ROLE-2)."""
    if not _usable(user):
        return False
    if effective_level(f, today) > _clearance(user):
        return False
    return in_knowledge_scope(user, f, today)


def file_read_filter(user: Any, today: date | None = None) -> ColumnElement[bool]:
    """SQL twin of ``can_read_file`` for lists, counts, search and export."""
    today = today or _company_today()
    level = _effective_level_sql(today)
    cleared = level <= _clearance(user)
    if scopes_for(user, "file.read_all_levels"):
        return cleared
    member = ConfidentialFile.id.in_(
        select(FileScopeMember.file_id).where(FileScopeMember.user_id == user.id))
    chain_scopes = scopes_for(user, "file.in_chain")
    if _ALL in chain_scopes:
        in_chain: ColumnElement[bool] = true()
    elif chain_scopes:
        in_chain = or_(*[_file_row_filter(user, s) for s in sorted(chain_scopes)])
    else:
        in_chain = false()
    knows = or_(
        level <= Level.INTERNAL.value,
        member,
        and_(level == Level.SECRET.value, in_chain),
        and_(level == Level.CONFIDENTIAL.value,
             ConfidentialFile.responsible_manager_id == user.id),
    )
    return and_(cleared, knows)


def copy_approver_action(level: int) -> str | None:
    """Which named action approves copying a file of this level (R-FILE-3), None if free."""
    if level >= Level.TOP_SECRET:
        return "file.approve_copy_top"
    if level >= Level.SECRET:
        return "file.approve_copy"
    return None


# ---------------------------------------------------------------------------------------------
# Roles: 三员分立 and who may assign
# ---------------------------------------------------------------------------------------------


def admin_role_conflict(current_roles: Iterable[str], new_role: str) -> str | None:
    """R-ROLE-2: the administrator role the user already holds that forbids ``new_role``."""
    if new_role not in ADMIN_ROLES:
        return None
    for held in current_roles:
        if held in ADMIN_ROLES and held != new_role:
            return held
    return None


def business_role_conflict(current_roles: Iterable[str], new_role: str) -> str | None:
    """R-ROLE-2: an administrator holds no business role, and a holder of a business role
    receives no administrator role. Returns the held role that forbids ``new_role``."""
    held = [r for r in current_roles if r != new_role]
    if new_role in ADMIN_ROLES:
        return next((r for r in held if r not in ADMIN_ROLES), None)
    return next((r for r in held if r in ADMIN_ROLES), None)


def self_grant_refused(actor: Any, subject: Any) -> bool:
    """R-ROLE-2: nobody assigns a role or a clearance to themselves, or adds themselves to a
    knowledge scope."""
    return getattr(actor, "id", None) is not None and getattr(actor, "id", None) == \
        getattr(subject, "id", subject)


# The grants that let the auditors read the audit log: never narrowed nor removed (R-ROLE-2).
PROTECTED_GRANTS = frozenset({(Role.AUDITOR.value, "audit", "view"),
                              (Role.AUDITOR.value, "audit", "export"),
                              (Role.SECAUDITOR.value, "audit", "view"),
                              (Role.SECAUDITOR.value, "audit", "export")})


def is_protected_grant(role: str, area: str, action: str) -> bool:
    return (str(role), area, action) in PROTECTED_GRANTS


def holds_admin_role(user: Any) -> bool:
    """Accounts whose reset, deactivation or reactivation needs a second administrator."""
    return bool(roles_of_any(user) & ADMIN_ROLES)


def roles_of_any(user: Any) -> frozenset[str]:
    """Roles in force of any account (active or not, logged in or not)."""
    return frozenset(getattr(user, "roles", ()) or ())


TWO_PERSON_ROLES = ADMIN_ROLES  # the three who request and confirm each other's actions

# R-CUST-3 first-visit evidence: reception records count only when the front desk or a
# supervisor entered them on the day of the visit; only a supervisor records another day's
# (or a future) arrival, and a supervisor's entry is the confirmation such a record needs.
EVIDENCE_ROLES = frozenset({Role.RECEPTION.value, Role.SUPERVISOR.value})
OTHER_DAY_ROLES = frozenset({Role.SUPERVISOR.value})


def enters_first_visit_evidence(user: Any) -> bool:
    return bool(roles_of(user) & EVIDENCE_ROLES)


def records_other_day_arrivals(user: Any) -> bool:
    return bool(roles_of(user) & OTHER_DAY_ROLES)


def users_with(session: Session, action: str, target: Any = None) -> list[User]:
    """Active users who may do ``action`` on ``target`` (e.g. who approves this complaint)."""
    area, verb = split_action(action, target)
    roles = session.scalars(select(Grant.role).where(Grant.area == area, Grant.action == verb)
                            .distinct()).all()
    if not roles:
        return []
    users = session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role.in_(roles), RoleAssignment.revoked_at.is_(None),
               User.is_active.is_(True)).distinct().order_by(User.id)).all()
    return [u for u in users if can(u, action, target)]


def department_managers(session: Session, department_id: int) -> list[User]:
    """Active department managers (部门经理) of a department (R-COMP-11 penalties)."""
    return list(session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(User.department_id == department_id, User.is_active.is_(True),
               RoleAssignment.role == Role.DEPT_MANAGER.value,
               RoleAssignment.revoked_at.is_(None)).distinct().order_by(User.id)))


def owner_candidates_stmt(branch_id: int) -> Select:
    """Active, present users of a branch who may own customers (R-CUST-6, R-RECV-1)."""
    owner_roles = select(Grant.role).where(Grant.area == "customer", Grant.action == "be_owner")
    return (select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(User.branch_id == branch_id, User.is_active.is_(True),
                   User.on_leave.is_(False), RoleAssignment.revoked_at.is_(None),
                   RoleAssignment.role.in_(owner_roles))
            .distinct().order_by(User.id))


def all_grant_rows() -> list[tuple[str, str, str, str]]:
    """The default grant table as rows (role, area, action, scope), for seeding."""
    return sorted({(str(role), a, act, s) for role, rows in DEFAULT_GRANTS.items()
                   for (a, act, s) in rows})
