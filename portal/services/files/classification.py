"""Confidential files: classification and the secrecy period (R-FILE-4, R-FILE-5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ConfidentialFile, FileLevelChange, Notification, User
from models.enums import Level
from portal import audit, clock, policy
from portal.services import notifications
from portal.services.errors import N_, PermissionDenied, ValidationFailed
from portal.services.files.common import (
    _date,
    _get_file,
    _level,
    _reason,
    _today,
    default_secrecy_until,
)
from portal.services.unit import check_version, verb


def _classify_target(session: Session, actor: User, file_id: Any) -> ConfidentialFile:
    f = _get_file(session, file_id)
    if not policy.can(actor, "file.classify", f):
        raise PermissionDenied("file.classify", f)
    return f


@verb
def reclassify(session: Session, actor: User, file_id: Any, new_level: Any, reason: str,
               expected_version: int | None = None) -> ConfidentialFile:
    """Change the level mark: only holders of ``file.classify`` (the security administrator),
    with a reason; audited (R-FILE-5)."""
    f = _classify_target(session, actor, file_id)
    check_version(f, expected_version)
    level = _level(new_level)
    why = _reason(reason)
    if level == f.level and policy.effective_level(f, _today()) == f.level:
        raise ValidationFailed(N_("The file already has this level."), field="level")
    before = {"level": f.level, "secrecy_until": f.secrecy_until}
    from_level = policy.effective_level(f, _today())
    f.level = level
    if level >= Level.SECRET:
        if f.secrecy_until is None or f.secrecy_until <= _today():
            f.secrecy_until = default_secrecy_until(level)
        f.declassified_at = None
    else:
        f.secrecy_until = None
    session.add(FileLevelChange(file_id=f.id, kind="reclassify", from_level=from_level,
                                to_level=level, new_secrecy_until=f.secrecy_until,
                                changed_by_id=actor.id, changed_at=clock.now(), reason=why))
    session.flush()
    audit.record(session, actor, "file.reclassify", f, before=before,
                 after={"level": f.level, "secrecy_until": f.secrecy_until}, detail=why)
    return f


@verb
def extend_secrecy(session: Session, actor: User, file_id: Any, until: Any, reason: str,
                   expected_version: int | None = None) -> ConfidentialFile:
    """Extend the secrecy period (保密期限) of a classified file, with a reason (R-FILE-4)."""
    f = _classify_target(session, actor, file_id)
    check_version(f, expected_version)
    new_until = _date(until, "secrecy_until")
    why = _reason(reason)
    if f.level < Level.SECRET:
        raise ValidationFailed(N_("Only classified files have a secrecy period."),
                               field="secrecy_until")
    if new_until is None or new_until <= _today() or (
            f.secrecy_until is not None and new_until <= f.secrecy_until):
        raise ValidationFailed(N_("The new end date must be later than the current one and in "
                                  "the future."), field="secrecy_until")
    before = {"secrecy_until": f.secrecy_until, "declassified_at": f.declassified_at}
    from_level = policy.effective_level(f, _today())
    f.secrecy_until = new_until
    f.declassified_at = None
    session.add(FileLevelChange(file_id=f.id, kind="extend", from_level=from_level,
                                to_level=f.level, new_secrecy_until=new_until,
                                changed_by_id=actor.id, changed_at=clock.now(), reason=why))
    session.flush()
    audit.record(session, actor, "file.extend_secrecy", f, before=before,
                 after={"secrecy_until": new_until}, detail=why)
    return f


def tick(session: Session, now: datetime) -> dict[str, int]:
    """Record the automatic declassification of files whose secrecy period has passed (once
    per file and end date: FileLevelChange + audit + notifications). Commits."""
    today = now.astimezone(clock.COMPANY_TZ).date()
    due = session.scalars(select(ConfidentialFile).where(
        ConfidentialFile.level >= Level.SECRET.value,
        ConfidentialFile.secrecy_until.is_not(None),
        ConfidentialFile.secrecy_until < today,
        ConfidentialFile.declassified_at.is_(None)).order_by(ConfidentialFile.id)).all()
    count = 0
    for f in due:
        key = f"file.declassify:{f.id}:{f.secrecy_until.isoformat()}"
        f.declassified_at = now
        if session.scalar(select(Notification.id).where(Notification.dedupe_key == key)):
            continue
        session.add(FileLevelChange(file_id=f.id, kind="declassify", from_level=f.level,
                                    to_level=Level.INTERNAL.value, changed_by_id=None,
                                    changed_at=now,
                                    reason=f"secrecy period ended {f.secrecy_until}"))
        audit.record(session, None, "file.declassify", f,
                     before={"level": f.level, "secrecy_until": f.secrecy_until},
                     after={"effective_level": Level.INTERNAL.value},
                     detail="secrecy period ended (R-FILE-4)", actor_name="scheduler")
        notifications.notify(
            session, user_ids=[None, *sorted({f.uploaded_by_id, f.responsible_manager_id}
                                             - {None})],
            kind="file.declassify",
            message=N_("File #%(file)s was declassified: its secrecy period ended."),
            params={"file": f.id}, target=f, dedupe_key=key, now=now)
        count += 1
    session.commit()
    return {"file.declassify": count}
