"""The root query: ``node``, ``me`` and one connection per exposed model, every one scoped by
``policy.scope`` (the same restriction the portal's lists use)."""

from __future__ import annotations

import strawberry
from sqlalchemy import or_
from strawberry.types import Info

from graphql_api.archive_loans import ArchiveLoanQueries
from graphql_api.filters import (
    _CUSTOMER_ORDERS,
    AuditFilter,
    ComplaintFilter,
    CreditFilter,
    CustomerFilter,
    CustomerOrder,
    FileFilter,
    ReceptionFilter,
    TimeOrder,
    UserFilter,
    _between,
    _like,
    _search_text,
    _time_order,
    complaint_conditions,
    customer_conditions,
    reception_conditions,
)
from graphql_api.ids import expect_id, parse_global
from graphql_api.joint_events import JointEventQueries
from graphql_api.mutations.two_person import TwoPersonQueries
from graphql_api.pagination import Connection, Order, paginate
from graphql_api.receivables import ReceivablesQueries
from graphql_api.reception_lookup import ReceptionLookupQueries
from graphql_api.reports import ReportQueries
from graphql_api.rotation import RotationQueries
from graphql_api.security_report import SecurityReportQueries
from graphql_api.types.archive_loans import ArchiveLoanNode
from graphql_api.types.audit import AuditEntryNode
from graphql_api.types.base import Node
from graphql_api.types.complaints import ComplaintNode
from graphql_api.types.corrections import CorrectionRequestNode
from graphql_api.types.credit import CreditApprovalNode, CreditEvaluationNode, CreditLineNode
from graphql_api.types.customers import (
    CustomerNode,
    FollowUpNode,
    OwnerChangeNode,
)
from graphql_api.types.files import FileNode
from graphql_api.types.notifications import NotificationNode
from graphql_api.types.org import BranchNode, DepartmentNode, UserNode, Viewer
from graphql_api.types.reception import ReceptionRecordNode
from models import (
    ArchiveLoan,
    AuditEntry,
    Branch,
    Complaint,
    ConfidentialFile,
    CorrectionRequest,
    CreditApproval,
    CreditEvaluation,
    CreditLine,
    Customer,
    Department,
    FollowUp,
    Notification,
    OwnerChange,
    ReceptionRecord,
    User,
)
from portal import policy
from portal.services import list_presets

# GraphQL type name → (model, wrapper): what node(id:) can return. Contacts and complaint
# events are left out on purpose: they are readable only through their guarded parent field.
NODE_TYPES: dict[str, tuple[type, type]] = {
    "Customer": (Customer, CustomerNode),
    "OwnerChange": (OwnerChange, OwnerChangeNode),
    "FollowUp": (FollowUp, FollowUpNode),
    "ReceptionRecord": (ReceptionRecord, ReceptionRecordNode),
    "Complaint": (Complaint, ComplaintNode),
    "CreditEvaluation": (CreditEvaluation, CreditEvaluationNode),
    "CreditLine": (CreditLine, CreditLineNode),
    "CreditApproval": (CreditApproval, CreditApprovalNode),
    "ConfidentialFile": (ConfidentialFile, FileNode),
    "User": (User, UserNode),
    "Department": (Department, DepartmentNode),
    "Branch": (Branch, BranchNode),
    "AuditEntry": (AuditEntry, AuditEntryNode),
    "Notification": (Notification, NotificationNode),
    "CorrectionRequest": (CorrectionRequest, CorrectionRequestNode),
    "ArchiveLoan": (ArchiveLoan, ArchiveLoanNode),
}

# The connections of the root query: field name → model (used by the parity tests too).
CONNECTION_MODELS: dict[str, type] = {
    "customers": Customer, "receptionRecords": ReceptionRecord, "complaints": Complaint,
    "creditEvaluations": CreditEvaluation, "creditLines": CreditLine,
    "files": ConfidentialFile, "users": User, "departments": Department, "branches": Branch,
    "auditEntries": AuditEntry, "archiveLoans": ArchiveLoan,
}


def _audit_file_view(info: Info, f: ConfidentialFile) -> None:
    """Opening one classified file's details is a view the audit log records (R-FILE-6), as
    the portal's details page does."""
    from portal.services import files

    files.view_file(info.context.session, info.context.user, f.id)


