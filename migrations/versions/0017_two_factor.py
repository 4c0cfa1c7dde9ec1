"""two-factor sign-in (R-ROLE-6): each user's TOTP secret (encrypted), when it was confirmed,
the time step of the last accepted code (no replay), and ten hashed one-time recovery codes

Revision ID: 0017_two_factor
Revises: 0016_archive_loans
Create Date: 2026-11-29
"""
import sqlalchemy as sa
from alembic import op

import models.base


revision = '0017_two_factor'
down_revision = '0016_archive_loans'
branch_labels = None
depends_on = None

# the system administrator requests a reset of someone's second factor (a two-person action)
ADDED = [("sysadmin", "user", "reset_two_factor", "all")]

_grants = sa.table("grants", sa.column("role", sa.String), sa.column("area", sa.String),
                   sa.column("action", sa.String), sa.column("scope", sa.String),
                   sa.column("version", sa.Integer))


def upgrade():
    op.create_table('two_factor',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.String(length=255), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('enrolled_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_step', sa.BigInteger(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_two_factor_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_two_factor'))
    )
    op.create_table('two_factor_recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=255), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_two_factor_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_two_factor_recovery_codes'))
    )
    with op.batch_alter_table('two_factor_recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_two_factor_recovery_codes_user_id'), ['user_id'], unique=False)
    op.bulk_insert(_grants, [dict(role=r, area=a, action=act, scope=s, version=1)
                             for (r, a, act, s) in ADDED])


def downgrade():
    for role, area, action, _scope in ADDED:
        op.execute(sa.text("DELETE FROM grants WHERE role = :r AND area = :a AND action = :x")
                   .bindparams(r=role, a=area, x=action))
    with op.batch_alter_table('two_factor_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_two_factor_recovery_codes_user_id'))
    op.drop_table('two_factor_recovery_codes')
    op.drop_table('two_factor')
