"""Confidential files: reconciliation (storage ↔ rows)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import ConfidentialFile
from models.enums import AuditOutcome
from portal import audit, storage


@dataclass
class ReconcileReport:
    orphans: list[str] = field(default_factory=list)  # blobs without a row
    missing: list[int] = field(default_factory=list)  # rows whose content is missing
    altered: list[int] = field(default_factory=list)  # rows whose content fails its checksum
    temp_files: list[str] = field(default_factory=list)  # partial writes
    deleted: int = 0
    checked_rows: int = 0

    @property
    def clean(self) -> bool:
        return not (self.orphans or self.missing or self.altered or self.temp_files)


def _referenced_blobs(session: Session) -> dict[str, list[tuple[int, int]]]:
    """Every blob a row points at: checksum → [(file id, size)], in id order."""
    referenced: dict[str, list[tuple[int, int]]] = {}
    for fid, sha, size in session.execute(select(ConfidentialFile.id, ConfidentialFile.sha256,
                                                 ConfidentialFile.size_bytes)
                                          .order_by(ConfidentialFile.id)):
        referenced.setdefault(sha, []).append((fid, size))
    return referenced


def _check_rows(store: storage.Storage, referenced: dict[str, list[tuple[int, int]]],
                report: ReconcileReport) -> None:
    """Each row's content must be in the store, pass its checksum and have its size."""
    for sha, rows in referenced.items():
        for fid, size in rows:
            report.checked_rows += 1
            try:
                data = store.get(sha)
            except storage.BlobMissing:
                report.missing.append(fid)
                continue
            except (storage.ChecksumMismatch, ValueError):
                report.altered.append(fid)
                continue
            if len(data) != size:
                report.altered.append(fid)


def _delete_leftovers(session: Session, store: storage.Storage,
                      report: ReconcileReport) -> None:
    """Remove orphan blobs (still unreferenced on a re-check) and temporary files."""
    for key in report.orphans:
        # re-check: an upload may have committed its row since the scan
        if session.scalar(select(ConfidentialFile.id)
                          .where(ConfidentialFile.sha256 == key).limit(1)) is None:
            store.delete(key)
            report.deleted += 1
    for path in report.temp_files:
        try:
            os.unlink(path)
            report.deleted += 1
        except OSError:
            pass


def reconcile(session: Session, store: storage.Storage | None = None, *,
              delete: bool = False) -> ReconcileReport:
    """Compare the store with the rows. With ``delete``, orphan blobs and leftover temporary
    files are removed (rows are never touched). The run is audited."""
    store = store or storage.current()
    report = ReconcileReport()
    referenced = _referenced_blobs(session)
    report.orphans = [key for key in store.iter_keys() if key not in referenced]
    _check_rows(store, referenced, report)
    iter_temp = getattr(store, "iter_temp", None)
    if iter_temp is not None:
        report.temp_files = [str(p) for p in iter_temp()]
    if delete:
        _delete_leftovers(session, store, report)
    audit.record(session, None, "file.reconcile", None, actor_name="console",
                 outcome=AuditOutcome.OK.value,
                 detail=(f"rows {report.checked_rows}, orphans {len(report.orphans)}, "
                         f"missing {len(report.missing)}, altered {len(report.altered)}, "
                         f"temp {len(report.temp_files)}, deleted {report.deleted}"))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
    return report
