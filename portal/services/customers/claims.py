"""What the claim pages show (R-CUST-2): which archives a salesperson may claim, decided by the
same checks ``claim_customer`` makes before its rule, so the portal offers 认领 exactly where
the verb (and GraphQL ``claimCustomer``) would accept it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import Session

from models.customer import Customer
from models.enums import CustomerStatus
from models.org import User
from portal import policy
from portal.services.customers.derived import claimable_sql, is_claimable
from portal.services.customers.owners import _as_owned_by, _is_candidate


def is_open_archive(customer: Customer) -> bool:
    """Not closed (关闭的档案 takes no contact, deal, claim or close)."""
    return customer.closed_at is None and customer.status != CustomerStatus.CLOSED.value


def claim_preconditions_met(session: Session, actor: User, customer: Customer) -> bool:
    """The policy part of ``claim_customer``: a salesperson of the archive's branch who is
    present there, allowed to claim the archive as it would be once theirs, not its owner."""
    return (policy.can(actor, "customer.claim")
            and actor.branch_id == customer.branch_id
            and customer.owner_id != actor.id
            and _is_candidate(session, actor.id, customer.branch_id)
            and policy.can(actor, "customer.claim", _as_owned_by(customer, actor.id)))


def may_claim(session: Session, actor: User, customer: Customer,
              now: datetime | None = None) -> bool:
    """认领 is offered: the preconditions hold and the archive is claimable (open; unowned or
    its ownership expired). A first-visit claim (R-CUST-3) starts from the reception record."""
    return claim_preconditions_met(session, actor, customer) and is_claimable(customer, now)


def claimable_in_branch_sql(session: Session, actor: User, now: datetime | None = None
                            ) -> ColumnElement[bool]:
    """The claimable archives of the actor's branch (the claim page's list; outside their own
    row scope: a salesperson finds here what they may claim)."""
    return and_(Customer.branch_id == actor.branch_id, claimable_sql(session, now))
