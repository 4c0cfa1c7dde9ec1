"""Notifications (待办 / inbox): the one way a service tells a person that something waits on them.

Write side: ``notify`` — every step that waits on someone calls it (services and the scheduled
``tick``). The message is an English msgid marked with ``N_`` plus a dict of parameters; it is
translated when READ, in the reader's language. Messages carry a title and a link only: no
credit amounts and no classified content (they may leave the building later, e.g. by mail).

Read side: ``unread_count``, ``inbox_stmt`` / ``inbox``, ``render``, ``mark_read`` and
``targets`` (the record a notification links to, checked through the policy so that a link
never leads to a page the reader cannot open).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    ArchiveLoan,
    Complaint,
    ConfidentialFile,
    CopyRequest,
    CreditEvaluation,
    CreditLine,
    CreditSummaryApproval,
    Customer,
    Notification,
    PenaltyNotice,
    PendingAction,
    ReceptionRecord,
    User,
)
from portal import clock, policy
from portal.services import outbox
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.unit import verb

# Target types a notification may link to (the record's class name → its model). A target of
# another type is stored but shows no link.
TARGET_MODELS: dict[str, type] = {m.__name__: m for m in (
    Customer, Complaint, CreditLine, CreditEvaluation, CopyRequest, ConfidentialFile,
    ReceptionRecord, PenaltyNotice, CreditSummaryApproval, PendingAction, ArchiveLoan)}

MAX_MESSAGE_PARAM = 200  # a parameter is a name or a code, never a document


# ---------------------------------------------------------------------------------------------
# Write side
# ---------------------------------------------------------------------------------------------


def _insert_ignore(session: Session, values: dict[str, Any]) -> int | None:
    """INSERT … ON CONFLICT (dedupe_key) DO NOTHING on both databases; the new id, or None
    when nothing was inserted. Under concurrency the second inserter waits for the first and
    then inserts nothing."""
    dialect = session.connection().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - other databases are not supported
        if session.scalar(select(Notification.id).where(
                Notification.dedupe_key == values["dedupe_key"])):
            return None
        note = Notification(**values)
        session.add(note)
        session.flush()
        return note.id
    table = Notification.__table__
    stmt = (insert(table).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id))
    row = session.execute(stmt).first()
    return row[0] if row is not None else None


TRANSLATED_KEY = "_translated"  # the stored list of parameters that are msgids


def _clean_params(params: dict[str, Any] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            value = ""
        elif isinstance(value, datetime):
            value = value.astimezone(clock.COMPANY_TZ).strftime("%Y-%m-%d %H:%M")
        out[str(key)] = str(value)[:MAX_MESSAGE_PARAM]
    return out


def target_ref(target: Any) -> tuple[str | None, str | None]:
    """``(type name, id)`` of a record, or ``(None, None)``."""
    if target is None:
        return None, None
    if isinstance(target, tuple):
        return str(target[0]), str(target[1])
    return type(target).__name__, str(getattr(target, "id", ""))


def notify(session: Session, *, user_ids: Iterable[int | None], kind: str, message: str,
           params: dict[str, Any] | None, target: Any, dedupe_key: str | None = None,
           now: datetime | None = None, translate: Iterable[str] = ()) -> int:
    """Record one notification per addressee; returns how many were recorded.

    ``message``: an English msgid marked ``N_()`` with ``%(name)s`` placeholders filled from
    ``params`` when read. ``target``: the record it is about (type and id are taken from it).
    ``translate``: names of parameters whose values are English msgids (marked ``N_()``,
    e.g. an action's name); they are translated into the reader's language when read, like
    the message (stored under ``TRANSLATED_KEY``).
    ``dedupe_key``: with it, recording is idempotent per addressee (the stored key is
    ``"<dedupe_key>:<user id>"``); a repeat, or a concurrent run, records nothing. Without it,
    every call records. Duplicate and empty ids are skipped, except that ``None`` alone
    records an event addressed to nobody (kept, never shown in an inbox).
    Does not commit: it is part of the caller's transaction.
    """
    target_type, target_id = target_ref(target)
    clean = _clean_params(params)
    names = [name for name in translate if name in clean]
    if names:
        clean[TRANSLATED_KEY] = ",".join(names)
    message % {k: "" for k in clean}  # a missing placeholder fails here, not when read
    sent = 0
    at = now or clock.now()
    for uid in dict.fromkeys(user_ids):
        if dedupe_key is None:
            key = f"{kind}:{target_type}:{target_id}:{uuid.uuid4().hex}:{uid}"
        else:
            key = dedupe_key if uid is None else f"{dedupe_key}:{uid}"
        new_id = _insert_ignore(session, {
            "user_id": uid, "kind": kind[:48], "target_type": target_type,
            "target_id": target_id, "message": message, "params": clean,
            "dedupe_key": key[:200], "created_at": at})
        if new_id is not None:
            sent += 1
            # the messages that leave the building, in the same transaction (issue 20)
            outbox.enqueue(session, new_id, uid, kind, now=at)
    return sent


def settle(session: Session, *, kind: str, dedupe_key: str, now: datetime | None = None
           ) -> int:
    """What waited on people is done: every addressee's unread notification recorded with
    ``kind`` and ``dedupe_key`` leaves their 待办 (it is marked read). Part of the caller's
    transaction; returns how many changed."""
    result = session.execute(
        update(Notification).where(Notification.kind == kind[:48],
                                   Notification.dedupe_key.startswith(f"{dedupe_key}:",
                                                                      autoescape=True),
                                   Notification.read_at.is_(None))
        .values(read_at=now or clock.now()).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


# ---------------------------------------------------------------------------------------------
# Read side
# ---------------------------------------------------------------------------------------------


def _mine(user: User) -> Any:
    """The user's own notifications, through the policy (``token.view``, own scope)."""
    return policy.scope(select(Notification), user, Notification).where(
        Notification.user_id == user.id)


def unread_count(session: Session, user: User) -> int:
    if not policy.can(user, "token.view", Notification):
        return 0
    stmt = policy.scope(select(func.count(Notification.id)).select_from(Notification), user,
                        Notification).where(Notification.user_id == user.id,
                                            Notification.read_at.is_(None))
    return int(session.scalar(stmt) or 0)


def inbox_stmt(user: User, unread_only: bool = False) -> Any:
    """The user's notifications, newest first (for the portal page and the GraphQL
    connection, which page it themselves)."""
    stmt = _mine(user)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def inbox(session: Session, user: User, *, unread_only: bool = False, limit: int = 50,
          offset: int = 0) -> list[Notification]:
    return list(session.scalars(inbox_stmt(user, unread_only).limit(limit).offset(offset)))


def render(n: Notification, gettext: Callable[[str], str] | None = None) -> str:
    """The message in the reader's language (``gettext`` of the edge). Rows recorded before
    messages had parameters are shown as stored."""
    if n.params is None:
        return n.message
    text = gettext(n.message) if gettext else n.message
    params = dict(n.params)
    if gettext:
        for name in (params.pop(TRANSLATED_KEY, "") or "").split(","):
            if name in params:
                params[name] = gettext(params[name])
    try:
        return text % params
    except (KeyError, ValueError, TypeError):
        return n.message % n.params if n.params else n.message


def targets(session: Session, user: User, notes: Sequence[Notification]
            ) -> dict[int, tuple[type, int]]:
    """For each notification whose record the user may open: ``{notification id: (model,
    record id)}``. One scoped query per target type (no N+1); a record the user may not see
    (any more) gets no link."""
    wanted: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for n in notes:
        model = TARGET_MODELS.get(n.target_type or "")
        if model is None or not (n.target_id or "").isdigit():
            continue
        wanted[n.target_type][int(n.target_id)].append(n.id)
    out: dict[int, tuple[type, int]] = {}
    for type_name, by_id in wanted.items():
        model = TARGET_MODELS[type_name]
        if not policy.can(user, "view", model):
            continue
        stmt = policy.scope(select(model.id), user, model).where(model.id.in_(list(by_id)))
        for rid in session.scalars(stmt):
            for nid in by_id[rid]:
                out[nid] = (model, rid)
    return out


@verb
def mark_read(session: Session, actor: User, ids: Iterable[Any] | None = None) -> int:
    """Mark the actor's notifications read: the given ids, or all unread when ``ids`` is
    None. Other people's ids are ignored (they are not in the actor's inbox). Returns how many
    changed. Reading state is personal, so it is not audited."""
    if not policy.can(actor, "token.change", Notification):
        raise PermissionDenied("token.change", Notification)
    stmt = update(Notification).where(Notification.user_id == actor.id,
                                      Notification.read_at.is_(None))
    if ids is not None:
        try:
            pks = [int(i) for i in ids]
        except (TypeError, ValueError):
            raise ValidationFailed(N_("Choose notifications to mark read.")) from None
        if not pks:
            return 0
        stmt = stmt.where(Notification.id.in_(pks))
    result = session.execute(stmt.values(read_at=clock.now())
                             .execution_options(synchronize_session=False))
    return int(result.rowcount or 0)
