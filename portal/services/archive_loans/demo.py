"""Archive loans: the demo's loan in force and refused request."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ArchiveLoan, Customer, User
from portal import policy
from portal.services.archive_loans.decide import decide_access
from portal.services.archive_loans.request import deciders, request_access


def load_demo_loans(session: Session) -> int:
    """Demo (R-CUST-9): a salesperson borrows an archive of another department for three
    working days with its manager's approval (in force now), and another's request is refused.
    Through the services, so both are audited and notified like any. Returns how many."""
    from models.enums import Role
    from models.org import RoleAssignment

    if session.scalar(select(ArchiveLoan.id).limit(1)):
        return 0
    sales = list(session.scalars(
        select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(RoleAssignment.role == Role.SALES.value, RoleAssignment.revoked_at.is_(None),
               User.is_active.is_(True), User.department_id.is_not(None))
        .order_by(User.id)))
    done = 0
    for borrower, days, approve, reason, note in (
            (0, 3, True, "客户来电说曾在其他展厅看过样品，需要查阅该档案的意向和回访记录后回复",
             None),
            (1, 1, False, "想了解该客户的成交情况", "与本人业务无关，不予借阅")):
        if len(sales) <= borrower:
            break
        user = sales[borrower]
        customers = session.scalars(select(Customer).where(
            Customer.department_id != user.department_id, Customer.owner_id.is_not(None),
            Customer.closed_at.is_(None)).order_by(Customer.id).offset(done * 7).limit(20))
        for customer in customers:
            approvers = deciders(session, customer, user.id)
            if not approvers or policy.can(user, "customer.view", customer):
                continue
            loan = request_access(session, user, customer.code, reason, days)
            decide_access(session, approvers[0], loan.id, approve, note)
            done += 1
            break
    return done
