"""Customers (客户档案) and what hangs off them: contacts, owner history, follow-ups, and the
scoped links to complaints, credit, files and reception records."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, ClassVar

import strawberry
from strawberry.types import Info

from graphql_api.loaders import Batch
from graphql_api.permissions import check_visible, guard
from graphql_api.types import enums as E
from graphql_api.types.base import FromModel, Node, many, one, one_row, relation
from graphql_api.types.org import BranchNode, DepartmentNode, UserNode
from models import (
    Branch,
    Complaint,
    ConfidentialFile,
    CreditEvaluation,
    CreditLine,
    Customer,
    CustomerContact,
    Department,
    FollowUp,
    OwnerChange,
    ReceptionRecord,
    User,
)
from models import enums as me
from portal.services import customers as customer_rules

if TYPE_CHECKING:
    from graphql_api.types.complaints import ComplaintNode
    from graphql_api.types.credit import CreditEvaluationNode, CreditLineNode
    from graphql_api.types.files import FileNode
    from graphql_api.types.reception import ReceptionRecordNode

_COMPLAINTS = "graphql_api.types.complaints"
_CREDIT = "graphql_api.types.credit"
_FILES = "graphql_api.types.files"
_RECEPTION = "graphql_api.types.reception"


@strawberry.type(name="CustomerContact")
class CustomerContactNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("name", "title", "phone", "email", "is_primary")
    _m: strawberry.Private[CustomerContact]
    _b: strawberry.Private[Batch]
    database_id: int
    name: str
    title: str | None
    phone: str | None
    email: str | None
    is_primary: bool


@strawberry.type(name="OwnerChange", description="One change of owner (R-CUST-7).")
class OwnerChangeNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("changed_at", "reason")
    _m: strawberry.Private[OwnerChange]
    _b: strawberry.Private[Batch]
    database_id: int
    changed_at: datetime
    reason: str

    @strawberry.field
    @relation("one", "from_user_id", User)
    def from_user(self, info: Info) -> UserNode | None:
        return one(info, self, "from_user_id", User, UserNode)

    @strawberry.field
    @relation("one", "to_user_id", User)
    def to_user(self, info: Info) -> UserNode | None:
        return one(info, self, "to_user_id", User, UserNode)

    @strawberry.field
    @relation("one", "changed_by_id", User)
    def changed_by(self, info: Info) -> UserNode | None:
        return one(info, self, "changed_by_id", User, UserNode)


@strawberry.type(name="FollowUp")
class FollowUpNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("kind", "happened_at", "notes", "next_due_at", "planned_next_on")
    ENUMS = {"kind": me.FollowUpKind}
    _m: strawberry.Private[FollowUp]
    _b: strawberry.Private[Batch]
    database_id: int
    kind: E.FollowUpKind
    happened_at: datetime
    notes: str | None
    next_due_at: datetime | None
    planned_next_on: date | None = strawberry.field(
        description="下次回访日期 agreed with the customer (the customer is due from that day)")

    @strawberry.field
    @relation("one", "user_id", User)
    def user(self, info: Info) -> UserNode | None:
        return one(info, self, "user_id", User, UserNode)


@strawberry.type(name="Customer", description=(
    "A customer archive (客户档案). Contact fields (phone, address, website, creditCode, "
    "contacts) and credit fields (outstandingBalance, transactionSummary) are null with a "
    "FORBIDDEN error when your role may not read them on this customer."))
class CustomerNode(FromModel, Node):
    FAST_RESOLVERS = True  # read-only resolvers: see graphql_api.execution
    SCALARS = ("code", "name", "kind", "special_category", "source", "importance", "intent",
               "status", "registered_at", "first_contact_at", "ownership_expires_at", "deal_at",
               "last_service_at", "closed_at", "notes", "version")
    ENUMS = {"kind": me.CustomerKind, "source": me.CustomerSource,
             "importance": me.Importance, "intent": me.Intent, "status": me.CustomerStatus}
    _m: strawberry.Private[Customer]
    _b: strawberry.Private[Batch]
    database_id: int
    code: str
    name: str
    kind: E.CustomerKind
    special_category: str | None
    source: E.CustomerSource
    importance: E.Importance
    intent: E.Intent
    status: E.CustomerStatus
    registered_at: datetime
    first_contact_at: datetime | None
    ownership_expires_at: datetime | None
    deal_at: datetime | None
    last_service_at: datetime | None
    closed_at: datetime | None
    notes: str | None
    version: int
    # a computed field and the columns it reads (graphql_api.loaders.columns_for)
    NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {"effective_status": ("status",)}

    @strawberry.field(description="The status to show: VOID (废卡) is derived from the "
                                  "follow-up cadence (R-CUST-4) and never stored; `status` is "
                                  "the stored one.")
    def effective_status(self, info: Info) -> me.CustomerStatus:
        cache = self._b.cache
        if "void_ids" not in cache:
            cache["void_ids"] = customer_rules.void_ids(info.context.loaders.session,
                                                        [o.id for o in self._b.objs])
        if self._m.id in cache["void_ids"]:
            return me.CustomerStatus.VOID
        return me.CustomerStatus(self._m.status)

    # field group customer_contact
    @strawberry.field
    @one_row("phone")
    def phone(self, info: Info) -> str | None:
        return guard(info, self, "phone")

    @strawberry.field
    @one_row("address")
    def address(self, info: Info) -> str | None:
        return guard(info, self, "address")

    @strawberry.field
    @one_row("website")
    def website(self, info: Info) -> str | None:
        return guard(info, self, "website")

    @strawberry.field
    @one_row("credit_code")
    def credit_code(self, info: Info) -> str | None:
        return guard(info, self, "credit_code")

    @strawberry.field
    @one_row("contacts", ("many", CustomerContact.customer_id, CustomerContact, ()))
    def contacts(self, info: Info) -> list[CustomerContactNode] | None:
        check_visible(info, self, "contacts")
        return many(info, self, CustomerContact, CustomerContact.customer_id,
                    CustomerContactNode)

    # field group customer_credit
    @strawberry.field
    @one_row("outstanding_balance")
    def outstanding_balance(self, info: Info) -> Decimal | None:
        return guard(info, self, "outstanding_balance")

    @strawberry.field
    @one_row("transaction_summary")
    def transaction_summary(self, info: Info) -> str | None:
        return guard(info, self, "transaction_summary")

    # relationships (each scoped by the policy)
    @strawberry.field
    @relation("one", "owner_id", User)
    def owner(self, info: Info) -> UserNode | None:
        return one(info, self, "owner_id", User, UserNode)

    @strawberry.field
    @relation("one", "branch_id", Branch)
    def branch(self, info: Info) -> BranchNode | None:
        return one(info, self, "branch_id", Branch, BranchNode)

    @strawberry.field
    @relation("one", "department_id", Department)
    def department(self, info: Info) -> DepartmentNode | None:
        return one(info, self, "department_id", Department, DepartmentNode)

    @strawberry.field
    @relation("many", OwnerChange.customer_id, OwnerChange)
    def owner_history(self, info: Info) -> list[OwnerChangeNode]:
        return many(info, self, OwnerChange, OwnerChange.customer_id, OwnerChangeNode)

    @strawberry.field
    @relation("many", FollowUp.customer_id, FollowUp, (FollowUp.happened_at, FollowUp.id))
    def follow_ups(self, info: Info) -> list[FollowUpNode]:
        return many(info, self, FollowUp, FollowUp.customer_id, FollowUpNode,
                    (FollowUp.happened_at, FollowUp.id))

    @strawberry.field
    @relation("many", Complaint.customer_id, Complaint)
    def complaints(self, info: Info) -> list[Annotated[ComplaintNode, strawberry.lazy(
            _COMPLAINTS)]]:
        from graphql_api.types.complaints import ComplaintNode

        return many(info, self, Complaint, Complaint.customer_id, ComplaintNode)

    @strawberry.field
    @relation("many", CreditLine.customer_id, CreditLine)
    def credit_lines(self, info: Info) -> list[Annotated[CreditLineNode, strawberry.lazy(
            _CREDIT)]]:
        from graphql_api.types.credit import CreditLineNode

        return many(info, self, CreditLine, CreditLine.customer_id, CreditLineNode)

    @strawberry.field
    @relation("many", CreditEvaluation.customer_id, CreditEvaluation)
    def credit_evaluations(self, info: Info) -> list[Annotated[
            CreditEvaluationNode, strawberry.lazy(_CREDIT)]]:
        from graphql_api.types.credit import CreditEvaluationNode

        return many(info, self, CreditEvaluation, CreditEvaluation.customer_id,
                    CreditEvaluationNode)

    @strawberry.field
    @one_row(None, ("many", ConfidentialFile.customer_id, ConfidentialFile, ()))
    def files(self, info: Info) -> list[Annotated[FileNode, strawberry.lazy(_FILES)]]:
        from graphql_api.types.files import FileNode

        return many(info, self, ConfidentialFile, ConfidentialFile.customer_id, FileNode)

    @strawberry.field
    @relation("many", ReceptionRecord.customer_id, ReceptionRecord)
    def reception_records(self, info: Info) -> list[Annotated[
            ReceptionRecordNode, strawberry.lazy(_RECEPTION)]]:
        from graphql_api.types.reception import ReceptionRecordNode

        return many(info, self, ReceptionRecord, ReceptionRecord.customer_id,
                    ReceptionRecordNode)
