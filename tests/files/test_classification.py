"""Levels (pinned order), reclassification by the security administrator only (R-FILE-5),
the secrecy period and automatic declassification (R-FILE-4)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import AuditEntry, ConfidentialFile, FileLevelChange, Notification
from models.enums import Level
from portal import clock, policy
from portal.services import files
from portal.services.errors import Conflict, PermissionDenied, ValidationFailed


def test_R_FILE_1_levels_are_one_ordered_enum_in_the_chinese_order():
    assert [lv.value for lv in Level] == [0, 1, 2, 3, 4]
    assert Level.PUBLIC < Level.INTERNAL < Level.SECRET < Level.CONFIDENTIAL < Level.TOP_SECRET
    assert [files.LEVEL_NAMES[lv][1] for lv in Level] == ["公开", "内部", "秘密", "机密", "绝密"]
    # not the US order (confidential < secret < top secret)
    assert Level.CONFIDENTIAL > Level.SECRET


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_R_FILE_5_only_the_security_administrator_reclassifies(cleared, session, upload):
    w = cleared
    f = upload(w.gm, Level.CONFIDENTIAL)
    for who in (w.gm, w.manager, w.sales1, w.sysadmin, w.auditor, w.secauditor):
        before = _count(session, AuditEntry, AuditEntry.outcome == "denied")
        with pytest.raises(PermissionDenied):
            files.reclassify(session, who, f.id, Level.PUBLIC, "不再涉密")
        assert _count(session, AuditEntry, AuditEntry.outcome == "denied") == before + 1
        session.refresh(f)
        assert f.level == Level.CONFIDENTIAL
    with pytest.raises(ValidationFailed):
        files.reclassify(session, w.secadmin, f.id, Level.SECRET, "")
    with pytest.raises(Conflict):
        files.reclassify(session, w.secadmin, f.id, Level.SECRET, "降密", expected_version=99)
    files.reclassify(session, w.secadmin, f.id, Level.SECRET, "经保密委员会审定降为秘密")
    session.refresh(f)
    assert f.level == Level.SECRET
    change = session.scalar(select(FileLevelChange).where(FileLevelChange.file_id == f.id))
    assert (change.kind, change.from_level, change.to_level, change.changed_by_id) == (
        "reclassify", Level.CONFIDENTIAL, Level.SECRET, w.secadmin.id)
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "file.reclassify"))
    assert entry.actor_id == w.secadmin.id and "保密委员会" in entry.detail
    assert '"level": 3' in entry.before and '"level": 2' in entry.after
    with pytest.raises(ValidationFailed):  # already that level
        files.reclassify(session, w.secadmin, f.id, Level.SECRET, "again")


def test_R_FILE_4_secrecy_period_ends_and_tick_records_it_once(cleared, session, upload):
    w = cleared
    end = clock.today() + timedelta(days=30)
    f = upload(w.sales1, Level.SECRET, customer_id=w.customers["sales1"][0].id,
               secrecy_until=end.isoformat())
    assert policy.effective_level(f) == Level.SECRET
    assert not policy.can_read_file(w.sales2, f)
    later = datetime.combine(end + timedelta(days=2), datetime.min.time(), UTC)
    with clock.frozen(later):
        # derived at read time: already internal before the scheduled command runs
        assert policy.effective_level(f) == Level.INTERNAL
        assert policy.can_read_file(w.sales2, f)
        assert files.tick(session, clock.now()) == {"file.declassify": 1}
        assert files.tick(session, clock.now()) == {"file.declassify": 0}
        _, content, name = files.open_download(session, w.sales1, f.id)  # no approval now
        assert name == f.original_name
    change = session.scalar(select(FileLevelChange).where(FileLevelChange.file_id == f.id))
    assert (change.kind, change.from_level, change.to_level) == (
        "declassify", Level.SECRET, Level.INTERNAL)
    assert _count(session, AuditEntry, AuditEntry.action == "file.declassify") == 1
    assert _count(session, Notification, Notification.kind == "file.declassify") >= 2
    session.refresh(f)
    assert f.level == Level.SECRET and f.declassified_at is not None  # the mark stays


def test_R_FILE_4_extension_by_the_security_administrator_with_a_reason(cleared, session,
                                                                       upload):
    w = cleared
    end = clock.today() + timedelta(days=3)
    f = upload(w.gm, Level.CONFIDENTIAL, secrecy_until=end)
    with pytest.raises(PermissionDenied):
        files.extend_secrecy(session, w.gm, f.id, end + timedelta(days=365), "延期")
    with pytest.raises(ValidationFailed):
        files.extend_secrecy(session, w.secadmin, f.id, end + timedelta(days=365), " ")
    with pytest.raises(ValidationFailed):  # earlier than the current end
        files.extend_secrecy(session, w.secadmin, f.id, end - timedelta(days=1), "延期")
    files.extend_secrecy(session, w.secadmin, f.id, end + timedelta(days=365), "项目延期")
    session.refresh(f)
    assert f.secrecy_until == end + timedelta(days=365)
    with clock.frozen(datetime.combine(end + timedelta(days=5), datetime.min.time(), UTC)):
        assert policy.effective_level(f) == Level.CONFIDENTIAL
        assert files.tick(session, clock.now()) == {"file.declassify": 0}
    kinds = session.scalars(select(FileLevelChange.kind)
                            .where(FileLevelChange.file_id == f.id)).all()
    assert kinds == ["extend"]
    with pytest.raises(ValidationFailed):  # public files have no secrecy period
        files.extend_secrecy(session, w.secadmin, upload(w.gm, Level.PUBLIC).id,
                             date(2099, 1, 1), "x")


def test_R_FILE_4_sql_filter_follows_the_controlled_clock(cleared, session, upload):
    w = cleared
    end = clock.today() + timedelta(days=10)
    f = upload(w.sales1, Level.SECRET, customer_id=w.customers["sales1"][0].id,
               secrecy_until=end)
    visible = select(ConfidentialFile.id).where(policy.file_read_filter(w.sales2))
    assert f.id not in session.scalars(visible).all()
    with clock.frozen(datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC)):
        visible = select(ConfidentialFile.id).where(policy.file_read_filter(w.sales2))
        assert f.id in session.scalars(visible).all()
