"""The outbox: notifications that also leave the building (e-mail, 企业微信, 钉钉).

- **Same transaction.** ``notifications.notify`` calls ``enqueue`` for every notification it
  records: one ``outbox_messages`` row per channel the addressee chose for that group of events.
  The event, its 待办 entry and its outgoing messages commit or roll back together: no lost and
  no phantom messages. A channel's failure never touches the business transaction — delivery
  happens later, in the sender.
- **Sender** (``send_due``; run by ``flask portal tick`` and ``flask portal send-notifications``):
  claims due rows with a lease (PostgreSQL ``FOR UPDATE SKIP LOCKED``; SQLite has one writer),
  commits the claim, delivers each message, marks it sent. A failure is retried with exponential
  backoff (1, 2, 4 … minutes, at most 6 hours) until ``MAX_ATTEMPTS``, then the row is ``dead``
  and shows in the system administrator's queue, who may send it again.
- **Exactly once.** Two senders never hold the same row (the claim); a sender killed before
  delivering leaves its lease to expire and the row is taken again. The one window left is a
  sender killed after the channel accepted the message and before the row is marked (a few
  milliseconds): that message may be delivered twice; e-mails then carry the same Message-ID.
- **Texts.** In the recipient's language, a title and a link only: the notification's message
  (which never holds credit amounts or classified content) and a link to the record through the
  portal, which checks permissions when it is opened.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models import Notification, NotificationChannel, OutboxMessage, User
from portal import clock
from portal.channels import Channel, ChannelError, Outgoing, new_message_id
from portal.services.errors import N_

CHANNELS = ("email", "wecom", "dingtalk")
CHANNEL_LABELS = {"email": N_("E-mail"), "wecom": N_("WeCom robot"),
                  "dingtalk": N_("DingTalk robot")}
ALL = "*"
# Groups of events a person may send to a channel (the part of a notification kind before the
# first dot); ``*`` is every group.
EVENT_GROUPS = {
    "complaint": N_("Complaints (assigned, overdue, reminders, approvals)"),
    "credit": N_("Credit (reviews, approvals, over limit)"),
    "customer": N_("Customers (follow-ups due, ownership expiring)"),
    "file": N_("Confidential files (copy requests, declassification)"),
    "account": N_("Accounts and administration (confirmations)"),
}
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=2)
BATCH = 50


def group_of(kind: str) -> str:
    return kind.split(".", 1)[0]


# ------------------------------------------------------------------------------ write side

def enqueue(session: Session, notification_id: int, user_id: int | None, kind: str,
            now: datetime | None = None) -> int:
    """Queue one message per channel the addressee chose for this kind (same transaction)."""
    if user_id is None:
        return 0
    group = group_of(kind)
    chosen = session.scalars(select(NotificationChannel.channel).where(
        NotificationChannel.user_id == user_id,
        NotificationChannel.event_group.in_((group, ALL))).distinct()).all()
    if "email" in chosen and not session.scalar(select(User.email).where(User.id == user_id)):
        chosen = [c for c in chosen if c != "email"]     # nowhere to send it
    at = now or clock.now()
    for channel in sorted(set(chosen)):
        session.add(OutboxMessage(notification_id=notification_id, user_id=user_id,
                                  channel=channel, status="pending", attempts=0,
                                  next_attempt_at=at, created_at=at))
    if chosen:
        session.flush()
    return len(set(chosen))


def preferences(session: Session, user: User) -> dict[str, set[str]]:
    """``{channel: {event groups}}`` of a person."""
    out: dict[str, set[str]] = {c: set() for c in CHANNELS}
    for row in session.scalars(select(NotificationChannel).where(
            NotificationChannel.user_id == user.id)):
        out.setdefault(row.channel, set()).add(row.event_group)
    return out


def set_preferences(session: Session, user: User, chosen: Iterable[tuple[str, str]]) -> None:
    """Replace a person's choices with ``(channel, event group)`` pairs (their own settings;
    unknown channels or groups are a validation error). The caller commits."""
    from portal.services.errors import ValidationFailed

    pairs = set(chosen)
    for channel, group in pairs:
        if channel not in CHANNELS or (group != ALL and group not in EVENT_GROUPS):
            raise ValidationFailed(N_("Unknown channel or event group."), field="channels")
    session.execute(delete(NotificationChannel).where(NotificationChannel.user_id == user.id))
    for channel, group in sorted(pairs):
        session.add(NotificationChannel(user_id=user.id, channel=channel, event_group=group))
    session.flush()


# ------------------------------------------------------------------------------ sender

@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "dead": self.dead,
                "skipped (channel off)": self.skipped}


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def _claim(session: Session, now: datetime, batch: int) -> tuple[str, list[int]]:
    """Take up to ``batch`` due rows for this sender (a lease of ``LEASE``); committed."""
    due = ((OutboxMessage.status.in_(("pending", "failed"))
            & (OutboxMessage.next_attempt_at <= now))
           | ((OutboxMessage.status == "sending") & (OutboxMessage.claimed_until < now)))
    pick = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(batch)
    if session.connection().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    me = uuid.uuid4().hex
    # The UPDATE re-checks "due" row by row: a row another sender claimed meanwhile no longer
    # matches (PostgreSQL re-evaluates the condition after the row lock; SQLite has one
    # writer), so each row goes to exactly one sender.
    session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(pick), due)
                    .values(status="sending", claimed_by=me, claimed_until=now + LEASE,
                            attempts=OutboxMessage.attempts + 1)
                    .execution_options(synchronize_session=False))
    session.commit()
    ids = list(session.scalars(select(OutboxMessage.id).where(OutboxMessage.claimed_by == me,
                                                              OutboxMessage.status == "sending")
                               .order_by(OutboxMessage.id)))
    return me, ids


def _finish(session: Session, row_id: int, me: str, **values: Any) -> None:
    """Update a row only while this sender still holds it; committed at once."""
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id,
                                                OutboxMessage.claimed_by == me)
                    .values(**values).execution_options(synchronize_session=False))
    session.commit()


def _outgoing(row: OutboxMessage, note: Notification, user: User,
              render: Callable[[Notification, str], tuple[str, str]], base_url: str,
              domain: str) -> Outgoing:
    subject, text = render(note, user.language or "zh_Hans_CN")
    return Outgoing(message_id=new_message_id(row.id, domain), to_name=user.full_name,
                    to_address=user.email, subject=subject, text=text,
                    link=f"{base_url.rstrip('/')}/notifications/{note.id}/open")


def send_due(session: Session, channels: dict[str, Channel],
             render: Callable[[Notification, str], tuple[str, str]], base_url: str,
             now: datetime | None = None, batch: int = BATCH, domain: str = "customer-archive",
             after_claim: Callable[[list[int]], None] | None = None) -> SendReport:
    """Deliver what is due, one claimed batch at a time, until nothing is due."""
    report = SendReport()
    while True:
        at = now or clock.now()
        me, ids = _claim(session, at, batch)
        if not ids:
            return report
        if after_claim:
            after_claim(ids)
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(ids))
                               .order_by(OutboxMessage.id)).all()
        notes = {n.id: n for n in session.scalars(select(Notification).where(
            Notification.id.in_({r.notification_id for r in rows})))}
        users = {u.id: u for u in session.scalars(select(User).where(
            User.id.in_({r.user_id for r in rows})))}
        work = [(r.id, r.channel, r.attempts, _outgoing(r, notes[r.notification_id],
                                                         users[r.user_id], render, base_url,
                                                         domain)) for r in rows]
        session.commit()
        for row_id, channel_name, attempts, msg in work:
            channel = channels.get(channel_name)
            user_active = users[next(r.user_id for r in rows if r.id == row_id)].is_active
            if channel is None or not user_active:
                # the channel was switched off (or the person left): not deliverable
                report.skipped += 1
                _finish(session, row_id, me, status="dead", claimed_until=None,
                        last_error="channel not configured" if channel is None
                        else "user inactive")
                continue
            try:
                channel.send(msg)
            except ChannelError as exc:
                dead = attempts >= MAX_ATTEMPTS
                report.dead += dead
                report.failed += not dead
                report.errors.append(str(exc))
                _finish(session, row_id, me, status="dead" if dead else "failed",
                        claimed_until=None, last_error=str(exc)[:500],
                        next_attempt_at=(now or clock.now()) + backoff(attempts))
            else:
                report.sent += 1
                _finish(session, row_id, me, status="sent", sent_at=now or clock.now(),
                        claimed_until=None, last_error=None)


def requeue(session: Session, ids: Iterable[int]) -> int:
    """Send dead or failed messages again from now (the system administrator's action)."""
    result = session.execute(update(OutboxMessage).where(
        OutboxMessage.id.in_(list(ids)), OutboxMessage.status.in_(("dead", "failed")))
        .values(status="pending", attempts=0, next_attempt_at=clock.now(), last_error=None)
        .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)


def backlog(session: Session) -> dict[str, int]:
    """Rows per state that still need attention (for /metrics and the admin home)."""
    rows = session.execute(select(OutboxMessage.status, func.count()).where(
        OutboxMessage.status != "sent").group_by(OutboxMessage.status)).all()
    out = {"pending": 0, "sending": 0, "failed": 0, "dead": 0}
    out.update({status: int(n) for status, n in rows})
    return out


def may_requeue(message: OutboxMessage) -> bool:
    """A message that failed for good (or is still failing) can be sent again."""
    return message.status in ("failed", "dead")


def awaits_attempt(message: OutboxMessage) -> bool:
    """Still to be tried: it has a next attempt time worth showing."""
    return message.status in ("pending", "failed")
