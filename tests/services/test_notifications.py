"""The notification service (待办 / inbox): one write function for every step that waits on
someone, messages stored as msgid + parameters and translated when read, the reader's own
inbox through the policy, links only to records the reader may open."""

from __future__ import annotations

from sqlalchemy import func, select

from models import AuditEntry, Notification
from portal.services import notifications as svc
from portal.services.errors import N_, PermissionDenied

MSG = N_("Credit line #%(line)s of %(customer)s is waiting for your review.")


def _count(session, **where) -> int:
    stmt = select(func.count(Notification.id))
    for k, v in where.items():
        stmt = stmt.where(getattr(Notification, k) == v)
    return session.scalar(stmt)


def test_notify_records_one_row_per_addressee_with_msgid_and_params(session, world):
    customer = world.customers["sales1"][0]
    sent = svc.notify(session, user_ids=[world.finance.id, world.manager.id, world.finance.id],
                      kind="credit.awaiting_review", message=MSG,
                      params={"line": 7, "customer": customer.name}, target=customer)
    session.commit()
    assert sent == 2
    n = session.scalar(select(Notification).where(Notification.user_id == world.finance.id))
    assert n.message == MSG and n.params == {"line": "7", "customer": customer.name}
    assert (n.target_type, n.target_id) == ("Customer", str(customer.id))
    assert n.read_at is None


def test_notify_with_a_dedupe_key_is_idempotent(session, world):
    customer = world.customers["sales1"][0]
    for _ in range(3):
        svc.notify(session, user_ids=[world.sales1.id], kind="customer.void",
                   message=N_("Void card: %(code)s %(customer)s was not followed up in time."),
                   params={"code": customer.code, "customer": customer.name}, target=customer,
                   dedupe_key=f"customer.void:{customer.id}:x")
    session.commit()
    assert _count(session, kind="customer.void", user_id=world.sales1.id) == 1


def test_notify_refuses_a_message_whose_placeholders_are_not_given(session, world):
    import pytest

    with pytest.raises(KeyError):
        svc.notify(session, user_ids=[world.sales1.id], kind="x", message=MSG,
                   params={"line": 1}, target=None)


def test_render_translates_when_read_and_keeps_legacy_rows(app, session, world):
    from flask_babel import force_locale, gettext

    customer = world.customers["sales1"][0]
    svc.notify(session, user_ids=[world.finance.id], kind="credit.awaiting_review",
               message=MSG, params={"line": 3, "customer": customer.name}, target=customer)
    legacy = Notification(user_id=world.finance.id, kind="old", message="Plain old text",
                          dedupe_key="legacy:1")
    session.add(legacy)
    session.commit()
    n = session.scalar(select(Notification).where(Notification.kind == "credit.awaiting_review"))
    with app.test_request_context():
        with force_locale("zh_Hans_CN"):
            zh = svc.render(n, gettext)
        with force_locale("en"):
            en = svc.render(n, gettext)
        assert svc.render(legacy, gettext) == "Plain old text"
    assert en == f"Credit line #3 of {customer.name} is waiting for your review."
    assert customer.name in zh and "#3" in zh and "waiting" not in zh


def test_inbox_is_the_readers_own_and_mark_read_counts_down(session, world):
    c = world.customers["sales1"][0]
    for i in range(3):
        svc.notify(session, user_ids=[world.sales1.id, world.sales2.id], kind="t",
                   message=MSG, params={"line": i, "customer": c.name}, target=c)
    session.commit()
    assert svc.unread_count(session, world.sales1) == 3
    mine = svc.inbox(session, world.sales1)
    assert {n.user_id for n in mine} == {world.sales1.id} and len(mine) == 3
    # other people's ids are ignored
    theirs = svc.inbox(session, world.sales2)[0]
    assert svc.mark_read(session, world.sales1, [mine[0].id, theirs.id]) == 1
    assert svc.unread_count(session, world.sales1) == 2
    assert svc.unread_count(session, world.sales2) == 3
    assert len(svc.inbox(session, world.sales1, unread_only=True)) == 2
    assert svc.mark_read(session, world.sales1) == 2
    assert svc.unread_count(session, world.sales1) == 0
    assert len(svc.inbox(session, world.sales1)) == 3


def test_auditors_cannot_mark_read_and_the_refusal_is_audited(session, world):
    import pytest

    with pytest.raises(PermissionDenied):
        svc.mark_read(session, world.auditor)
    assert session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.actor_id == world.auditor.id, AuditEntry.outcome == "denied")) == 1


def test_links_only_to_records_the_reader_may_open(session, world):
    mine = world.customers["sales1"][0]
    other = world.customers["sales3"][0]  # another branch: sales1 cannot open it
    for target in (mine, other):
        svc.notify(session, user_ids=[world.sales1.id], kind="t", message=MSG,
                   params={"line": 1, "customer": target.name}, target=target)
    svc.notify(session, user_ids=[world.sales1.id], kind="t", message=MSG,
               params={"line": 1, "customer": "x"}, target=("Unknown", 5))
    session.commit()
    notes = svc.inbox(session, world.sales1)
    links = svc.targets(session, world.sales1, notes)
    by_target = {(n.target_type, n.target_id): links.get(n.id) for n in notes}
    assert by_target[("Customer", str(mine.id))][1] == mine.id
    assert by_target[("Customer", str(other.id))] is None
    assert by_target[("Unknown", "5")] is None
