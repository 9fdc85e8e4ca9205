"""Case list: an index on (trust, status, date reported, id) for a list filtered by status.

A status filter with few matches otherwise walks the (trust, date reported, id) index far
back to fill a page, and its capped count walks every case; with this index both read only
that status's cases, in the list's order (tracker/cases/listing.py).

Revision ID: 1fa345e43e09
Revises: 55d28d357ff8
Create Date: 2026-11-24 08:32:10.117514

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "1fa345e43e09"
down_revision = "55d28d357ff8"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_trust_id_status_reported_on_id",
            ["trust_id", "status", "reported_on", "id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_trust_id_status_reported_on_id")
