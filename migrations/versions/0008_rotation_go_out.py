"""rotation: approved business go-outs (外出申请) earn the missed turns back (R-RECV-1)

Revision ID: 0008_rotation_go_out
Revises: 0007_outbox
Create Date: 2026-11-28

Adds ``rotation_slots.approved_go_out`` and the grant ``reception.approve_go_out`` for the
supervisor (branch) and the department manager (department).
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_rotation_go_out"
down_revision = "0007_outbox"
branch_labels = None
depends_on = None

GRANTS = [("supervisor", "reception", "approve_go_out", "branch"),
          ("dept_manager", "reception", "approve_go_out", "department")]


def upgrade():
    with op.batch_alter_table("rotation_slots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("approved_go_out", sa.Boolean(),
                                      server_default=sa.text("false"), nullable=False))
    grants = sa.table("grants", sa.column("role", sa.String), sa.column("area", sa.String),
                      sa.column("action", sa.String), sa.column("scope", sa.String),
                      sa.column("version", sa.Integer))
    op.bulk_insert(grants, [dict(role=r, area=a, action=act, scope=s, version=1)
                            for (r, a, act, s) in GRANTS])


def downgrade():
    for role, area, action, _scope in GRANTS:
        op.execute(sa.text("DELETE FROM grants WHERE role = :r AND area = :a AND action = :x")
                   .bindparams(r=role, a=area, x=action))
    with op.batch_alter_table("rotation_slots", schema=None) as batch_op:
        batch_op.drop_column("approved_go_out")
