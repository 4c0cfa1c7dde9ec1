"""Complaint mutations: registration and every workflow move (portal/services/complaints.py)."""

from __future__ import annotations

import enum
from decimal import Decimal

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, data_of, run
from graphql_api.types import enums as E
from graphql_api.types.complaints import ComplaintNode
from models import Complaint
from portal.services import complaint_escalation as escalation
from portal.services import complaints as svc

UNSET = strawberry.UNSET


@strawberry.enum(description="R-COMP-11: whether the fault was one of quality (品质原因).")
class FaultCause(enum.Enum):
    QUALITY = "quality"
    NON_QUALITY = "non_quality"


@strawberry.input
class ComplaintInput:
    customer_id: strawberry.ID
    channel: E.ComplaintChannel
    type: E.ComplaintType
    description: str
    cause: E.ComplaintCause | None = UNSET
    severity: E.Severity | None = UNSET
    major_reason: str | None = UNSET
    accused_user_id: strawberry.ID | None = UNSET
    responsible_department_id: strawberry.ID | None = UNSET


_IDS = {"customer_id": "Customer", "accused_user_id": "User",
        "responsible_department_id": "Department"}


def _id(value: strawberry.ID) -> int:
    return expect_id(value, "Complaint", "complaintId")


@strawberry.type
class ComplaintMutations:
    @strawberry.mutation
    def register_complaint(self, info: Info,
                           input: ComplaintInput) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode,
                   lambda s, u: svc.register_complaint(s, u, data_of(input, ids=_IDS)))

    @strawberry.mutation
    def assign_complaint(self, info: Info, complaint_id: strawberry.ID,
                         handler_id: strawberry.ID, note: str | None = None,
                         *, expected_version: int) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode, lambda s, u: svc.assign(
            s, u, _id(complaint_id), expect_id(handler_id, "User", "handlerId"),
            expected_version=expected_version, note=note))

    @strawberry.mutation
    def start_investigation(self, info: Info, complaint_id: strawberry.ID,
                            note: str | None = None,
                            *, expected_version: int) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode, lambda s, u: svc.start_investigation(
            s, u, _id(complaint_id), note=note, expected_version=expected_version))

    @strawberry.mutation
    def propose_resolution(self, info: Info, complaint_id: strawberry.ID, resolution: str,
                           compensation_amount: Decimal = Decimal("0"),
                           *, expected_version: int) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode, lambda s, u: svc.propose_resolution(
            s, u, _id(complaint_id), resolution, compensation_amount=compensation_amount,
            expected_version=expected_version))

    @strawberry.mutation
    def approve_complaint(self, info: Info, complaint_id: strawberry.ID, accept: bool = True,
                          note: str | None = None,
                          *, expected_version: int) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode, lambda s, u: svc.approve(
            s, u, _id(complaint_id), accept=accept, note=note,
            expected_version=expected_version))

    @strawberry.mutation
    def reply_complaint(self, info: Info, complaint_id: strawberry.ID, note: str | None = None,
                        *, expected_version: int) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode, lambda s, u: svc.reply(
            s, u, _id(complaint_id), note=note, expected_version=expected_version))

    @strawberry.mutation(description="Close after the satisfaction revisit. A complaint (投诉) "
                         "needs its responsibility (R-COMP-11): faultDepartmentId and "
                         "faultCause, optionally faultTeam and faultUserId; a penalty notice "
                         "is drafted when the company's penalty table applies.")
    def close_complaint(self, info: Info, complaint_id: strawberry.ID, satisfaction: int,
                        note: str | None = None,
                        *, expected_version: int,
                        fault_department_id: strawberry.ID | None = None,
                        fault_cause: FaultCause | None = None,
                        fault_team: str | None = None,
                        fault_user_id: strawberry.ID | None = None) -> Payload[ComplaintNode]:
        def call(s, u):
            dept = (expect_id(fault_department_id, "Department", "faultDepartmentId")
                    if fault_department_id else None)
            person = (expect_id(fault_user_id, "User", "faultUserId")
                      if fault_user_id else None)
            return svc.close(s, u, _id(complaint_id), satisfaction, note=note,
                             expected_version=expected_version, fault_department_id=dept,
                             fault_cause=fault_cause.value if fault_cause else None,
                             fault_team=fault_team, fault_user_id=person)
        return run(info, ComplaintNode, call)

    @strawberry.mutation
    def reject_complaint(self, info: Info, complaint_id: strawberry.ID, reason: str,
                         *, expected_version: int) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode, lambda s, u: svc.reject(
            s, u, _id(complaint_id), reason, expected_version=expected_version))

    @strawberry.mutation
    def extend_complaint(self, info: Info, complaint_id: strawberry.ID, reason: str,
                         working_days: int,
                         *, expected_version: int) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode, lambda s, u: svc.extend(
            s, u, _id(complaint_id), reason, working_days, expected_version=expected_version))

    @strawberry.mutation
    def remind_complaint(self, info: Info, complaint_id: strawberry.ID,
                         note: str | None = None,
                         *, expected_version: int) -> Payload[ComplaintNode]:
        def call(s, u):
            svc.remind(s, u, _id(complaint_id), note=note, expected_version=expected_version)
            return s.get(Complaint, _id(complaint_id))
        return run(info, ComplaintNode, call)

    @strawberry.mutation(description="R-COMP-3: re-grade an open complaint major with a reason; "
                                     "it is escalated at once.")
    def regrade_complaint_major(self, info: Info, complaint_id: strawberry.ID, reason: str,
                                *, expected_version: int) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode, lambda s, u: escalation.regrade_major(
            s, u, _id(complaint_id), reason, expected_version=expected_version))

    @strawberry.mutation(description="R-COMP-7: a complaint not resolved within 3 working days "
                                     "of registration: hand its customer to a salesperson of "
                                     "another department (a recorded change of owner).")
    def hand_complaint_customer_to_other_department(
            self, info: Info, complaint_id: strawberry.ID, new_owner_id: strawberry.ID,
            reason: str, *, expected_version: int) -> Payload[ComplaintNode]:
        return run(info, ComplaintNode, lambda s, u: escalation.hand_to_other_department(
            s, u, _id(complaint_id), expect_id(new_owner_id, "User", "newOwnerId"), reason,
            expected_version=expected_version))
