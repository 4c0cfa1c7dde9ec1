"""Joint marketing events (联谊会/会议营销, R-CUST-10): several departments (事业部) invite
customers to one event; each department's confirmed-invitation list (邀约敲定名单) is checked
against the others so that no customer is invited twice."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin, VersionedMixin, one_of, utcnow
from models.customer import Customer
from models.enums import EventSession, InvitationStatus, RulingStatus
from models.org import Department, User

joint_event_departments = Table(
    "joint_event_departments", Base.metadata,
    Column("event_id", ForeignKey("joint_events.id"), primary_key=True),
    Column("department_id", ForeignKey("departments.id"), primary_key=True, index=True),
)


class JointEvent(VersionedMixin, TimestampMixin, Base):
    """One joint event: date, afternoon or evening, venue, the departments taking part and the
    coordinator (协调助理) who checks their lists. Being named coordinator is a grant on this
    event (``joint_event.coordinate`` with scope ``own``), not an administrator role."""

    __tablename__ = "joint_events"
    __table_args__ = (one_of("session", EventSession, "session_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    event_date: Mapped[date] = mapped_column(index=True)
    session: Mapped[str] = mapped_column(String(16))
    venue: Mapped[str] = mapped_column(String(200))
    coordinator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    departments: Mapped[list[Department]] = relationship(secondary=joint_event_departments,
                                                         order_by=Department.id)
    coordinator: Mapped[User | None] = relationship(foreign_keys=[coordinator_id])

    @property
    def department_ids(self) -> frozenset[int]:
        return frozenset(d.id for d in self.departments)

    def __str__(self) -> str:
        return f"{self.name} {self.event_date.isoformat()}"


class JointInvitation(Base):
    """One customer on one department's confirmed-invitation list for one event.

    ``list_day`` is the day of the list the submission counts for (after a cut-off it counts
    for the next day); ``confirmed_by`` is the person who confirmed the customer — sales at the
    event are credited to them and to ``department``."""

    __tablename__ = "joint_invitations"
    __table_args__ = (one_of("status", InvitationStatus, "status_known"),
                      UniqueConstraint("event_id", "department_id", "customer_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("joint_events.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    list_day: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), index=True)
    # why a line was refused or lost, as the department saw it (other department and when)
    conflict_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    conflict_at: Mapped[datetime | None]

    event: Mapped[JointEvent] = relationship()
    department: Mapped[Department] = relationship(foreign_keys=[department_id])
    customer: Mapped[Customer] = relationship()
    confirmed_by: Mapped[User] = relationship(foreign_keys=[confirmed_by_id])
    submitted_by: Mapped[User] = relationship(foreign_keys=[submitted_by_id])
    conflict_department: Mapped[Department | None] = relationship(
        foreign_keys=[conflict_department_id])


class JointRuling(VersionedMixin, Base):
    """The coordinator's ruling on a conflict (one customer confirmed by two departments), or
    its escalation to the general manager. A decided ruling is final."""

    __tablename__ = "joint_rulings"
    __table_args__ = (one_of("status", RulingStatus, "status_known"),
                      UniqueConstraint("event_id", "customer_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("joint_events.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    winner_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    escalated_to_gm: Mapped[bool] = mapped_column(default=False)
    escalated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    escalated_at: Mapped[datetime | None]
    escalation_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]

    event: Mapped[JointEvent] = relationship()
    customer: Mapped[Customer] = relationship()
    winner_department: Mapped[Department | None] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    escalated_by: Mapped[User | None] = relationship(foreign_keys=[escalated_by_id])


class JointAttendance(Base):
    """A customer's attendance and sales at a joint event, credited to the department and the
    person that confirmed the customer (R-CUST-10)."""

    __tablename__ = "joint_attendances"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_nonneg"),
                      UniqueConstraint("event_id", "customer_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("joint_events.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    attended: Mapped[bool] = mapped_column(default=True)
    amount: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    credited_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)

    event: Mapped[JointEvent] = relationship()
    customer: Mapped[Customer] = relationship()
    department: Mapped[Department] = relationship()
    credited_user: Mapped[User] = relationship(foreign_keys=[credited_user_id])
