"""R-CUST-9 borrowing an archive (档案查阅/借阅): asking by exact code/name/phone, approval by the
archive department's manager or the general manager, read-only access that ends by itself at
its end time (controlled clock), early return, revocation, every read audited with the loan
id, the register scoped."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import ArchiveLoan, AuditEntry, Customer, CustomerContact, Notification
from models.enums import LoanStatus
from portal import clock, policy
from portal.services import archive_loans, customers
from portal.services.errors import (
    Conflict,
    NotFound,
    OutOfScope,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from tests.factories import make_customer
from tests.graphql.data import add_complaint

# Wednesday 2 December 2026, 10:00 in China (02:00 UTC)
WEDNESDAY_10 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def _audit_mark(session) -> int:
    return session.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0)))


def _entries_since(session, mark: int) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.seq > mark)
                                .order_by(AuditEntry.seq)))


def _visible_ids(session, user, model=Customer, action="view") -> set[int]:
    return set(session.scalars(policy.scope(select(model.id), user, model, action)))


def _loan_count(session) -> int:
    return session.scalar(select(func.count(ArchiveLoan.id))) or 0


def _lend(session, world, customer, borrower=None, days=1) -> ArchiveLoan:
    borrower = borrower or world.sales4
    loan = archive_loans.request_access(session, borrower, customer.code, "客户来电咨询订单",
                                        days)
    return archive_loans.decide_access(session, world.manager, loan.id, True)


def test_R_CUST_9_request_finds_the_archive_by_exact_code_name_or_phone(world, session):
    c = world.customers["sales1"][0]
    for typed in (c.code, c.name, c.phone, f" {c.phone[:3]}-{c.phone[3:7]}-{c.phone[7:]} "):
        loan = archive_loans.request_access(session, world.sales4, typed, "客户到店")
        assert loan.customer_id == c.id and loan.status == LoanStatus.REQUESTED.value
        session.delete(loan)
        session.commit()


def test_R_CUST_9_no_match_or_several_reveal_nothing_and_are_audited(world, session):
    a = world.customers["sales1"][0]
    twin = make_customer(session, world.sales2, name=a.name + "二")
    twin.name_normalized = a.name_normalized  # two archives with the same name
    session.commit()
    for typed, words in ((a.name[:-1], "No archive"), (a.phone[:-1], "No archive"),
                         (a.name, "Several archives")):
        mark = _audit_mark(session)
        with pytest.raises(RuleViolation) as err:
            archive_loans.request_access(session, world.sales4, typed, "看看")
        text = err.value.translated()
        assert words in text and a.code not in text and twin.code not in text
        assert err.value.rule == "R-CUST-9"
        entries = _entries_since(session, mark)
        assert [(e.action, e.outcome) for e in entries] == [("archive_loan.request", "denied")]
        assert a.code not in (entries[0].detail or "")
    assert _loan_count(session) == 0


def test_R_CUST_9_request_validates_reason_and_duration(world, session):
    c = world.customers["sales1"][0]
    with pytest.raises(ValidationFailed) as err:
        archive_loans.request_access(session, world.sales4, c.code, "  ")
    assert err.value.field == "reason"
    with pytest.raises(ValidationFailed) as err:
        archive_loans.request_access(session, world.sales4, c.code, "要看", days=6)
    assert err.value.field == "days"
    with pytest.raises(ValidationFailed):  # already in scope: nothing to borrow
        archive_loans.request_access(session, world.sales1, c.code, "要看")
    with pytest.raises(PermissionDenied):
        archive_loans.request_access(session, world.auditor, c.code, "要看")
    assert _loan_count(session) == 0
    loan = archive_loans.request_access(session, world.sales4, c.code, "要看", days=5)
    assert loan.requested_days == 5
    with pytest.raises(RuleViolation):  # a second request while one waits
        archive_loans.request_access(session, world.sales4, c.code, "要看")
    assert _loan_count(session) == 1


def test_R_CUST_9_the_request_waits_in_the_department_managers_todo(world, session):
    c = world.customers["sales1"][0]
    loan = archive_loans.request_access(session, world.sales4, c.code, "客户来电")
    notes = session.scalars(select(Notification).where(
        Notification.kind == "archive_loan.awaiting_decision")).all()
    assert [n.user_id for n in notes] == [world.manager.id]  # d1's manager, not d2's, not GM
    assert notes[0].target_type == "ArchiveLoan" and notes[0].target_id == str(loan.id)
    assert [loan.id] == list(session.scalars(
        archive_loans.waiting_for(world.manager).with_only_columns(ArchiveLoan.id)))
    assert not list(session.scalars(archive_loans.waiting_for(world.manager2)))


def test_R_CUST_9_approval_by_the_right_manager_only(world, session):
    c = world.customers["sales1"][0]
    loan = archive_loans.request_access(session, world.sales4, c.code, "客户来电")
    for who, error in ((world.manager2, OutOfScope), (world.sales1, PermissionDenied),
                       (world.supervisor, PermissionDenied), (world.auditor, PermissionDenied)):
        mark = _audit_mark(session)
        with pytest.raises(error):
            archive_loans.decide_access(session, who, loan.id, True)
        entries = _entries_since(session, mark)
        assert [e.outcome for e in entries] == ["denied"], who.username
        session.expire_all()
        assert session.get(ArchiveLoan, loan.id).status == LoanStatus.REQUESTED.value
    # a manager's own request is decided by someone else
    own = archive_loans.request_access(session, world.manager2, c.code, "核对")
    mark = _audit_mark(session)
    with pytest.raises(RuleViolation):
        archive_loans.decide_access(session, world.manager2, own.id, True)
    assert [e.outcome for e in _entries_since(session, mark)] == ["denied"]
    with pytest.raises(NotFound):
        archive_loans.decide_access(session, world.manager, 999999, True)
    # refusing needs a reason
    with pytest.raises(ValidationFailed):
        archive_loans.decide_access(session, world.manager, own.id, False, " ")
    decided = archive_loans.decide_access(session, world.gm, own.id, False, "无业务需要")
    assert decided.status == LoanStatus.REFUSED.value and decided.decided_by_id == world.gm.id
    approved = archive_loans.decide_access(session, world.manager, loan.id, True)
    assert approved.status == LoanStatus.APPROVED.value
    assert approved.decided_by_id == world.manager.id and approved.starts_at is not None
    with pytest.raises(Conflict):
        archive_loans.decide_access(session, world.gm, loan.id, False, "再议")
    # the borrower and the owner are told; the request left the manager's 待办
    told = {(n.user_id, n.kind) for n in session.scalars(select(Notification).where(
        Notification.target_type == "ArchiveLoan", Notification.target_id == str(loan.id)))}
    assert {(world.sales4.id, "archive_loan.approved"),
            (world.sales1.id, "archive_loan.approved")} <= told
    waiting = session.scalar(select(Notification).where(
        Notification.kind == "archive_loan.awaiting_decision",
        Notification.target_id == str(loan.id)))
    assert waiting.read_at is not None


def test_R_CUST_9_a_loan_widens_reading_of_that_archive_only(world, session):
    c, other = world.customers["sales1"]
    complaint = add_complaint(session, c, world.service)
    hidden_complaint = add_complaint(session, other, world.service)
    session.add(CustomerContact(customer_id=c.id, name="张经理", phone="13500000001"))
    session.commit()
    b = world.sales4
    assert c.id not in _visible_ids(session, b)
    loan = _lend(session, world, c)
    assert loan.ends_at is not None
    seen = _visible_ids(session, b)
    assert c.id in seen and other.id not in seen
    assert seen - {c.id} == {x.id for x in world.customers["sales4"]}
    assert policy.can(b, "customer.view", c) and not policy.can(b, "customer.view", other)
    # what hangs off it, as far as the borrower's role may read it
    from models import Complaint

    complaints = _visible_ids(session, b, Complaint)
    assert complaint.id in complaints and hidden_complaint.id not in complaints
    assert policy.group_visible(b, "customer_contact", c)
    assert not policy.group_visible(b, "customer_contact", other)
    assert c.id not in _visible_ids(session, b, Customer, "customer.export")
    # nobody else gains anything
    assert c.id not in _visible_ids(session, world.sales3)


def test_R_CUST_9_no_write_during_a_loan(world, session):
    c = world.customers["sales1"][0]
    _lend(session, world, c)
    b = world.sales4
    for action in ("customer.change", "customer.follow_up", "customer.claim",
                   "customer.reassign", "customer.close", "customer_contact.change",
                   "customer.export", "file.upload"):
        assert not policy.can(b, action, c), action
        assert c.id not in _visible_ids(session, b, Customer, action), action
    version = c.version
    for call in (lambda: customers.update_customer(session, b, c.id, {"notes": "借阅时改"}),
                 lambda: customers.record_follow_up(session, b, c.id, "call"),
                 lambda: customers.add_contact(session, b, c.id, {"name": "李四"}),
                 lambda: customers.claim_customer(session, b, c.id)):
        mark = _audit_mark(session)
        with pytest.raises((OutOfScope, PermissionDenied, NotFound)):
            call()
        assert [e.outcome for e in _entries_since(session, mark)] == ["denied"]
    session.expire_all()
    assert session.get(Customer, c.id).version == version


def test_R_CUST_9_loan_ends_at_its_end_time_with_a_controlled_clock(world, session):
    c = world.customers["sales1"][0]
    b = world.sales4
    with clock.frozen(WEDNESDAY_10):
        loan = _lend(session, world, c)
        assert loan.ends_at == WEDNESDAY_10 + timedelta(days=1)  # one working day
        assert archive_loans.state_of(loan) == archive_loans.ACTIVE
    with clock.frozen(WEDNESDAY_10 + timedelta(days=1) - timedelta(seconds=1)):
        assert c.id in _visible_ids(session, b) and policy.can(b, "customer.view", c)
        assert session.scalar(select(archive_loans.state_sql()).where(
            ArchiveLoan.id == loan.id)) == archive_loans.ACTIVE
    session.commit()
    with clock.frozen(WEDNESDAY_10 + timedelta(days=1)):
        assert c.id not in _visible_ids(session, b)
        assert not policy.can(b, "customer.view", c)
        assert archive_loans.state_of(loan) == archive_loans.EXPIRED
        assert session.scalar(select(archive_loans.state_sql()).where(
            ArchiveLoan.id == loan.id)) == archive_loans.EXPIRED
        with pytest.raises(Conflict):
            archive_loans.return_loan(session, b, loan.id)


def test_R_CUST_9_friday_loan_runs_to_monday_and_longer_loans_skip_weekends(world, session):
    c, d = world.customers["sales1"]
    friday_15 = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
    with clock.frozen(friday_15):
        one = _lend(session, world, c)
        three = _lend(session, world, d, days=3)
    assert one.ends_at == friday_15 + timedelta(days=3)  # Monday 15:00
    assert three.ends_at == friday_15 + timedelta(days=5)  # Wednesday 15:00


def test_R_CUST_9_early_return(world, session):
    c = world.customers["sales1"][0]
    loan = _lend(session, world, c)
    with pytest.raises(RuleViolation):  # only the borrower returns
        archive_loans.return_loan(session, world.sales1, loan.id)
    with pytest.raises(NotFound):  # someone who cannot even see the loan
        archive_loans.return_loan(session, world.sales3, loan.id)
    returned = archive_loans.return_loan(session, world.sales4, loan.id)
    assert returned.status == LoanStatus.RETURNED.value and returned.returned_at is not None
    assert c.id not in _visible_ids(session, world.sales4)
    with pytest.raises(Conflict):
        archive_loans.return_loan(session, world.sales4, loan.id)


def test_R_CUST_9_revoke(world, session):
    c = world.customers["sales1"][0]
    loan = _lend(session, world, c)
    for who, error in ((world.sales4, PermissionDenied), (world.manager2, OutOfScope)):
        mark = _audit_mark(session)
        with pytest.raises(error):
            archive_loans.revoke_loan(session, who, loan.id, "不需要了")
        assert [e.outcome for e in _entries_since(session, mark)] == ["denied"]
    with pytest.raises(ValidationFailed):
        archive_loans.revoke_loan(session, world.manager, loan.id, "")
    revoked = archive_loans.revoke_loan(session, world.manager, loan.id, "客户投诉，暂停借阅")
    assert revoked.status == LoanStatus.REVOKED.value and revoked.end_reason
    assert c.id not in _visible_ids(session, world.sales4)
    assert session.scalar(select(Notification.id).where(
        Notification.kind == "archive_loan.revoked", Notification.user_id == world.sales4.id))


def test_R_CUST_9_every_read_is_audited_with_the_loan_id(world, session):
    c, other = world.customers["sales1"]
    loan = _lend(session, world, c)
    mine = world.customers["sales4"][0]
    assert archive_loans.record_reads(session, world.sales4, [c.id, other.id, mine.id],
                                      "test") == 1
    archive_loans.record_reads(session, world.sales4, [c.id], "test")
    session.commit()
    reads = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "archive_loan.read")).all()
    assert [(e.target_type, e.target_id, e.actor_id) for e in reads] == \
        [("ArchiveLoan", str(loan.id), world.sales4.id)] * 2
    assert archive_loans.reads_of(session, [loan.id]) == {loan.id: 2}
    # the owner reading their own archive is no loan read
    assert archive_loans.record_reads(session, world.sales1, [c.id], "test") == 0


def test_R_CUST_9_the_register_is_scoped(world, session):
    c = world.customers["sales1"][0]
    e = world.customers["sales4"][0]
    loan = _lend(session, world, c)  # sales4 (department 2) borrows from department 1
    other = archive_loans.request_access(session, world.sales1, e.code, "联合活动核对")

    def register(user) -> set[int]:
        return {x.id for x in session.scalars(archive_loans.register_stmt(user))}

    assert register(world.manager) == {loan.id}  # the department's archives
    assert register(world.manager2) == {other.id}
    assert register(world.auditor) == register(world.gm) == {loan.id, other.id}
    # their own loan and the request for their own archive (the owner is told)
    assert register(world.sales4) == register(world.sales1) == {loan.id, other.id}
    assert register(world.sales2) == set()
    assert register(world.sysadmin) == set()
    for user in (world.manager, world.manager2, world.sales4, world.sales2, world.auditor):
        for row in session.scalars(select(ArchiveLoan)):
            assert policy.can(user, "archive_loan.view", row) == (row.id in register(user))
