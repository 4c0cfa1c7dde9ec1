"""R-FILE-1: standalone public and internal files are readable by all active staff: customer
service and reception get file.view and file.download (own scope: their uploads plus the
company's standalone public/internal files, which are in every scope)

Revision ID: 0012_public_files_for_staff
Revises: 0011_correction_requests
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_public_files_for_staff"
down_revision = "0011_correction_requests"
branch_labels = None
depends_on = None

GRANTS = [(role, "file", action, "own") for role in ("service", "reception")
          for action in ("view", "download")]


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
