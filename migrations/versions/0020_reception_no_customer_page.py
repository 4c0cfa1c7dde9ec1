"""the front desk registers new prospects through the walk-in record only (R-ROLE-1, issue 12):
reception loses customer.add, which opened the customer create page (portal) and
createCustomer (GraphQL); the walk-in record's new archive is authorised by reception.add

Revision ID: 0020_reception_no_customer_page
Revises: 0019_security_report
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0020_reception_no_customer_page'
down_revision = '0019_security_report'
branch_labels = None
depends_on = None

REMOVED = [("reception", "customer", "add", "all")]

_grants = sa.table("grants", sa.column("role", sa.String), sa.column("area", sa.String),
                   sa.column("action", sa.String), sa.column("scope", sa.String),
                   sa.column("version", sa.Integer))


def upgrade():
    for role, area, action, _scope in REMOVED:
        op.execute(sa.text("DELETE FROM grants WHERE role = :r AND area = :a AND action = :x")
                   .bindparams(r=role, a=area, x=action))


def downgrade():
    op.bulk_insert(_grants, [dict(role=r, area=a, action=act, scope=s, version=1)
                             for (r, a, act, s) in REMOVED])
