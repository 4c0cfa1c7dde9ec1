"""notifications: message parameters (the message is an English msgid translated when read)

Revision ID: 0005_notification_params
Revises: 0004_import_stagings
Create Date: 2026-11-28

Existing rows keep their stored text and get ``params`` NULL: the reader shows them as stored.
"""
import sqlalchemy as sa
from alembic import op

revision = "0005_notification_params"
down_revision = "0004_import_stagings"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("params")
