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

from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from models import (
    ApiToken,
    ArchiveLoan,
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
    JointAttendance,
    JointEvent,
    JointInvitation,
    JointRuling,
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
from models.enums import Role, Scope
from portal.policy_files import can_read_file as can_read_file
from portal.policy_files import copy_approver_action as copy_approver_action
from portal.policy_files import file_read_filter as file_read_filter
from portal.policy_files import in_knowledge_scope as in_knowledge_scope
from portal.policy_grants import _CACHE_KEY as _CACHE_KEY
from portal.policy_grants import _forget_grants as _forget_grants
from portal.policy_grants import _grant_table as _grant_table
from portal.policy_grants import _selects_from as _selects_from
from portal.policy_grants import _usable as _usable
from portal.policy_grants import can as can
from portal.policy_grants import group_visible as group_visible
from portal.policy_grants import is_read_only as is_read_only
from portal.policy_grants import roles_of as roles_of
from portal.policy_grants import scope as scope
from portal.policy_grants import scope_key as scope_key
from portal.policy_grants import scope_ordered as scope_ordered
from portal.policy_grants import scopes_for as scopes_for
from portal.policy_grants import split_action as split_action
from portal.policy_grants import visible_fields as visible_fields
from portal.policy_grants import visible_on_every_row as visible_on_every_row
from portal.policy_levels import _company_today as _company_today
from portal.policy_levels import _effective_level_sql as _effective_level_sql
from portal.policy_levels import effective_level as effective_level
from portal.policy_levels import is_open_to_staff as is_open_to_staff
from portal.policy_levels import open_to_staff_sql as open_to_staff_sql
from portal.policy_loans import loan_for as loan_for
from portal.policy_loans import loans_in_force as loans_in_force
from portal.policy_loans import on_loan as on_loan
from portal.policy_roles import EVIDENCE_ROLES as EVIDENCE_ROLES
from portal.policy_roles import OTHER_DAY_ROLES as OTHER_DAY_ROLES
from portal.policy_roles import PROTECTED_GRANTS as PROTECTED_GRANTS
from portal.policy_roles import admin_role_conflict as admin_role_conflict
from portal.policy_roles import business_role_conflict as business_role_conflict
from portal.policy_roles import department_managers as department_managers
from portal.policy_roles import enters_first_visit_evidence as enters_first_visit_evidence
from portal.policy_roles import holds_admin_role as holds_admin_role
from portal.policy_roles import is_protected_grant as is_protected_grant
from portal.policy_roles import owner_candidates_stmt as owner_candidates_stmt
from portal.policy_roles import records_other_day_arrivals as records_other_day_arrivals
from portal.policy_roles import roles_of_any as roles_of_any
from portal.policy_roles import self_grant_refused as self_grant_refused
from portal.policy_roles import users_with as users_with
from portal.policy_rows import (
    _ALL,
    _BR,
    _DEP,
    _OWN,
    _columns,
    _complaint_filter,
    _customer_filter,
    _file_row_filter,
    _joint_event_filter,
    _loan_filter,
    _via_customer,
)
from portal.policy_rows import Chain as Chain
from portal.policy_rows import ScopeBuilder as ScopeBuilder
from portal.policy_rows import _in_scope as _in_scope
from portal.policy_rows import chain_of as chain_of

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
                 "claim", "be_owner", "close", "approve_correction", "lookup"),
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
             "export", "reset_two_factor"),
    "org": ("view", "add", "change", "export"),
    "setting": ("view", "change", "delete"),
    "audit": ("view", "export"),
    "grant": ("view", "change"),
    "report": ("view", "export"),
    "token": ("view", "add", "change"),
    # two-person actions on administrators' accounts (R-ROLE-2): see and confirm/refuse
    "two_person": ("view", "confirm"),
    # borrowing an archive outside one's scope (R-CUST-9): the register, asking, deciding
    "archive_loan": ("view", "request", "approve", "export"),
    # joint events (R-CUST-10): the department head submits the department's list; the
    # coordinator (协调助理) of an event rules on conflicts and records attendance; the
    # general manager decides what the coordinator escalates
    "joint_event": ("view", "add", "submit", "coordinate", "decide_escalated"),
    # R-AUD-5 the monthly security report (by default the security auditor only)
    "security_report": ("view", "export"),
}

