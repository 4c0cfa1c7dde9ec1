"""import stagings in the database (issue 20: a dry run on one app server, the confirmation on
another)

Revision ID: 0004_import_stagings
Revises: 0003_search_prefix_indexes
Create Date: 2026-11-28
"""
import sqlalchemy as sa
from alembic import op

import models.base


revision = '0004_import_stagings'
down_revision = '0003_search_prefix_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('import_stagings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('created_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_import_stagings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_stagings')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_import_stagings_token_hash'))
    )
    with op.batch_alter_table('import_stagings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_stagings_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_import_stagings_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('import_stagings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_stagings_user_id'))
        batch_op.drop_index(batch_op.f('ix_import_stagings_expires_at'))

    op.drop_table('import_stagings')
