"""auth_epoch: one counter moved by every change an API token's authorisation reads (issue 21)

Triggers on users, role_assignments, grants, settings, two_factor and archive_loans bump it; on
PostgreSQL as a deferred constraint trigger, i.e. at COMMIT, once per transaction (so the bump
becomes visible together with the change, and the row lock is held only while committing: no
deadlock with the audit head's lock). The API token's own row is read afresh on every request,
so api_tokens needs no trigger (its last-used write then flushes nothing).

SQLite note: a batch migration that recreates one of these tables drops its triggers; the test
tests/test_token_cache.py::test_every_epoch_trigger_exists catches that.

Revision ID: 0021_auth_epoch
Revises: 0020_reception_no_customer_page
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0021_auth_epoch'
down_revision = '0020_reception_no_customer_page'
branch_labels = None
depends_on = None

TABLES = ("users", "role_assignments", "grants", "settings", "two_factor", "archive_loans")

PG_FUNCTION = """
CREATE FUNCTION auth_epoch_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE auth_epoch SET n = n + 1, bumped_by = txid_current()
     WHERE id = 1 AND bumped_by IS DISTINCT FROM txid_current();
    RETURN NULL;
END $$
"""


def upgrade():
    op.create_table(
        "auth_epoch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("bumped_by", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_auth_epoch_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_epoch")),
    )
    op.execute("INSERT INTO auth_epoch (id, n) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        for table in TABLES:
            op.execute(f"CREATE CONSTRAINT TRIGGER auth_epoch_{table} "
                       f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                       f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                       f"EXECUTE FUNCTION auth_epoch_bump()")
            op.execute(f"CREATE TRIGGER auth_epoch_{table}_truncate AFTER TRUNCATE ON {table} "
                       f"FOR EACH STATEMENT EXECUTE FUNCTION auth_epoch_bump()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"CREATE TRIGGER auth_epoch_{table}_{event} "
                           f"AFTER {event.upper()} ON {table} "
                           f"BEGIN UPDATE auth_epoch SET n = n + 1 WHERE id = 1; END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS auth_epoch_{table} ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS auth_epoch_{table}_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS auth_epoch_bump()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS auth_epoch_{table}_{event}")
    op.drop_table("auth_epoch")
