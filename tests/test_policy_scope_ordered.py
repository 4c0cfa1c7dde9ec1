"""A page of a scoped list read part by part (``policy.scope_ordered``): the same rows in the
same order as the scope's one condition, for every role, order, limit and cursor (R-ROLE-1);
a supervisor's page of customers is read as one ordered part per rule part (owner, branch)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import ArchiveLoan, Customer
from models.enums import LoanStatus
from portal import clock, policy
from tests.factories import make_customer, make_user
from tests.graphql.conftest import Api, make_token

_COLS = (Customer.id, Customer.code, Customer.owner_id, Customer.branch_id)


@pytest.fixture
def crowd(world, session):
    """Customers of every branch interleaved by id; some the supervisor owns in another
    branch (read through "own") or in their own branch (matched by both parts), some with no
    owner (the owner part is NULL there), and an archive of branch 3 lent to sales1."""
    w = world
    for i in range(12):
        make_customer(session, (w.sales1, w.sales3, w.sales4)[i % 3])
        make_customer(session, None, branch=(w.b1, w.b2, w.b3)[i % 3])
        if i % 4 == 0:
            make_customer(session, w.supervisor, branch=w.b3)
            make_customer(session, w.supervisor, branch=w.b1)
    lent = make_customer(session, w.sales4)
    now = clock.now()
    session.add(ArchiveLoan(customer_id=lent.id, borrower_id=w.sales1.id, reason="核对",
                            status=LoanStatus.APPROVED.value, starts_at=now - timedelta(hours=1),
                            ends_at=now + timedelta(days=1)))
    w.mover = make_user(session, "supervisor_moved", ["supervisor"], branch=w.b2)
    make_customer(session, w.mover, branch=w.b1)  # owned, outside the branch they moved to
    session.commit()
    return w


def _one_condition(user, keys, descending, limit, where=()):
    stmt = policy.scope(select(*_COLS), user, Customer).where(*where)
    return stmt.order_by(*[k.desc() if descending else k.asc() for k in keys]).limit(limit)


def _by_parts(user, keys, descending, limit, where=()):
    return policy.scope_ordered(select(*_COLS).where(*where), user, Customer, keys, descending,
                                limit)


def _rows(session, stmt):
    return [tuple(r) for r in session.execute(stmt).all()]


@pytest.mark.parametrize("descending", [False, True])
def test_R_ROLE_1_a_page_by_parts_is_the_page_of_the_one_condition(crowd, session, descending):
    users = [*crowd.roles.values(), crowd.mover, crowd.sales4]
    checked = 0
    for user in users:
        everything = _rows(session, _one_condition(user, [Customer.id], descending, 10_000))
        cuts = [None] + [r[0] for r in everything[::5]]
        for limit in (1, 2, 5, 100):
            for cut in cuts:
                where = () if cut is None else (
                    (Customer.id < cut,) if descending else (Customer.id > cut,))
                expected = _rows(session, _one_condition(user, [Customer.id], descending, limit,
                                                         where))
                got = _rows(session, _by_parts(user, [Customer.id], descending, limit, where))
                assert got == expected, (user.username, limit, cut)
                checked += bool(expected)
        branch = _rows(session, _by_parts(user, [Customer.id], descending, 100,
                                          (Customer.branch_id == crowd.b1.id,)))
        assert branch == _rows(session, _one_condition(user, [Customer.id], descending, 100,
                                                       (Customer.branch_id == crowd.b1.id,)))
    assert checked > 100  # pages with rows were compared, not only empty ones


def test_R_ROLE_1_the_supervisor_page_is_read_part_by_part(crowd, session):
    """The supervisor's rule is "own OR branch": in id order each part is its own ordered,
    limited select; rows the supervisor owns in their branch come once; other orders keep
    the one condition."""
    sup = crowd.supervisor
    stmt = _by_parts(sup, [Customer.id], False, 1000)
    assert "UNION ALL" in str(stmt)
    ids = [r[0] for r in _rows(session, stmt)]
    assert len(ids) == len(set(ids))
    owned_elsewhere = set(session.scalars(select(Customer.id).where(
        Customer.owner_id == sup.id, Customer.branch_id != sup.branch_id)))
    in_branch = set(session.scalars(select(Customer.id).where(
        Customer.branch_id == sup.branch_id)))
    assert owned_elsewhere and set(ids) == owned_elsewhere | in_branch
    assert "UNION ALL" not in str(policy.scope_ordered(
        select(*_COLS, Customer.name), sup, Customer, [Customer.name, Customer.id], False, 10))
    gm = _by_parts(crowd.gm, [Customer.id], False, 10)  # "all": no condition, no parts
    assert "UNION" not in str(gm) and "WHERE" not in str(gm)


LIST = """query($after: String, $order: CustomerOrder) {
  customers(first: 3, after: $after, orderBy: $order) {
    nodes { id code } pageInfo { hasNextPage endCursor } } }"""


@pytest.mark.parametrize("order", ["ID_ASC", "ID_DESC"])
def test_R_ROLE_1_supervisor_pages_through_exactly_the_scope(crowd, session, client, order):
    """Through GraphQL: following the cursors page by page, the supervisor reads every
    customer in scope once, in order, and nothing else."""
    api = Api(client, make_token(session, crowd.supervisor))
    expected = [r[1] for r in _rows(session, _one_condition(
        crowd.supervisor, [Customer.id], order == "ID_DESC", 10_000))]
    codes: list[str] = []
    after = None
    while True:
        page = api(LIST, {"after": after, "order": order})["data"]["customers"]
        codes += [n["code"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(expected) > 10 and codes == expected
