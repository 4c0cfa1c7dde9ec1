"""The root mutation, composed from one class per area. Every mutation calls the same
service verb the portal uses."""

from __future__ import annotations

import strawberry

from graphql_api.mutations.archive_loans import ArchiveLoanMutations
from graphql_api.mutations.complaints import ComplaintMutations
from graphql_api.mutations.corrections import CorrectionMutations
from graphql_api.mutations.credit import CreditMutations
from graphql_api.mutations.customers import CustomerMutations
from graphql_api.mutations.files import FileMutations
from graphql_api.mutations.joint_events import JointEventMutations
from graphql_api.mutations.notifications import NotificationMutations
from graphql_api.mutations.receivables import ReceivablesMutations
from graphql_api.mutations.reception import ReceptionMutations
from graphql_api.mutations.rotation import RotationMutations
from graphql_api.mutations.two_person import TwoPersonMutations
from graphql_api.mutations.users import UserMutations


@strawberry.type
class Mutation(CustomerMutations, ReceptionMutations, ComplaintMutations, CreditMutations,
               FileMutations, UserMutations, NotificationMutations, RotationMutations,
               ReceivablesMutations, TwoPersonMutations, CorrectionMutations,
               ArchiveLoanMutations, JointEventMutations):
    pass