_S = Scope


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


def _joint_event_staff() -> list[tuple[str, str, str]]:
    """Joint events (R-CUST-10): staff see the events their department takes part in and its
    lists; whoever is named coordinator (协调助理) of an event coordinates that one (``own``)."""
    return _g("joint_event", ("view",), _DEP) + _g("joint_event", ("coordinate",), _OWN)


def _read_everything(scope: str) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for area, actions in AREAS.items():
        if area in ("grant", "token", "two_person", "security_report"):
            continue
        rows += [(area, a, scope) for a in ("view", "export") if a in actions]
    return rows


DEFAULT_GRANTS: dict[str, list[tuple[str, str, str]]] = {
    Role.SALES: _customer_work(_OWN) + _g("customer", ("be_owner", "claim"), _OWN)
    + _g("archive_loan", ("view", "request"), _OWN)
    + _g("reception", ("take_turns",), _OWN) + _g("token", ("view", "add", "change"), _OWN)
    + _joint_event_staff(),
    Role.SUPERVISOR: _customer_work(_BR)
    + _g("archive_loan", ("view", "request"), _OWN)
    + _g("customer", ("reassign", "claim"), _BR)
    + _g("reception", ("manage_rotation", "export", "approve_go_out"), _BR)
    + _g("token", ("view", "add", "change"), _OWN)
    + _joint_event_staff(),
    Role.DEPT_MANAGER: _customer_work(_DEP)
    + _g("archive_loan", ("view", "request", "approve", "export"), _DEP)
    + _g("customer", ("reassign", "close", "approve_correction"), _DEP)
    + _g("reception", ("manage_rotation", "export", "approve_go_out"), _DEP)
    + _g("complaint", ("approve", "assign", "remind", "extend", "export"), _DEP)
    + _g("credit", ("propose", "evaluate", "export"), _DEP)
    + _g("penalty", ("view",), _DEP)
    + _g("file", ("approve_copy", "manage_scope"), _DEP)
    + _g("token", ("view", "add", "change"), _OWN)
    + _joint_event_staff() + _g("joint_event", ("submit",), _DEP),
    Role.GENERAL_MANAGER: _read_everything(_ALL)
    + _customer_work(_ALL)
    + _g("customer", ("reassign", "close", "approve_correction"), _ALL)
    + _g("complaint", ("approve", "approve_major", "approve_compensation", "assign", "remind",
                       "extend", "confirm_penalty"), _ALL)
    + _g("credit", ("approve", "approve_over_limit", "propose", "evaluate", "approve_summary"),
         _ALL)
    + _g("archive_loan", ("approve",), _ALL)
    + _g("file", ("read_all_levels", "approve_copy", "approve_copy_top", "manage_scope",
                  "name_top_secret"), _ALL)
    + _g("joint_event", ("add", "coordinate", "decide_escalated"), _ALL)
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
    + _g("token", ("view", "add", "change"), _OWN)
    + _g("joint_event", ("view", "coordinate"), _OWN),  # 协调助理 when named on an event
    # R-ROLE-1: the front desk does not browse archives; it looks one up by exact full name
    # or phone (customer.lookup) to link a walk-in to it
    Role.RECEPTION: _g("reception", ("view", "add", "change", "manage_rotation"), _BR)
    + _g("file", ("view", "download"), _OWN)  # R-FILE-1: the company's public documents
    + _g("customer", ("lookup",), _ALL)  # new prospects only through a walk-in record
    + _g("org", ("view",), _ALL) + _g("user", ("view",), _BR)
    + _g("token", ("view", "add", "change"), _OWN),
    # the 待办 inbox is read through token.view (own notifications)
    Role.AUDITOR: _read_everything(_ALL) + _g("token", ("view",), _OWN),
    Role.SYSADMIN: _g("user", ("view", "add", "change", "deactivate", "reset_password",
                               "export", "reset_two_factor"), _ALL)
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
    + _g("security_report", ("view", "export"), _ALL)
    + _g("token", ("view",), _OWN)
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
    ArchiveLoan: "archive_loan",
    JointEvent: "joint_event", JointInvitation: "joint_event", JointRuling: "joint_event",
    JointAttendance: "joint_event",
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
NEVER_VISIBLE = frozenset({"password_hash", "token_hash", "secret", "code_hash", "session_version", "name_normalized",
                           "phone_normalized", "credit_code_normalized", "hash", "prev_hash"})


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
    ArchiveLoan: _loan_filter,
}
SCOPE_FILTERS[ComplaintEvent] = _child_of(ComplaintEvent.complaint_id, Complaint)
SCOPE_FILTERS[ComplaintReminder] = _child_of(ComplaintReminder.complaint_id, Complaint)
SCOPE_FILTERS[CreditApproval] = _child_of(CreditApproval.credit_line_id, CreditLine)
SCOPE_FILTERS[ReceivableSettlement] = _child_of(ReceivableSettlement.receivable_id, Receivable)
SCOPE_FILTERS[PenaltyLine] = _child_of(PenaltyLine.notice_id, PenaltyNotice)
SCOPE_FILTERS[FileScopeMember] = _child_of(FileScopeMember.file_id, ConfidentialFile)
SCOPE_FILTERS[FileLevelChange] = _child_of(FileLevelChange.file_id, ConfidentialFile)


