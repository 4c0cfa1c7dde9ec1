"""Issue 6 acceptance: with the demo company loaded, the security administrator, the general
manager, a salesperson and an auditor each see exactly the files the rule allows (R-FILE-1,
R-FILE-2), and the portal's list and the GraphQL API agree."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import AuditEntry, ConfidentialFile, Customer, FileScopeMember, User
from models.enums import Level
from portal import demo, policy
from tests.graphql.test_graphql_parity import admin_ids, graphql_ids


def _allowed(session, user: User) -> set[int]:
    """The rule of domain.md written out plainly, independent of the policy's SQL."""
    allowed = set()
    is_gm = bool(policy.scopes_for(user, "file.read_all_levels"))
    for f in session.scalars(select(ConfidentialFile)):
        level = policy.effective_level(f)
        if level > user.clearance:
            continue
        member = session.scalar(select(FileScopeMember.id).where(
            FileScopeMember.file_id == f.id, FileScopeMember.user_id == user.id)) is not None
        owner = session.get(Customer, f.customer_id).owner_id if f.customer_id else None
        knows = (level <= Level.INTERNAL or is_gm or member
                 or (level == Level.SECRET and user.id in {owner, f.uploaded_by_id,
                                                           f.responsible_manager_id})
                 or (level == Level.SECRET and policy.can(user, "file.in_chain", f))
                 or (level == Level.CONFIDENTIAL and f.responsible_manager_id == user.id))
        if knows and policy.can(user, "file.view", f):
            allowed.add(f.id)
    return allowed


@pytest.fixture
def demo_company(session):
    demo.load(session)
    return {u.username: u for u in session.scalars(select(User))}


@pytest.mark.parametrize("username", ["secadmin1", "gm", "sales1", "auditor1"])
def test_R_FILE_1_demo_users_see_exactly_their_files_in_both_doors(demo_company, session, api,
                                                                    app, username):
    user = demo_company[username]
    expected = _allowed(session, user)
    assert graphql_ids(api(user), "files") == expected
    portal = admin_ids(app, user, ConfidentialFile)
    assert portal is not None, "the portal has a file list"
    assert portal == expected


def test_R_FILE_2_demo_levels_split_the_readers(demo_company, session):
    files = session.scalars(select(ConfidentialFile)).all()
    assert {f.level for f in files} >= {Level.INTERNAL, Level.SECRET, Level.TOP_SECRET}
    gm, auditor, sec = demo_company["gm"], demo_company["auditor1"], demo_company["secadmin1"]
    assert _allowed(session, gm) == {f.id for f in files}  # the general manager reads all
    classified = {f.id for f in files if policy.effective_level(f) > Level.INTERNAL}
    # neither the auditor nor the security administrator reads classified content because
    # of their role (R-ROLE-2): only where they are named in a knowledge scope
    for user in (auditor, sec):
        named = set(session.scalars(select(FileScopeMember.file_id)
                                    .where(FileScopeMember.user_id == user.id)))
        assert _allowed(session, user) & classified <= named


def test_R_FILE_6_a_file_opened_through_graphql_is_audited(demo_company, session, api):
    gm = demo_company["gm"]
    f = session.scalars(select(ConfidentialFile).order_by(ConfidentialFile.id)).first()
    body = api(gm)('query($id: ID!) { node(id: $id) { ... on ConfidentialFile { title } } }',
                   {"id": f"ConfidentialFile:{f.id}"})
    assert body["data"]["node"]["title"] == f.title
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "file.view", AuditEntry.target_id == str(f.id))).all()
    assert len(entries) == 1 and entries[0].actor_id == gm.id
