"""Notifications: `sent_notifications` also holds those queued and not sent yet.

A workflow step now queues its notifications and they are sent after the response, or by
`flask reminders send`. Two new columns: when a row was queued (existing rows take their
sending time) and when a sender claimed it (empty unless a sender holds it); `sent_at`
may now be empty (queued, not sent yet). A partial index finds the unsent rows.

Downgrading deletes the rows not sent yet: the old code has no queue, and works out
again what is due (the reminders from the cases' state, the retention warnings at the
next retention run).

Revision ID: 8157b0a140fe
Revises: 20bc884e42d3
Create Date: 2026-12-03 09:06:53.597540

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "8157b0a140fe"
down_revision = "20bc884e42d3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sent_notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE sent_notifications SET queued_at = sent_at")
    with op.batch_alter_table("sent_notifications", schema=None) as batch_op:
        batch_op.alter_column("queued_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column("sent_at", existing_type=sa.DateTime(timezone=True), nullable=True)
        batch_op.create_index(
            "ix_sent_notifications_unsent",
            ["case_id"],
            unique=False,
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )


def downgrade():
    op.execute("DELETE FROM sent_notifications WHERE sent_at IS NULL")
    with op.batch_alter_table("sent_notifications", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_sent_notifications_unsent",
            sqlite_where=sa.text("sent_at IS NULL"),
            postgresql_where=sa.text("sent_at IS NULL"),
        )
        batch_op.alter_column("sent_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("queued_at")
