"""Uploads staged between the dry run and the confirmation of a customer import.

The rows live in the database (``import_stagings``), not in a temporary folder of the app server
that took the upload, so the confirmation may reach any server behind the load balancer. Only
the SHA-256 of the random token is stored; a staging is bound to its user, usable once, and
forgotten after ``STAGING_TTL``.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from models import ImportStaging, User
from portal import clock
from portal.services.customer_import import ImportFile

STAGING_TTL = timedelta(hours=1)
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def purge_expired(session: Session) -> int:
    """Forget stagings nobody confirmed in time (also run by the scheduled command)."""
    result = session.execute(delete(ImportStaging).where(ImportStaging.expires_at < clock.now()))
    return result.rowcount or 0


def stage(session: Session, actor: User, upload: ImportFile) -> str:
    """Keep the parsed rows for ``actor``; return the token the caller keeps in the session."""
    purge_expired(session)
    token = secrets.token_urlsafe(24)
    now = clock.now()
    payload = {"rows": upload.rows, "lines": upload.lines,
               "unknown_headers": upload.unknown_headers}
    session.add(ImportStaging(token_hash=_hash(token), user_id=actor.id,
                              filename=upload.filename[:255],
                              payload=json.dumps(payload, ensure_ascii=False),
                              created_at=now, expires_at=now + STAGING_TTL))
    session.commit()
    return token


def load(session: Session, actor: User, token: str | None) -> ImportFile | None:
    """The staged upload of ``actor`` under ``token``; None when unknown, expired or another
    user's (indistinguishable)."""
    if not isinstance(token, str) or not _TOKEN_RE.match(token):
        return None
    row = session.scalar(select(ImportStaging).where(ImportStaging.token_hash == _hash(token)))
    if row is None or row.user_id != actor.id or row.expires_at < clock.now():
        return None
    data = json.loads(row.payload)
    return ImportFile(filename=row.filename, rows=data["rows"], lines=data["lines"],
                      unknown_headers=data.get("unknown_headers", []))


def discard(session: Session, token: str | None) -> None:
    if isinstance(token, str) and _TOKEN_RE.match(token):
        session.execute(delete(ImportStaging).where(ImportStaging.token_hash == _hash(token)))
        session.commit()


def tick(session: Session, now: object) -> dict[str, int]:
    """The scheduled command forgets expired stagings."""
    return {"expired stagings removed": purge_expired(session)}
