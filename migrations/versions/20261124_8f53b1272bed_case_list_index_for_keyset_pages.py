"""Case list: an index on (trust, date reported, id) for keyset pages.

The list's default orderings (newest or oldest first) seek through it to the page's
cursor instead of reading every earlier row (tracker/cases/listing.py).

Revision ID: 8f53b1272bed
Revises: cde3650ae520
Create Date: 2026-11-24 05:35:50.060190

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "8f53b1272bed"
down_revision = "cde3650ae520"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_trust_id_reported_on_id", ["trust_id", "reported_on", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_trust_id_reported_on_id")
