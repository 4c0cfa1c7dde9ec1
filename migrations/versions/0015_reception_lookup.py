"""reception does not browse archives (R-ROLE-1, issue 12 #13): the front desk loses
customer.view and customer_contact.view on all archives and gets customer.lookup (an exact
lookup by full name or phone, returning only code, name and owner)

Revision ID: 0015_reception_lookup
Revises: 0014_password_lifecycle
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = '0015_reception_lookup'
down_revision = '0014_password_lifecycle'
branch_labels = None
depends_on = None

REMOVED = [("reception", "customer", "view", "all"),
           ("reception", "customer_contact", "view", "all")]
ADDED = [("reception", "customer", "lookup", "all")]

_grants = sa.table("grants", sa.column("role", sa.String), sa.column("area", sa.String),
                   sa.column("action", sa.String), sa.column("scope", sa.String),
                   sa.column("version", sa.Integer))


def _delete(rows):
    for role, area, action, _scope in rows:
        op.execute(sa.text("DELETE FROM grants WHERE role = :r AND area = :a AND action = :x")
                   .bindparams(r=role, a=area, x=action))


def _insert(rows):
    op.bulk_insert(_grants, [dict(role=r, area=a, action=act, scope=s, version=1)
                             for (r, a, act, s) in rows])


def upgrade():
    _delete(REMOVED)
    _insert(ADDED)


def downgrade():
    _delete(ADDED)
    _insert(REMOVED)
