"""Borrowing an archive (档案查阅/借阅, R-CUST-9: "借用资料一天必须马上归还").

A person who needs an archive outside their scope asks to read it, with a reason and a
duration (default one working day, at most the setting ``customer.loan_max_working_days``):

- ``request_access``: the archive is named by its exact code, full name or phone number — the
  request reveals nothing the person could not type: when nothing or several archives match,
  the answer says so without naming any. The archive's department manager(s) (holders of
  ``archive_loan.approve`` on it; the general manager when the department has none) find the
  request in their 待办.
- ``decide_access``: approve (the loan runs from now for the working days asked) or refuse
  (with a reason); nobody decides their own request. The borrower and the archive's owner are
  told.
- ``return_loan`` (the borrower, early) and ``revoke_loan`` (who may approve, with a reason)
  end a loan before its time; otherwise it ends by itself at ``ends_at`` (derived, no job).

While a loan is in force the policy lets the borrower READ the archive and what hangs off it
(``portal.policy_loans``); every read is audited with the loan's id (``record_reads``) and the
borrowing register (``register_stmt``, ``reads_of``) counts them.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from models import ArchiveLoan, Customer, User
from models.audit import AuditEntry
from models.enums import LoanStatus
from portal import audit, clock, policy, policy_loans, settings
from portal.normalize import normalize_name, normalize_phone
from portal.services import calendar, notifications
from portal.services.errors import (
    N_,
    Conflict,
    NotFound,
    OutOfScope,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from portal.services.unit import check_version, load, verb

RULE = "R-CUST-9"
REQUEST = "archive_loan.request"
APPROVE = "archive_loan.approve"
READ = "archive_loan.read"
MIN_PHONE_DIGITS = 7
MAX_REASON = 300

# derived states (not stored): an approved loan before / after its end time
ACTIVE = "active"
EXPIRED = "expired"
STATES = (LoanStatus.REQUESTED.value, ACTIVE, EXPIRED, LoanStatus.REFUSED.value,
          LoanStatus.RETURNED.value, LoanStatus.REVOKED.value)


# ---------------------------------------------------------------------------------------------
# Derived state: SQL predicate and its Python twin
# ---------------------------------------------------------------------------------------------


def state_of(loan: ArchiveLoan, now: datetime | None = None) -> str:
    """requested / active / expired / refused / returned / revoked."""
    if loan.status != LoanStatus.APPROVED.value:
        return loan.status
    now = now or clock.now()
    return ACTIVE if loan.ends_at is not None and now < loan.ends_at else EXPIRED


def state_sql(now: datetime | None = None) -> ColumnElement[str]:
    """SQL twin of ``state_of``."""
    now = now or clock.now()
    return case(
        (and_(ArchiveLoan.status == LoanStatus.APPROVED.value, ArchiveLoan.ends_at > now),
         literal(ACTIVE)),
        (ArchiveLoan.status == LoanStatus.APPROVED.value, literal(EXPIRED)),
        else_=ArchiveLoan.status)


def in_force_sql(now: datetime | None = None) -> ColumnElement[bool]:
    """The loans giving read access now."""
    now = now or clock.now()
    return and_(ArchiveLoan.status == LoanStatus.APPROVED.value,
                ArchiveLoan.starts_at <= now, ArchiveLoan.ends_at > now)


def is_in_force(loan: ArchiveLoan, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return loan.status == LoanStatus.APPROVED.value and loan.starts_at is not None \
        and loan.ends_at is not None and loan.starts_at <= now < loan.ends_at


def loan_end(session: Session, start: datetime, days: int) -> datetime:
    """The end of a loan of ``days`` working days from ``start``: the same time of day on the
    ``days``-th working day after the company date of ``start`` (weekends and holidays of the
    working-day calendar are skipped)."""
    local = start.astimezone(clock.COMPANY_TZ)
    end_day = calendar.add_working_days(session, local.date(), days)
    return datetime.combine(end_day, local.timetz().replace(tzinfo=None),
                            tzinfo=clock.COMPANY_TZ)


# ---------------------------------------------------------------------------------------------
# Asking
# ---------------------------------------------------------------------------------------------


def max_days(session: Session) -> int:
    return int(settings.get(session, "customer.loan_max_working_days"))


def _reason(value: Any, field: str = "reason") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationFailed(N_("Give a reason."), field=field)
    if len(text) > MAX_REASON:
        raise ValidationFailed(N_("%(label)s is longer than %(max)s characters."), field=field,
                               label=N_("Reason"), max=MAX_REASON)
    return text


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
    limit = int(settings.get(session, "customer.lookups_per_hour"))
    used = session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.actor_id == actor.id, AuditEntry.action == REQUEST,
        AuditEntry.at >= clock.now() - timedelta(hours=1))) or 0
    return max(0, limit - int(used))


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


# ---------------------------------------------------------------------------------------------
# Deciding, returning, revoking
# ---------------------------------------------------------------------------------------------


def _load_for_approver(session: Session, actor: User, loan_id: Any,
                       verb_action: str = APPROVE) -> ArchiveLoan:
    """A loan the actor may decide or revoke (missing and out of scope answer alike); their
    own request is refused by name (they know it exists)."""
    try:
        ident = int(loan_id)
    except (TypeError, ValueError):
        raise NotFound() from None
    if not -(2**31) <= ident < 2**31:
        raise NotFound()
    loan = session.get(ArchiveLoan, ident)
    if loan is None:
        raise NotFound()
    if loan.borrower_id == actor.id:
        raise RuleViolation(N_("Nobody decides their own request."), rule=RULE,
                            audit_action=verb_action, audit_target=loan)
    if not policy.can(actor, APPROVE, loan.customer):
        raise OutOfScope(verb_action, loan)
    return loan


def may_decide(actor: Any, loan: ArchiveLoan) -> bool:
    """For the doors: whether to offer approve/refuse on this loan."""
    return loan.status == LoanStatus.REQUESTED.value \
        and loan.borrower_id != getattr(actor, "id", None) \
        and policy.can(actor, APPROVE, loan.customer)


def may_revoke(actor: Any, loan: ArchiveLoan) -> bool:
    return is_in_force(loan) and policy.can(actor, APPROVE, loan.customer)


def may_return(actor: Any, loan: ArchiveLoan) -> bool:
    return is_in_force(loan) and loan.borrower_id == getattr(actor, "id", None)


def _tell(session: Session, loan: ArchiveLoan, kind: str, message: str,
          to_owner: bool = True) -> None:
    """The borrower and the archive's owner are told (title and link only)."""
    customer = loan.customer
    ids = [loan.borrower_id]
    if to_owner and customer.owner_id and customer.owner_id != loan.borrower_id:
        ids.append(customer.owner_id)
    borrower = loan.borrower
    notifications.notify(
        session, user_ids=ids, kind=kind, message=message,
        params={"loan": loan.id, "code": customer.code,
                "borrower": borrower.full_name if borrower else "",
                "until": loan.ends_at},
        target=loan, dedupe_key=f"{kind}:{loan.id}")


