"""Issue 21: a read-only GraphQL request ends with COMMIT (psycopg keeps its prepared
statements; a ROLLBACK makes it forget them), a request that wrote keeps its own outcome, and
the switch ``GRAPHQL_COMMIT_READ_ONLY`` turns the behaviour off."""

from __future__ import annotations

from sqlalchemy import event

from portal.extensions import db

QUERY = "{ customers(first: 5) { edges { node { id name } } } }"


def _commits(fn) -> int:
    seen: list[int] = []

    def on_commit(conn) -> None:
        seen.append(1)

    event.listen(db.engine, "commit", on_commit)
    try:
        fn()
    finally:
        event.remove(db.engine, "commit", on_commit)
    return len(seen)


def test_read_only_query_ends_with_commit(world, api, app) -> None:
    client = api(world.sales1)
    client(QUERY)  # warm-up: the token's last-used time is written once a minute
    assert _commits(lambda: client(QUERY)) == 1


def test_switch_off_leaves_the_teardown_rollback(world, api, app) -> None:
    client = api(world.sales1)
    client(QUERY)
    app.config["GRAPHQL_COMMIT_READ_ONLY"] = False
    try:
        assert _commits(lambda: client(QUERY)) == 0
    finally:
        app.config["GRAPHQL_COMMIT_READ_ONLY"] = True


def test_pending_changes_are_not_committed(world, session) -> None:
    from graphql_api.transactions import commit_if_read_only

    world.sales1.full_name = "changed-but-not-meant"
    assert commit_if_read_only(db.session()) is False
    db.session.rollback()
    assert world.sales1.full_name != "changed-but-not-meant"


def test_an_audit_append_without_a_flush_counts_as_a_write(world, session) -> None:
    """The audit append is plain Core (no flush): a request that appended and did not commit
    itself keeps its outcome (the teardown's rollback), as a flushed write does."""
    from sqlalchemy import func, select

    from graphql_api.transactions import commit_if_read_only
    from models.audit import AuditEntry
    from portal import audit

    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    db.session.commit()
    audit.record(db.session(), world.sales1, "test.unfinished", ("Thing", 1))
    assert commit_if_read_only(db.session()) is False
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
