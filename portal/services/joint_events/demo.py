"""Demo (R-CUST-10): one joint event of two departments, with a conflict waiting for the
coordinator — both departments confirmed the same customer for the same list day. Through the
services, so it is audited and notified like real work."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.customer import Customer
from models.enums import Role
from models.joint_event import JointEvent
from models.org import Department, RoleAssignment, User
from portal import clock
from portal.services.joint_events.events import create_event
from portal.services.joint_events.lists import submit_list


def _holder(session: Session, role: Role, department_id: int | None = None) -> User | None:
    stmt = (select(User).join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.role == role.value, RoleAssignment.revoked_at.is_(None),
                   User.is_active.is_(True)).order_by(User.id))
    if department_id is not None:
        stmt = stmt.where(User.department_id == department_id)
    return session.scalars(stmt).first()


def load_demo_event(session: Session) -> int:
    """Returns how many events were added (0 or 1)."""
    if session.scalar(select(JointEvent.id).limit(1)):
        return 0
    gm = _holder(session, Role.GENERAL_MANAGER)
    heads: list[tuple[Department, User]] = []
    for dept in session.scalars(select(Department).order_by(Department.id)):
        head = _holder(session, Role.DEPT_MANAGER, dept.id)
        if head is not None and len(heads) < 2:
            heads.append((dept, head))
    if gm is None or len(heads) < 2:
        return 0
    (dept_a, head_a), (dept_b, head_b) = heads
    coordinator = _holder(session, Role.SERVICE)
    event = create_event(session, gm, name="迎新春客户联谊会",
                         event_date=clock.today() + timedelta(days=5), session_kind="evening",
                         venue="总部展厅二楼多功能厅", department_ids=[dept_a.id, dept_b.id],
                         coordinator_id=coordinator.id if coordinator else None)

    def customers_of(dept: Department) -> list[Customer]:
        return list(session.scalars(select(Customer).where(
            Customer.department_id == dept.id, Customer.owner_id.is_not(None),
            Customer.closed_at.is_(None)).order_by(Customer.id).limit(4)))

    ours, theirs = customers_of(dept_a), customers_of(dept_b)
    if len(ours) < 2 or len(theirs) < 2:
        return 1
    submit_list(session, head_a, event.id, [c.id for c in ours[:3]])
    # 销售二部 knows one of 一部's customers too: named by phone, refused (the conflict)
    submit_list(session, head_b, event.id, [c.id for c in theirs[:2]]
                + [{"lookup": ours[0].phone}])
    return 1