def _audit_hidden_node(info: Info, model: type, pk: object) -> None:
    """``node(id)`` of a row outside the user's scope answers null like a missing id, and is
    recorded as a denied attempt, as the portal's details page does (R-AUD-4)."""
    from portal import audit

    session = info.context.session
    try:
        ident = int(pk)  # type: ignore[call-overload]  # an id of any shape: refused below
    except (TypeError, ValueError):
        return
    if not -(2**31) <= ident < 2**31 or session.get(model, ident) is None:
        return
    audit.record(session, info.context.user, f"{policy.MODEL_AREA[model]}.view",
                 (model.__name__, ident), outcome="denied", detail="graphql node: out of scope")
    session.commit()


# --- the root query ---------------------------------------------------------------------


@strawberry.type
class Query(ReportQueries, RotationQueries, ReceivablesQueries,
            TwoPersonQueries, ReceptionLookupQueries, ArchiveLoanQueries,
            JointEventQueries, SecurityReportQueries):  # reports: graphql_api/reports.py
    @strawberry.field(description='Any object by its global id ("Customer:42"); null when it '
                      "does not exist or you may not see it (the two are identical).")
    def node(self, info: Info, id: strawberry.ID) -> Node | None:
        parsed = parse_global(id)
        if parsed is None or parsed[0] not in NODE_TYPES:
            return None
        model, cls = NODE_TYPES[parsed[0]]
        obj = info.context.loaders.get(model, parsed[1])
        if obj is None:
            _audit_hidden_node(info, model, parsed[1])
        elif model is ConfidentialFile:
            _audit_file_view(info, obj)
        return cls.from_model(obj) if obj is not None else None

    @strawberry.field(description="You: your account and the actions granted to you.")
    def me(self, info: Info) -> Viewer:
        user = info.context.user
        actions = sorted(f"{area}.{verb}" for area, verbs in policy.AREAS.items()
                         for verb in verbs if policy.can(user, f"{area}.{verb}"))
        return Viewer(_m=user, user=UserNode.from_model(user), email=user.email,
                      phone=user.phone, clearance=user.clearance, language=user.language,
                      allowed_actions=actions)

    @strawberry.field
    def customers(self, info: Info, first: int | None = None, after: str | None = None,
                  filter: CustomerFilter | None = None,
                  order_by: CustomerOrder = CustomerOrder.ID_ASC) -> Connection[CustomerNode]:
        return paginate(info, Customer, CustomerNode, customer_conditions(info, filter),
                        _CUSTOMER_ORDERS[order_by], first, after)

    @strawberry.field
    def complaints(self, info: Info, first: int | None = None, after: str | None = None,
                   filter: ComplaintFilter | None = None,
                   order_by: TimeOrder | None = None) -> Connection[ComplaintNode]:
        return paginate(info, Complaint, ComplaintNode, complaint_conditions(info, filter),
                        _time_order(order_by, Complaint.registered_at), first, after)

    @strawberry.field
    def reception_records(self, info: Info, first: int | None = None, after: str | None = None,
                          filter: ReceptionFilter | None = None,
                          order_by: TimeOrder | None = None
                          ) -> Connection[ReceptionRecordNode]:
        return paginate(info, ReceptionRecord, ReceptionRecordNode,
                        reception_conditions(filter),
                        _time_order(order_by, ReceptionRecord.arrived_at), first, after)

    @strawberry.field
    def credit_evaluations(self, info: Info, first: int | None = None, after: str | None = None,
                           filter: CreditFilter | None = None,
                           order_by: TimeOrder | None = None
                           ) -> Connection[CreditEvaluationNode]:
        where: list = []
        if filter is not None:
            if filter.customer is not None:
                where.append(CreditEvaluation.customer_id == expect_id(
                    filter.customer, "Customer", "customer"))
            if filter.rating:
                where.append(CreditEvaluation.rating.in_([r.value for r in filter.rating]))
            where += _between(CreditEvaluation.evaluated_at, filter.from_, filter.before)
        return paginate(info, CreditEvaluation, CreditEvaluationNode, where,
                        _time_order(order_by, CreditEvaluation.evaluated_at), first, after)

    @strawberry.field
    def credit_lines(self, info: Info, first: int | None = None, after: str | None = None,
                     filter: CreditFilter | None = None,
                     order_by: TimeOrder | None = None) -> Connection[CreditLineNode]:
        where: list = []
        if filter is not None:
            if filter.customer is not None:
                where.append(CreditLine.customer_id == expect_id(filter.customer, "Customer",
                                                                 "customer"))
            if filter.line_status:
                where.append(CreditLine.status.in_([s.value for s in filter.line_status]))
            where += _between(CreditLine.proposed_at, filter.from_, filter.before)
        return paginate(info, CreditLine, CreditLineNode, where,
                        _time_order(order_by, CreditLine.proposed_at), first, after)

    @strawberry.field
    def files(self, info: Info, first: int | None = None, after: str | None = None,
              filter: FileFilter | None = None,
              order_by: TimeOrder | None = None) -> Connection[FileNode]:
        where: list = []
        if filter is not None:
            if filter.customer is not None:
                where.append(ConfidentialFile.customer_id == expect_id(
                    filter.customer, "Customer", "customer"))
            if filter.level:
                where.append(ConfidentialFile.level.in_([lv.value for lv in filter.level]))
            if filter.preset is not None:
                where.append(list_presets.file_preset_sql(info.context.session, info.context.user,
                                                          filter.preset.value))
            text = _search_text(filter.search)
            if text:
                where.append(ConfidentialFile.title.like(_like(text), escape="\\"))
        return paginate(info, ConfidentialFile, FileNode, where,
                        _time_order(order_by, ConfidentialFile.uploaded_at), first, after)

    @strawberry.field(description="Your notifications (待办), newest first; ``unread``: only "
                      "those not yet marked read. The unread count is ``totalCount`` with "
                      "unread: true.")
    def my_notifications(self, info: Info, first: int | None = None, after: str | None = None,
                         unread: bool = False) -> Connection[NotificationNode]:
        where = [Notification.user_id == info.context.user.id]
        if unread:
            where.append(Notification.read_at.is_(None))
        return paginate(info, Notification, NotificationNode, where,
                        Order("id_desc", None, descending=True), first, after)

    @strawberry.field
    def users(self, info: Info, first: int | None = None, after: str | None = None,
              filter: UserFilter | None = None) -> Connection[UserNode]:
        where: list = []
        if filter is not None:
            if filter.branch is not None:
                where.append(User.branch_id == expect_id(filter.branch, "Branch", "branch"))
            if filter.department is not None:
                where.append(User.department_id == expect_id(filter.department, "Department",
                                                             "department"))
            text = _search_text(filter.search)
            if text:
                where.append(or_(User.username.like(_like(text), escape="\\"),
                                 User.full_name.like(_like(text), escape="\\")))
        return paginate(info, User, UserNode, where, Order("id", None), first, after)

    @strawberry.field
    def departments(self, info: Info, first: int | None = None, after: str | None = None
                    ) -> Connection[DepartmentNode]:
        return paginate(info, Department, DepartmentNode, [], Order("id", None), first, after)

    @strawberry.field
    def branches(self, info: Info, first: int | None = None, after: str | None = None,
                 department: strawberry.ID | None = None) -> Connection[BranchNode]:
        where = [] if department is None else [
            Branch.department_id == expect_id(department, "Department", "department")]
        return paginate(info, Branch, BranchNode, where, Order("id", None), first, after)

    @strawberry.field(description="The audit log; empty unless you hold audit.view.")
    def audit_entries(self, info: Info, first: int | None = None, after: str | None = None,
                      filter: AuditFilter | None = None,
                      order_by: TimeOrder | None = None) -> Connection[AuditEntryNode]:
        where: list = []
        if filter is not None:
            if filter.actor is not None:
                where.append(AuditEntry.actor_id == expect_id(filter.actor, "User", "actor"))
            if filter.action:
                where.append(AuditEntry.action == filter.action)
            if filter.outcome is not None:
                where.append(AuditEntry.outcome == filter.outcome.value)
            where += _between(AuditEntry.at, filter.from_, filter.before)
        return paginate(info, AuditEntry, AuditEntryNode, where,
                        _time_order(order_by, AuditEntry.at), first, after)
