"""Customer mutations: the verbs of portal/services/customers.py."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_api.ids import expect_id
from graphql_api.mutations.common import Payload, data_of, run
from graphql_api.types import enums as E
from graphql_api.types.customers import CustomerContactNode, CustomerNode, FollowUpNode
from portal.services import customers as svc

UNSET = strawberry.UNSET


@strawberry.input(description="A new customer archive. Owner and branch default to you.")
class CustomerInput:
    name: str
    kind: E.CustomerKind | None = UNSET
    special_category: str | None = UNSET
    phone: str | None = UNSET
    credit_code: str | None = UNSET
    address: str | None = UNSET
    website: str | None = UNSET
    source: E.CustomerSource | None = UNSET
    importance: E.Importance | None = UNSET
    intent: E.Intent | None = UNSET
    notes: str | None = UNSET
    owner_id: strawberry.ID | None = UNSET
    branch_id: strawberry.ID | None = UNSET
    referrer_id: strawberry.ID | None = UNSET


@strawberry.input(description="Fields to correct; fields left out are unchanged. Owner, "
                  "status and branch change only through their own mutations.")
class CustomerPatch:
    name: str | None = UNSET
    kind: E.CustomerKind | None = UNSET
    special_category: str | None = UNSET
    phone: str | None = UNSET
    credit_code: str | None = UNSET
    address: str | None = UNSET
    website: str | None = UNSET
    source: E.CustomerSource | None = UNSET
    importance: E.Importance | None = UNSET
    intent: E.Intent | None = UNSET
    notes: str | None = UNSET


@strawberry.input
class ContactInput:
    name: str
    title: str | None = UNSET
    phone: str | None = UNSET
    email: str | None = UNSET
    is_primary: bool | None = UNSET


_IDS = {"owner_id": "User", "branch_id": "Branch", "referrer_id": "Customer"}


def _cid(value: strawberry.ID) -> int:
    return expect_id(value, "Customer", "customerId")


@strawberry.type
class CustomerMutations:
    @strawberry.mutation
    def create_customer(self, info: Info, input: CustomerInput
                        ) -> Payload[CustomerNode]:
        return run(info, CustomerNode,
                   lambda s, u: svc.create_customer(s, u, data_of(input, ids=_IDS)))

    @strawberry.mutation
    def update_customer(self, info: Info, customer_id: strawberry.ID,
                        input: CustomerPatch,
                        *, expected_version: int) -> Payload[CustomerNode]:
        return run(info, CustomerNode, lambda s, u: svc.update_customer(
            s, u, _cid(customer_id), data_of(input), expected_version=expected_version))

    @strawberry.mutation
    def add_contact(self, info: Info, customer_id: strawberry.ID,
                    input: ContactInput) -> Payload[CustomerContactNode]:
        return run(info, CustomerContactNode, lambda s, u: svc.add_contact(
            s, u, _cid(customer_id), data_of(input)))

    @strawberry.mutation
    def record_follow_up(self, info: Info, customer_id: strawberry.ID, kind: E.FollowUpKind,
                         happened_at: datetime | None = None,
                         notes: str | None = None,
                         planned_next_on: Annotated[date | None, strawberry.argument(
                             description="下次回访日期: the next follow-up day agreed with the "
                                         "customer (company date), from today up to the rules' "
                                         "deadline")] = None) -> Payload[FollowUpNode]:
        return run(info, FollowUpNode, lambda s, u: svc.record_follow_up(
            s, u, _cid(customer_id), kind.value, happened_at=happened_at, notes=notes,
            planned_next_on=planned_next_on))

    @strawberry.mutation
    def record_deal(self, info: Info, customer_id: strawberry.ID,
                    *, expected_version: int) -> Payload[CustomerNode]:
        return run(info, CustomerNode, lambda s, u: svc.record_deal(
            s, u, _cid(customer_id), expected_version=expected_version))

    @strawberry.mutation
    def reassign_owner(self, info: Info, customer_id: strawberry.ID,
                       new_owner_id: strawberry.ID, reason: str,
                       *, expected_version: int) -> Payload[CustomerNode]:
        return run(info, CustomerNode, lambda s, u: svc.reassign_owner(
            s, u, _cid(customer_id), expect_id(new_owner_id, "User", "newOwnerId"), reason,
            expected_version=expected_version))

    @strawberry.mutation
    def claim_customer(self, info: Info, customer_id: strawberry.ID,
                       *, expected_version: int) -> Payload[CustomerNode]:
        return run(info, CustomerNode, lambda s, u: svc.claim_customer(
            s, u, _cid(customer_id), expected_version=expected_version))

    @strawberry.mutation
    def close_customer(self, info: Info, customer_id: strawberry.ID,
                       reason: str, *, expected_version: int) -> Payload[CustomerNode]:
        return run(info, CustomerNode, lambda s, u: svc.close_customer(
            s, u, _cid(customer_id), reason, expected_version=expected_version))
