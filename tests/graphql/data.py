"""Rows hanging off customers (complaints with events, credit evaluations and lines with
approvals, contacts, follow-ups, files, reception records), written straight to the tables."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from models import (
    Complaint,
    ComplaintEvent,
    ConfidentialFile,
    CreditApproval,
    CreditEvaluation,
    CreditLine,
    Customer,
    CustomerContact,
    FollowUp,
    OwnerChange,
    ReceptionRecord,
    User,
)
from models.base import utcnow
from models.enums import Level

_seq = itertools.count(1)


def add_complaint(session: Session, customer: Customer, received_by: User,
                  handler: User | None = None) -> Complaint:
    n = next(_seq)
    c = Complaint(number=f"T{n:06d}", customer_id=customer.id, channel="phone",
                  type="complaint", cause="quality", description=f"description {n}",
                  received_by_id=received_by.id, handler_id=handler.id if handler else None,
                  responsible_department_id=customer.department_id,
                  deadline_at=utcnow() + timedelta(days=5), status="registered")
    session.add(c)
    session.flush()
    session.add(ComplaintEvent(complaint_id=c.id, from_status=None, to_status="registered",
                               actor_id=received_by.id))
    return c


def add_credit(session: Session, customer: Customer, by: User) -> CreditLine:
    ev = CreditEvaluation(customer_id=customer.id, rating="B", rating_reason="test",
                          evaluated_by_id=by.id)
    session.add(ev)
    session.flush()
    line = CreditLine(customer_id=customer.id, evaluation_id=ev.id, kind="long_term",
                      limit_amount=Decimal("10000"), term_days=30, proposed_by_id=by.id)
    session.add(line)
    session.flush()
    session.add(CreditApproval(credit_line_id=line.id, step="propose", actor_id=by.id))
    return line


def add_extras(session: Session, customer: Customer, owner: User) -> None:
    session.add(CustomerContact(customer_id=customer.id, name="联系人", phone="13900000000"))
    session.add(FollowUp(customer_id=customer.id, user_id=owner.id, kind="call"))
    session.add(OwnerChange(customer_id=customer.id, from_user_id=None, to_user_id=owner.id,
                            changed_by_id=owner.id, reason="created"))


def add_file(session: Session, customer: Customer, uploader: User,
             level: int = Level.INTERNAL.value) -> ConfidentialFile:
    f = ConfidentialFile(title=f"file of {customer.code}", customer_id=customer.id,
                         department_id=customer.department_id, level=level,
                         original_name="a.pdf", content_type="application/pdf", size_bytes=10,
                         sha256="0" * 64, uploaded_by_id=uploader.id)
    session.add(f)
    session.flush()
    return f


def add_reception(session: Session, customer: Customer, receptionist: User,
                  assigned: User) -> ReceptionRecord:
    r = ReceptionRecord(kind="visit", visitor_name="访客", branch_id=customer.branch_id,
                        department_id=customer.department_id, received_by_id=receptionist.id,
                        assigned_to_id=assigned.id, customer_id=customer.id)
    session.add(r)
    session.flush()
    return r


def populate(session: Session, world) -> None:
    """Give every world customer a complaint, a credit line, contacts, a file and a visit."""
    for username, customers in world.customers.items():
        owner = getattr(world, username)
        for c in customers:
            add_complaint(session, c, world.service, handler=world.service)
            add_credit(session, c, world.manager)
            add_extras(session, c, owner)
            add_file(session, c, owner)
            add_reception(session, c, world.reception, owner)
    session.commit()
