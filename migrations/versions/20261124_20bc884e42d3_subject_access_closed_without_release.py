"""Subject access requests: closed without a release, with the reason and a note.

Four new columns on `subject_access_requests`, all empty for existing rows: the reason
code (withdrawn, identity not confirmed, refused under Article 12(5), other), a note
(required for a refusal and for "other"), and when and by whom the request was closed.

Revision ID: 20bc884e42d3
Revises: 4421e53f644c
Create Date: 2026-11-24 09:09:57.289955

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "20bc884e42d3"
down_revision = "4421e53f644c"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("subject_access_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closure_reason", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("closure_note", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_subject_access_requests_closed_by_id_users"),
            "users",
            ["closed_by_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("subject_access_requests", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_subject_access_requests_closed_by_id_users"), type_="foreignkey"
        )
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("closure_note")
        batch_op.drop_column("closure_reason")
