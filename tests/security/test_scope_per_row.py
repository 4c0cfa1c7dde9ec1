"""``policy.scope(..., per_row=True)`` writes a rule as a correlated EXISTS (for the few rows a
relationship load picks by id) instead of ``IN (rows in scope)``. It is the same rule: on the
demo company, for every user and every scoped model, both forms allow exactly the same rows,
restricted to a set of ids (as the loaders use it) or not."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import User
from portal import demo, policy


@pytest.fixture
def demo_company(session):
    demo.load(session)
    return session


def test_per_row_scope_allows_exactly_the_rows_of_the_list_scope(demo_company) -> None:
    session = demo_company
    users = list(session.scalars(select(User).order_by(User.id)))
    assert len(users) >= 10
    compared = nonempty = 0
    for model in policy.SCOPE_FILTERS:
        if not hasattr(model, "id"):
            continue  # keyed by name (settings): no row rule to compare
        all_ids = list(session.scalars(select(model.id)))
        some = set(all_ids[::2])
        for user in users:
            listed = set(session.scalars(policy.scope(select(model.id), user, model)))
            per_row = set(session.scalars(policy.scope(select(model.id), user, model,
                                                       per_row=True)))
            assert per_row == listed, (model.__name__, user.username)
            picked = set(session.scalars(policy.scope(
                select(model.id), user, model, per_row=True).where(model.id.in_(some))))
            assert picked == listed & some, (model.__name__, user.username)
            compared += 1
            nonempty += bool(listed) and listed != set(all_ids)
    # the comparison means something: many (model, user) pairs see some rows but not all
    assert compared > 100 and nonempty > 30


def test_per_row_falls_back_when_the_statement_does_not_select_the_model(demo_company) -> None:
    """A count without FROM: the list form's ``customer_id IN (…)`` brings the contacts into
    the statement, a correlated EXISTS would have nothing to correlate with (and count 1
    row), so the list form is used."""
    from sqlalchemy import func

    from models import CustomerContact

    session = demo_company
    restricted = 0
    for user in session.scalars(select(User).order_by(User.id)):
        plain = session.scalar(policy.scope(select(func.count()), user, CustomerContact))
        per_row = session.scalar(policy.scope(select(func.count()), user, CustomerContact,
                                              per_row=True))
        assert per_row == plain, user.username
        restricted += plain > 1
    assert restricted  # some users' scope really filtered the contacts