@verb
def decide_access(session: Session, actor: User, loan_id: Any, approve: bool,
                  reason: Any = None, expected_version: int | None = None) -> ArchiveLoan:
    """Approve (the loan runs from now for the working days asked) or refuse (a reason is
    required)."""
    if not policy.can(actor, APPROVE):
        raise PermissionDenied(APPROVE, ArchiveLoan)
    loan = _load_for_approver(session, actor, loan_id)
    check_version(loan, expected_version)
    if loan.status != LoanStatus.REQUESTED.value:
        raise Conflict(N_("This request was already decided."))
    note = _reason(reason, "reason") if not approve or (isinstance(reason, str)
                                                        and reason.strip()) else None
    now = clock.now()
    loan.decided_by_id, loan.decided_at, loan.decision_reason = actor.id, now, note
    if approve:
        loan.status = LoanStatus.APPROVED.value
        loan.starts_at = now
        loan.ends_at = loan_end(session, now, loan.requested_days)
    else:
        loan.status = LoanStatus.REFUSED.value
    session.flush()
    audit.record(session, actor, APPROVE if approve else "archive_loan.refuse", loan,
                 after={"status": loan.status, "ends_at": loan.ends_at}, detail=note)
    if approve:
        _tell(session, loan, "archive_loan.approved",
              N_("Loan #%(loan)s: %(borrower)s may read archive %(code)s until %(until)s."))
    else:
        _tell(session, loan, "archive_loan.refused",
              N_("Loan #%(loan)s: the request of %(borrower)s to read archive %(code)s was "
                 "refused."))
    _done_for_deciders(session, loan)
    return loan


