"""The Python and SQL twins of a row scope must agree (found while building the policy state
machine): ``policy._in_scope`` counts a row's owner under the branch scope, the SQL filter
``_customer_filter`` does not. Through the services this shows when a salesperson moves to
another branch while keeping customers and their grant is widened to ``branch``."""

from __future__ import annotations

from sqlalchemy import select

from models import Customer, Grant
from portal import policy
from portal.services import grants, users


def test_branch_scope_python_and_sql_agree_for_a_moved_owner(world, session) -> None:
    g = session.scalar(select(Grant).where(Grant.role == "sales", Grant.area == "customer",
                                           Grant.action == "view"))
    grants.change_scope(session, world.secadmin, g.id, {"scope": "branch"})
    users.update_user(session, world.sysadmin, world.sales1.id, {"branch_id": world.b2.id})
    session.expire_all()
    mover = session.get(type(world.sales1), world.sales1.id)
    cust = session.get(Customer, world.customers["sales1"][0].id)
    assert cust.owner_id == mover.id and cust.branch_id != mover.branch_id
    listed = cust.id in set(session.scalars(
        policy.scope(select(Customer.id), mover, Customer, "customer.view")))
    assert policy.can(mover, "customer.view", cust) == listed
