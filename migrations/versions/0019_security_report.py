"""R-AUD-5 the monthly security report: a new area ``security_report`` (view, export) granted
to the security auditor; auditors and the security auditor read their 待办 inbox (token.view,
own notifications)

Revision ID: 0019_security_report
Revises: 0018_joint_events
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_security_report"
down_revision = "0018_joint_events"
branch_labels = None
depends_on = None

GRANTS = [("secauditor", "security_report", "view", "all"),
          ("secauditor", "security_report", "export", "all"),
          ("secauditor", "token", "view", "own"),
          ("auditor", "token", "view", "own")]


def upgrade():
    grants = sa.table("grants", sa.column("role", sa.String), sa.column("area", sa.String),
                      sa.column("action", sa.String), sa.column("scope", sa.String),
                      sa.column("version", sa.Integer))
    op.bulk_insert(grants, [dict(role=r, area=a, action=act, scope=s, version=1)
                            for (r, a, act, s) in GRANTS])


def downgrade():
    for role, area, action, _scope in GRANTS:
        op.execute(sa.text("DELETE FROM grants WHERE role = :r AND area = :a AND action = :x")
                   .bindparams(r=role, a=area, x=action))