def _done_for_deciders(session: Session, loan: ArchiveLoan) -> None:
    """The request leaves every decider's 待办 once decided."""
    from sqlalchemy import update

    from models import Notification

    session.execute(update(Notification).where(
        Notification.kind == "archive_loan.awaiting_decision",
        Notification.target_type == "ArchiveLoan", Notification.target_id == str(loan.id),
        Notification.read_at.is_(None)).values(read_at=clock.now())
        .execution_options(synchronize_session=False))


@verb
def return_loan(session: Session, actor: User, loan_id: Any,
                expected_version: int | None = None) -> ArchiveLoan:
    """The borrower gives the archive back before the loan's end."""
    if not policy.can(actor, REQUEST):
        raise PermissionDenied("archive_loan.return", ArchiveLoan)
    loan = load(session, actor, ArchiveLoan, loan_id, "archive_loan.view")
    if loan.borrower_id != actor.id:
        raise RuleViolation(N_("Only the borrower returns a loan."), rule=RULE,
                            audit_action="archive_loan.return", audit_target=loan)
    check_version(loan, expected_version)
    if not is_in_force(loan):
        raise Conflict(N_("This loan is not in force."))
    now = clock.now()
    loan.status, loan.returned_at, loan.ended_by_id = LoanStatus.RETURNED.value, now, actor.id
    session.flush()
    audit.record(session, actor, "archive_loan.return", loan, after={"status": loan.status})
    return loan


@verb
def revoke_loan(session: Session, actor: User, loan_id: Any, reason: Any,
                expected_version: int | None = None) -> ArchiveLoan:
    """Who may approve a loan ends it before its time, with a reason; the borrower is told."""
    if not policy.can(actor, APPROVE):
        raise PermissionDenied("archive_loan.revoke", ArchiveLoan)
    loan = _load_for_approver(session, actor, loan_id, "archive_loan.revoke")
    check_version(loan, expected_version)
    if not is_in_force(loan):
        raise Conflict(N_("This loan is not in force."))
    why = _reason(reason)
    now = clock.now()
    loan.status, loan.returned_at, loan.ended_by_id = LoanStatus.REVOKED.value, now, actor.id
    loan.end_reason = why
    session.flush()
    audit.record(session, actor, "archive_loan.revoke", loan, after={"status": loan.status},
                 detail=why)
    _tell(session, loan, "archive_loan.revoked",
          N_("Loan #%(loan)s of archive %(code)s was revoked."))
    return loan


# ---------------------------------------------------------------------------------------------
# Reads during a loan, the register
# ---------------------------------------------------------------------------------------------


