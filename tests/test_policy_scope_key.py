"""``policy.scope_key``: equal keys mean the scope adds the same SQL with the same bound values
(R-ROLE-1), so the JSON statement cache (graphql_api/json_statement.py) may find a statement by
the key without building the scoped selects again. Checked for every user of the world, every
scoped model, action and SQL form, and again after a user moves branch and department, after a
grant changes (R-ROLE-5), a role is revoked, and while a loan is in force (R-CUST-9)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import ArchiveLoan, Customer, Grant, RoleAssignment
from models.enums import LoanStatus
from portal import clock, policy
from tests.factories import make_customer

_MODELS = sorted((m for m in policy.SCOPE_FILTERS if m in policy.MODEL_AREA),
                 key=lambda m: m.__name__)


def _actions(model: type) -> list[str]:
    area = policy.MODEL_AREA[model]
    verbs = {action for _role, a, action, _scope in policy.all_grant_rows() if a == area}
    return sorted(verbs | {"view"})


def _fingerprint(stmt) -> tuple:
    key = stmt._generate_cache_key()
    return key.key, tuple(repr(b.effective_value) for b in key.bindparams)


def _snapshot(session, users, pool: dict, label: str) -> int:
    """Add every (key → SQL) of ``users`` to ``pool``; the number of keyed scopes."""
    keyed = 0
    for user in users:
        session.refresh(user)  # id, branch and department loaded, as a request's user is
        for model in _MODELS:
            for action in _actions(model):
                for per_row in (False, True):
                    key = policy.scope_key(user, model, action, per_row)
                    if key is None:
                        continue
                    stmt = policy.scope(select(model), user, model, action, per_row)
                    pool[key].add(_fingerprint(stmt))
                    pool[key, "who"].add((label, user.username))
                    keyed += 1
    return keyed


def _shared_keys_with_different_sql(pool: dict) -> list:
    return [(key, sorted(pool[key, "who"])) for key, sqls in pool.items()
            if not (isinstance(key, tuple) and key[-1:] == ("who",)) and len(sqls) > 1]


@pytest.fixture
def pool(world, session):
    return defaultdict(set)


def test_R_ROLE_1_equal_scope_keys_mean_equal_scoped_sql(world, session, pool) -> None:
    users = list(world.roles.values()) + [world.sales2, world.sales3, world.sales4,
                                          world.manager2]
    keyed = _snapshot(session, users, pool, "as built")
    assert keyed > 500  # most scopes are keyed, not skipped

    # a user moved to another branch and department: the same key would be a wrong hit
    world.sales1.branch_id = world.b3.id
    world.sales1.department_id = world.b3.department_id
    world.supervisor.branch_id = world.b2.id
    world.manager.department_id = world.d2.id
    session.commit()
    keyed += _snapshot(session, [world.sales1, world.supervisor, world.manager], pool, "moved")

    # a grant changed (R-ROLE-5): sales read their branch's customers; a role revoked
    grant = session.scalar(select(Grant).where(Grant.role == "sales", Grant.area == "customer",
                                              Grant.action == "view"))
    grant.scope = "branch"
    ra = session.scalar(select(RoleAssignment).where(
        RoleAssignment.user_id == world.manager2.id))
    ra.revoked_at = clock.now()
    session.commit()
    keyed += _snapshot(session, [world.sales1, world.sales3, world.manager2], pool, "granted")

    # a loan in force (R-CUST-9): the widening holds the time of the request
    lent = make_customer(session, world.sales4)
    now = clock.now()
    session.add(ArchiveLoan(customer_id=lent.id, borrower_id=world.sales3.id, reason="核对",
                            status=LoanStatus.APPROVED.value,
                            starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=1)))
    session.commit()
    keyed += _snapshot(session, [world.sales3], pool, "borrowing")
    assert policy.scope_key(world.sales3, Customer) is None

    assert _shared_keys_with_different_sql(pool) == []
    # the keys did tell apart what differs: the moved users' customer scopes are new keys
    moved = {k for k in pool if isinstance(k, tuple) and k[-1:] != ("who",)
             and ("moved", "sales1") in pool[k, "who"]}
    assert any(("as built", "sales1") not in pool[k, "who"] for k in moved)


def test_R_ROLE_1_a_key_missing_what_the_rule_reads_is_caught(world, session, pool,
                                                               monkeypatch) -> None:
    """The check above fails for a key that leaves out the branch (it is not vacuous)."""
    real = policy.scope_key

    def no_branch(user, model, action="view", per_row=False, borrowed=True):
        key = real(user, model, action, per_row, borrowed)
        return key[:-2] if key is not None and len(key) == 7 else key

    monkeypatch.setattr(policy, "scope_key", no_branch)
    _snapshot(session, [world.supervisor], pool, "before")
    world.supervisor.branch_id = world.b2.id
    session.commit()
    _snapshot(session, [world.supervisor], pool, "moved")
    assert _shared_keys_with_different_sql(pool) != []
