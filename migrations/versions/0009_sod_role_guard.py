"""三员分立: an administrator role and a business role never together (database guard);
two-person actions on administrators' accounts (table pending_actions, grants two_person.*);
first-visit evidence flag on reception records (R-CUST-3)

Revision ID: 0009_sod_role_guard
Revises: 0008_rotation_go_out
Create Date: 2026-11-28

R-ROLE-2: a holder of sysadmin, secadmin or secauditor holds no business role, and the other
way round. The partial unique index of 0001 already refuses two administrator roles; these
triggers refuse the mixed pairs, whatever door (raw SQL included) the row comes through.
"""
import sqlalchemy as sa
from alembic import op

import models.base

revision = "0009_sod_role_guard"
down_revision = "0008_rotation_go_out"
branch_labels = None
depends_on = None

ADMIN = "('sysadmin', 'secadmin', 'secauditor')"
CLASH = f"""EXISTS (SELECT 1 FROM role_assignments r
               WHERE r.user_id = NEW.user_id AND r.revoked_at IS NULL AND r.id <> NEW.id
                 AND ((NEW.role IN {ADMIN}) <> (r.role IN {ADMIN})))"""
MESSAGE = "role_assignments_sod: an administrator role and a business role cannot be held together"


TWO_PERSON_GRANTS = [(role, "two_person", action, "all")
                     for role in ("sysadmin", "secadmin", "secauditor")
                     for action in ("view", "confirm")]


def upgrade():
    op.create_table(
        "pending_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("target_type", sa.String(length=64), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("params", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("status IN ('pending', 'confirmed', 'refused', 'cancelled')",
                           name=op.f("ck_pending_actions_status_known")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["users.id"],
                                name=op.f("fk_pending_actions_decided_by_id_users")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["users.id"],
                                name=op.f("fk_pending_actions_requested_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_actions")),
    )
    with op.batch_alter_table("pending_actions", schema=None) as batch_op:
        batch_op.create_index("ix_pending_actions_status_target",
                              ["status", "target_type", "target_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pending_actions_requested_by_id"),
                              ["requested_by_id"], unique=False)
    grants = sa.table("grants", sa.column("role", sa.String), sa.column("area", sa.String),
                      sa.column("action", sa.String), sa.column("scope", sa.String),
                      sa.column("version", sa.Integer))
    op.bulk_insert(grants, [dict(role=r, area=a, action=act, scope=s, version=1)
                            for (r, a, act, s) in TWO_PERSON_GRANTS])
    # R-CUST-3 first-visit evidence; the records already entered by the front desk or a
    # supervisor keep counting
    with op.batch_alter_table("reception_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("counts_as_evidence", sa.Boolean(),
                                      server_default=sa.text("false"), nullable=False))
    op.execute("""UPDATE reception_records SET counts_as_evidence = true
                  WHERE received_by_id IN (SELECT user_id FROM role_assignments
                                           WHERE role IN ('reception', 'supervisor')
                                             AND revoked_at IS NULL)""")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE OR REPLACE FUNCTION role_assignments_sod() RETURNS trigger AS $$
            BEGIN
              IF NEW.revoked_at IS NULL AND {CLASH} THEN
                RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
              END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER role_assignments_sod BEFORE INSERT OR UPDATE
                      ON role_assignments FOR EACH ROW EXECUTE FUNCTION role_assignments_sod()""")
    else:
        # SQLite: NEW.id is NULL before an INSERT picks it; ``<>`` with NULL is unknown, so
        # the insert trigger leaves that comparison out.
        insert_clash = CLASH.replace(" AND r.id <> NEW.id", "")
        op.execute(f"""CREATE TRIGGER role_assignments_sod_insert BEFORE INSERT
                       ON role_assignments WHEN NEW.revoked_at IS NULL AND {insert_clash}
                       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")
        op.execute(f"""CREATE TRIGGER role_assignments_sod_update BEFORE UPDATE
                       ON role_assignments WHEN NEW.revoked_at IS NULL AND {CLASH}
                       BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS role_assignments_sod ON role_assignments")
        op.execute("DROP FUNCTION IF EXISTS role_assignments_sod()")
    else:
        op.execute("DROP TRIGGER IF EXISTS role_assignments_sod_insert")
        op.execute("DROP TRIGGER IF EXISTS role_assignments_sod_update")
    op.execute("DELETE FROM grants WHERE area = 'two_person'")
    with op.batch_alter_table("reception_records", schema=None) as batch_op:
        batch_op.drop_column("counts_as_evidence")
    op.drop_table("pending_actions")
