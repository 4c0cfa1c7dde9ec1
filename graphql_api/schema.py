"""The root schema, composed from the per-area query and mutation types."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graphql_api import input_conversion
from graphql_api.errors import MaskUnexpected, log_errors
from graphql_api.execution import FastExecutionContext
from graphql_api.limits import Limits
from graphql_api.mutations import Mutation
from graphql_api.queries import Query
from graphql_api.types.audit import AuditEntryNode
from graphql_api.types.complaints import ComplaintEventNode, ComplaintNode
from graphql_api.types.credit import CreditApprovalNode, CreditEvaluationNode, CreditLineNode
from graphql_api.types.customers import (
    CustomerContactNode,
    CustomerNode,
    FollowUpNode,
    OwnerChangeNode,
)
from graphql_api.types.files import FileNode
from graphql_api.types.org import BranchNode, DepartmentNode, UserNode
from graphql_api.types.reception import ReceptionRecordNode


class PortalSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError],
                       execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors)


NODE_CLASSES: list[Any] = [
    CustomerNode, CustomerContactNode, OwnerChangeNode, FollowUpNode, ReceptionRecordNode,
    ComplaintNode, ComplaintEventNode, CreditEvaluationNode, CreditLineNode, CreditApprovalNode,
    FileNode, UserNode, DepartmentNode, BranchNode, AuditEntryNode,
]

schema = PortalSchema(
    query=Query,
    mutation=Mutation,
    types=NODE_CLASSES,
    # extension classes: Strawberry builds a fresh instance per request
    extensions=[Limits, MaskUnexpected],
    config=StrawberryConfig(disable_field_suggestions=True),
    execution_context_class=FastExecutionContext,
)
# input objects built with their fields' conversion worked out once (input_conversion.py)
FAST_INPUTS = input_conversion.install(schema)
