"""prefix-search indexes on customers (name_normalized, code) usable by LIKE 'x%'

Revision ID: 0003_search_prefix_indexes
Revises: 0002
Create Date: 2026-11-22

On PostgreSQL a plain btree index serves ``LIKE 'prefix%'`` only under the C collation; these
use ``varchar_pattern_ops`` so the customer search (GraphQL ``filter.search``, G5 of
performance.md) is an index scan whatever the database's collation. On SQLite they are plain
indexes.
"""
from alembic import op

revision = "0003_search_prefix_indexes"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index("ix_customers_name_normalized_prefix", ["name_normalized"],
                              unique=False,
                              postgresql_ops={"name_normalized": "varchar_pattern_ops"})
        batch_op.create_index("ix_customers_code_prefix", ["code"], unique=False,
                              postgresql_ops={"code": "varchar_pattern_ops"})


def downgrade():
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_code_prefix")
        batch_op.drop_index("ix_customers_name_normalized_prefix")
