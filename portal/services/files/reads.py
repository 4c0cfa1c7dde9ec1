"""What a reader of a file sees, decided once for both doors (issue 13): the level in force
(R-FILE-4, derived at read time), whether the secrecy period has declassified it and how it
may be downloaded (R-FILE-3). Opening the details is
audited by ``view_file`` in both doors (R-FILE-6)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement

from models import ConfidentialFile, User
from portal import clock, policy
from portal.policy_levels import _effective_level_sql

# download_mode answers
DIRECT = "direct"  # download now (/files/<id>/download)
NEEDS_COPY_APPROVAL = "copy_approval"  # request a copy first (秘密 and above in force)


def effective_level(f: ConfidentialFile, today: date | None = None) -> int:
    """The level in force today (``policy.effective_level``: the one rule)."""
    return policy.effective_level(f, today or clock.today())


def effective_level_sql(today: date | None = None) -> ColumnElement[int]:
    """SQL twin of ``effective_level``."""
    return _effective_level_sql(today or clock.today())


def is_declassified(f: ConfidentialFile, today: date | None = None) -> bool:
    """已过保密期限: a classified file whose secrecy period has ended reads as internal."""
    return effective_level(f, today) != f.level


def declassified_sql(today: date | None = None) -> ColumnElement[bool]:
    """SQL twin of ``is_declassified``."""
    return effective_level_sql(today) != ConfidentialFile.level


def needs_copy_approval(f: ConfidentialFile, today: date | None = None) -> bool:
    """Secret or above in force: each copy needs an approved request (R-FILE-3)."""
    return policy.copy_approver_action(effective_level(f, today)) is not None


def download_mode(user: User | None, f: ConfidentialFile, today: date | None = None
                  ) -> str | None:
    """``DIRECT``, ``NEEDS_COPY_APPROVAL`` or None (may not download at all): the portal's
    download button and GraphQL ``downloadUrl`` read this."""
    if user is None or not policy.can(user, "file.download", f):
        return None
    return NEEDS_COPY_APPROVAL if needs_copy_approval(f, today) else DIRECT


def download_path(f: ConfidentialFile) -> str:
    return f"/files/{f.id}/download"



__all__ = ["DIRECT", "NEEDS_COPY_APPROVAL", "declassified_sql", "download_mode",
           "download_path", "effective_level", "effective_level_sql", "is_declassified",
           "needs_copy_approval"]
