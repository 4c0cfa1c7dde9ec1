"""follow_ups.planned_next_on: the next follow-up date (下次回访日期) a salesperson agreed with
the customer (issue 14, R-CUST-4)

Revision ID: 0013_follow_up_planned_date
Revises: 0012_public_files_for_staff
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_follow_up_planned_date"
down_revision = "0012_public_files_for_staff"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned_next_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_column("planned_next_on")
