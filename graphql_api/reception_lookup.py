"""The front desk's exact customer look-up (R-ROLE-1) through GraphQL: the same service as the
portal's look-up box (``portal.services.reception_lookup``)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from graphql_api.ids import to_global
from graphql_api.types.reports import shown
from portal.services import reception_lookup
from portal.services.errors import DomainError


@strawberry.type(description="An archive a visit may be linked to: code, name and owner only.")
class CustomerLookupMatch:
    id: strawberry.ID = strawberry.field(description='Global id ("Customer:7"): pass it as '
                                         "customerId to registerReception.")
    code: str
    name: str
    owner_name: str | None


@strawberry.type
class ReceptionLookupQueries:
    @strawberry.field(description="R-ROLE-1 前台查询: the archives whose full name or phone is "
                      "exactly `text` (normalised) that you may link a visit to. Needs "
                      "customer.lookup; audited; limited per hour (customer.lookups_per_hour).")
    def customer_lookup(self, info: Info, text: str) -> list[CustomerLookupMatch]:
        ctx = info.context
        try:
            found = reception_lookup.lookup(ctx.session, ctx.user, text)
        except DomainError as exc:  # rolled back; a refusal was audited by the verb
            raise shown(exc) from None
        return [CustomerLookupMatch(id=strawberry.ID(to_global("Customer", m.id)), code=m.code,
                                    name=m.name, owner_name=m.owner_name) for m in found]
