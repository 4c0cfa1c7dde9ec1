"""follow-up kind 邀不来 (invite_missed, R-CUST-5); the unused setting
complaint.transfer_after_overdue_days removed (R-COMP-7 counts working days since registration)

Revision ID: 0010_invitation_missed
Revises: 0009_sod_role_guard
Create Date: 2026-11-29

An invitation the customer did not attend is recorded as a follow-up of its own kind: a contact,
but not service (R-CUST-5). The setting ``complaint.transfer_after_overdue_days`` has had no
reader since R-COMP-7 became ``complaint.transfer_working_days``; its row is deleted (a
downgrade puts the default back).
"""
import json
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0010_invitation_missed"
down_revision = "0009_sod_role_guard"
branch_labels = None
depends_on = None

KINDS = ("call", "visit", "sms", "wechat", "invitation", "email")
OLD_SETTING = ("complaint.transfer_after_overdue_days", 3,
               "Days overdue after which the customer may go to another department (R-COMP-7)")


def _kinds(kinds):
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def upgrade():
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_follow_ups_kind_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_follow_ups_kind_known"),
                                         _kinds(KINDS + ("invite_missed",)))
    op.execute(sa.text("DELETE FROM settings WHERE key = :k").bindparams(k=OLD_SETTING[0]))


def downgrade():
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.Text),
                        sa.column("description", sa.String), sa.column("version", sa.Integer),
                        sa.column("updated_at", sa.DateTime))
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(settings, [dict(key=OLD_SETTING[0], value=json.dumps(OLD_SETTING[1]),
                                   description=OLD_SETTING[2], version=1, updated_at=now)])
    op.execute(sa.text("UPDATE follow_ups SET kind = 'invitation' "
                       "WHERE kind = 'invite_missed'"))
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_follow_ups_kind_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_follow_ups_kind_known"), _kinds(KINDS))
