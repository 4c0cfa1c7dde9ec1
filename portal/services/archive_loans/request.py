"""Archive loans: asking to read an archive named exactly (``request_access``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models import ArchiveLoan, Customer, User
from models.enums import LoanStatus
from portal import audit, clock, policy, settings
from portal.normalize import normalize_name, normalize_phone
from portal.services import notifications, reception_lookup
from portal.services.archive_loans.common import APPROVE, REQUEST, RULE, _reason, max_days
from portal.services.archive_loans.state import in_force_sql
from portal.services.errors import N_, PermissionDenied, RuleViolation, ValidationFailed
from portal.services.unit import verb

MIN_PHONE_DIGITS = 7


def _days(session: Session, value: Any) -> int:
    if value in (None, ""):
        return 1
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(N_("Give the number of working days (1 to %(max)s)."),
                               field="days", max=max_days(session)) from None
    if not 1 <= days <= max_days(session):
        raise ValidationFailed(N_("Give the number of working days (1 to %(max)s)."),
                               field="days", max=max_days(session))
    return days


def _matches(session: Session, text: str) -> list[int]:
    """Ids of the archives whose code, normalised full name or normalised phone is exactly
    ``text`` (at most two: one is an answer, two are "several")."""
    conditions: list[ColumnElement[bool]] = [Customer.code == text.upper(),
                                             Customer.code == text]
    name = normalize_name(text)
    if name:
        conditions.append(Customer.name_normalized == name)
    digits = normalize_phone(text) or ""
    if len(digits) >= MIN_PHONE_DIGITS:
        conditions.append(Customer.phone_normalized == digits)
    return list(session.scalars(select(Customer.id).where(or_(*conditions))
                                .order_by(Customer.id).limit(2)))


def _requests_left(session: Session, actor: User) -> int:
    """Asking is an exact look-up too: limited per hour like the front desk's."""
    return reception_lookup.lookups_left(session, actor, REQUEST)


def deciders(session: Session, customer: Customer, borrower_id: int) -> list[User]:
    """Who decides: holders of ``archive_loan.approve`` on the archive except the borrower;
    the archive department's own manager(s) when there are any, else the wider holders (the
    general manager)."""
    holders = [u for u in policy.users_with(session, APPROVE, customer) if u.id != borrower_id]
    managers = {u.id for u in policy.department_managers(session, customer.department_id)}
    own = [u for u in holders if u.id in managers]
    return own or holders


@verb
def request_access(session: Session, actor: User, archive: Any, reason: Any,
                   days: Any = None) -> ArchiveLoan:
    """Ask to read the archive named by ``archive`` (exact code, full name or phone)."""
    if not policy.can(actor, REQUEST):
        raise PermissionDenied(REQUEST, ArchiveLoan)
    text = archive.strip() if isinstance(archive, str) else ""
    if not text or len(text) > 100:
        raise ValidationFailed(N_("Type the archive's code, the customer's full name or phone "
                                  "number."), field="archive")
    why = _reason(reason)
    span = _days(session, days)
    if _requests_left(session, actor) <= 0:
        raise RuleViolation(
            N_("Too many look-ups within an hour (at most %(limit)s); try again later."),
            rule=RULE, field="archive", audit_action=REQUEST, audit_target=ArchiveLoan,
            limit=int(settings.get(session, "customer.lookups_per_hour")))
    found = _matches(session, text)
    if not found:
        raise RuleViolation(N_("No archive has exactly this code, full name or phone number."),
                            rule=RULE, field="archive", audit_action=REQUEST,
                            audit_target=ArchiveLoan)
    if len(found) > 1:
        raise RuleViolation(N_("Several archives match: give the archive's code."), rule=RULE,
                            field="archive", audit_action=REQUEST, audit_target=ArchiveLoan)
    customer = session.get(Customer, found[0])
    assert customer is not None
    if session.scalar(select(ArchiveLoan.id).where(
            ArchiveLoan.borrower_id == actor.id, ArchiveLoan.customer_id == customer.id,
            or_(ArchiveLoan.status == LoanStatus.REQUESTED.value, in_force_sql()))):
        raise RuleViolation(N_("You already asked for this archive, or it is lent to you."),
                            rule=RULE, field="archive", audit_action=REQUEST,
                            audit_target=ArchiveLoan)
    if policy.can(actor, "customer.view", customer):
        raise ValidationFailed(N_("You may already read this archive: open it from the "
                                  "customer list."), field="archive")
    approvers = deciders(session, customer, actor.id)
    if not approvers:
        raise RuleViolation(N_("Nobody may approve a loan of this archive."), rule=RULE,
                            field="archive", audit_action=REQUEST, audit_target=ArchiveLoan)
    loan = ArchiveLoan(customer_id=customer.id, borrower_id=actor.id, reason=why,
                       requested_days=span, requested_at=clock.now())
    session.add(loan)
    session.flush()
    audit.record(session, actor, REQUEST, loan,
                 after={"customer": customer.id, "days": span}, detail=why)
    notifications.notify(
        session, user_ids=[u.id for u in approvers], kind="archive_loan.awaiting_decision",
        message=N_("%(borrower)s asks to borrow archive %(code)s (loan #%(loan)s): approve or "
                   "refuse."),
        params={"borrower": actor.full_name, "code": customer.code, "loan": loan.id},
        target=loan, dedupe_key=f"archive_loan.awaiting_decision:{loan.id}")
    return loan