class LoanReads:
    """What one answer returned that may hang off a borrowed archive: customer ids, and the
    ids of covered rows by model (contacts, complaints, credit, files, …), resolved to their
    archives only when the reader has a loan in force (the others pay one set insert per
    row and no statement)."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.rows: dict[type, set[int]] = {}

    def __bool__(self) -> bool:
        return bool(self.ids or self.rows)

    def customer_ids(self, session: Session, user: Any) -> set[int]:
        if not _may_borrow_more(user):
            return set()
        found = set(self.ids)
        if self.rows and policy.loans_in_force(user):
            for model, ids in self.rows.items():
                found.update(c for c in session.scalars(policy_loans.archives_of(model, ids))
                             if c is not None)
        return found


_reads: contextvars.ContextVar[LoanReads | None] = contextvars.ContextVar(
    "archive_loan_reads", default=None)


@contextmanager
def collect_reads() -> Iterator[LoanReads]:
    """Gather the archives returned while answering one GraphQL request."""
    found = LoanReads()
    token = _reads.set(found)
    try:
        yield found
    finally:
        _reads.reset(token)


def _may_borrow_more(user: Any) -> bool:
    """Whether a loan can show this user anything their scope does not (not for "all")."""
    scopes = policy.scopes_for(user, "customer.view")
    return bool(scopes) and "all" not in scopes


def note_read(model: type, row: Any) -> None:
    """A row of ``model`` (the customer, or a record that hangs off one) is being returned;
    outside ``collect_reads`` this does nothing."""
    found = _reads.get()
    ident = getattr(row, "id", None)
    if found is None or ident is None:
        return
    if model is Customer:
        found.ids.add(ident)
    else:
        found.rows.setdefault(model, set()).add(ident)


def archives_read(session: Session, user: Any, rows: Iterable[Any]) -> set[int]:
    """The archives a page's rows hang off, for a reader with a loan in force (else empty:
    nothing to audit, nothing loaded)."""
    if user is None or not _may_borrow_more(user) or not policy.loans_in_force(user):
        return set()
    found = LoanReads()
    for r in rows:
        if type(r) in policy_loans.COVERED:
            found.rows.setdefault(type(r), set()).add(r.id)
    return found.customer_ids(session, user)


def loan_in_force(user: Any, customer_id: int) -> tuple[int, datetime] | None:
    """``(loan id, end)`` of the user's loan of that archive in force now, or None."""
    loan_id = policy.loan_for(user, customer_id)
    if loan_id is None:
        return None
    ends = next(e for i, _s, e in policy.loans_in_force(user)[customer_id] if i == loan_id)
    return loan_id, ends


def record_reads(session: Session, user: Any, customer_ids: Iterable[int | None],
                 where: str) -> int:
    """One ``archive_loan.read`` entry per loan in force whose archive was read (a page, a
    GraphQL answer), naming the loan; part of the caller's transaction. Returns how many."""
    ids = {c for c in customer_ids if c is not None}
    if not ids or user is None or getattr(user, "id", None) is None:
        return 0
    scopes = policy.scopes_for(user, "customer.view")
    if not scopes or "all" in scopes:
        return 0  # a loan reads nothing more for them (and costs no statement)
    recorded = 0
    for customer_id in sorted(ids):
        loan_id = policy.loan_for(user, customer_id)
        if loan_id is not None:
            audit.record(session, user, READ, ("ArchiveLoan", loan_id),
                         detail=f"{where}: Customer {customer_id}")
            recorded += 1
    return recorded


def reads_of(session: Session, loan_ids: Iterable[int]) -> dict[int, int]:
    """How many reads each loan had (from the audit log)."""
    keys = [str(i) for i in loan_ids]
    if not keys:
        return {}
    rows = session.execute(
        select(AuditEntry.target_id, func.count()).where(
            AuditEntry.action == READ, AuditEntry.target_type == "ArchiveLoan",
            AuditEntry.target_id.in_(keys)).group_by(AuditEntry.target_id)).all()
    return {int(t): int(n) for t, n in rows if t is not None}


def register_stmt(actor: User, state: str | None = None) -> Any:
    """The borrowing register as the actor may read it: their own loans, those of archives
    in their scope (a manager: the department's; an auditor: all), newest first."""
    stmt = policy.scope(select(ArchiveLoan), actor, ArchiveLoan, "archive_loan.view")
    if state in STATES:
        stmt = stmt.where(state_sql() == state)
    return stmt.order_by(ArchiveLoan.requested_at.desc(), ArchiveLoan.id.desc())


def waiting_for(actor: User) -> Any:
    """Requests the actor may decide (their 待办), oldest first."""
    stmt = policy.scope(select(ArchiveLoan), actor, ArchiveLoan, APPROVE).where(
        ArchiveLoan.status == LoanStatus.REQUESTED.value,
        ArchiveLoan.borrower_id != actor.id)
    return stmt.order_by(ArchiveLoan.requested_at, ArchiveLoan.id)


def mine(actor: User) -> Any:
    """The actor's own loans and requests, newest first."""
    return register_stmt(actor).where(ArchiveLoan.borrower_id == actor.id)


# ---------------------------------------------------------------------------------------------
# Demo
# ---------------------------------------------------------------------------------------------


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
