"""The demo company's classified files (issue 6 "done when"): the security administrator, the
general manager, a salesperson and an auditor each see the files they should and no others."""

from __future__ import annotations

from sqlalchemy import func, select

from models import ConfidentialFile, CopyRequest, FileLevelChange, User
from portal import audit, demo, policy, storage
from portal.services import files


def _titles(session, username: str, action: str = "file.view") -> set[str]:
    user = session.scalar(select(User).where(User.username == username))
    return set(session.scalars(policy.scope(select(ConfidentialFile.title), user,
                                            ConfidentialFile, action)))


def test_R_FILE_1_demo_files_each_role_sees_what_it_should(session):
    demo.load(session)
    all_titles = set(session.scalars(select(ConfidentialFile.title)))
    assert len(all_titles) == 6
    by_level = {f.level: f.title for f in session.scalars(select(ConfidentialFile))}
    public, internal = files.DEMO_MARKER, by_level[1]
    top = by_level[4]
    confidential = by_level[3]
    secret = {f.title for f in session.scalars(select(ConfidentialFile)
                                                .where(ConfidentialFile.level == 2))}
    expired = next(t for t in secret if "已过保密期限" in t)
    contract = (secret - {expired}).pop()

    assert _titles(session, "gm") == all_titles  # reads all levels
    # own customers' files, and the company's standalone public and internal ones (R-FILE-1)
    assert _titles(session, "sales1") == {contract, expired, public, internal}
    assert _titles(session, "auditor1") == {public, internal, expired}  # no scope, no read up
    assert _titles(session, "secadmin1") == {public, internal, expired}
    assert _titles(session, "secadmin1", "file.classify") == all_titles  # the register
    assert _titles(session, "manager1") >= {internal, contract, confidential}
    assert top not in _titles(session, "manager1")
    # content is there and verified; the expiry was recorded; a copy request waits
    for f in session.scalars(select(ConfidentialFile)):
        assert storage.current().get(f.sha256)
    assert session.scalar(select(func.count()).select_from(FileLevelChange)
                          .where(FileLevelChange.kind == "declassify")) == 1
    assert session.scalar(select(CopyRequest.status)) == "pending"
    # idempotent
    assert files.load_demo_files(session) == 0
    assert demo.load(session) == "demo data already loaded"
    assert session.scalar(select(func.count()).select_from(ConfidentialFile)) == 6
    assert audit.verify(session).ok