# The models whose list rule ``scope_ordered`` reads part by part when it is an OR: each part
# of a customer's rule (its owner, branch or department, an archive on loan) has an index in
# the id order (``ix_customers_owner_id_id``, ``…_branch_id_id``, ``…_department_id_id``, the
# primary key), so a page of each part reads about the page.
ORDERED_PARTS: frozenset[type] = frozenset({Customer})


def _copy_request_filter(user: User, scope_name: str, per_row: bool = False
                         ) -> ColumnElement[bool]:
    """A requester always sees their own requests; approvers see those of files in scope."""
    if scope_name == _ALL:
        return true()
    return or_(CopyRequest.requested_by_id == user.id,
               _child_of(CopyRequest.file_id, ConfidentialFile)(user, scope_name, per_row))


SCOPE_FILTERS[CopyRequest] = _copy_request_filter
SCOPE_FILTERS[JointEvent] = _joint_event_filter
SCOPE_FILTERS[JointInvitation] = _columns(
    (JointInvitation.confirmed_by_id, JointInvitation.submitted_by_id), None,
    JointInvitation.department_id)
SCOPE_FILTERS[JointRuling] = _child_of(JointRuling.event_id, JointEvent)
SCOPE_FILTERS[JointAttendance] = _columns((JointAttendance.credited_user_id,), None,
                                          JointAttendance.department_id)

# ---------------------------------------------------------------------------------------------
# Split out (re-exported here: import them from ``portal.policy``)
# ---------------------------------------------------------------------------------------------
TWO_PERSON_ROLES = ADMIN_ROLES  # the three who request and confirm each other's actions

# R-ROLE-6: whose holders sign in with two factors unless the setting
# ``two_factor.required_roles`` names another set (other users may opt in)
TWO_FACTOR_ROLES = ADMIN_ROLES | {Role.GENERAL_MANAGER.value}


def two_factor_required(user: Any, required_roles: Iterable[str] | None) -> bool:
    """Whether ``user`` must sign in with a second factor (R-ROLE-6). ``required_roles`` is
    the setting's value; None means the default set."""
    wanted = TWO_FACTOR_ROLES if required_roles is None else frozenset(required_roles)
    return bool(roles_of_any(user) & wanted)


def two_factor_role_choices() -> list[str]:
    """The roles the setting may name (every role), in the order of ``ROLE_LABELS``."""
    return [str(r.value) for r in ROLE_LABELS]


# the setting's default is the policy's set (no role names outside this module)
from portal import settings as _settings  # noqa: E402

_settings.DEFAULTS.setdefault("two_factor.required_roles", sorted(TWO_FACTOR_ROLES))


def all_grant_rows() -> list[tuple[str, str, str, str]]:
    """The default grant table as rows (role, area, action, scope), for seeding."""
    return sorted({(str(role), a, act, s) for role, rows in DEFAULT_GRANTS.items()
                   for (a, act, s) in rows})
