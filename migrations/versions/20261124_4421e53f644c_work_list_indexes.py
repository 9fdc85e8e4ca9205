"""Work list indexes: cases by decision maker and by investigator, appeals by who hears them.

The home page finds the cases waiting for a user by these columns (tracker/home/services.py
my_work); without them every open case of the trust was read to find a few.

Revision ID: 4421e53f644c
Revises: 1fa345e43e09
Create Date: 2026-11-24 09:10:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "4421e53f644c"
down_revision = "1fa345e43e09"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index("ix_appeals_heard_by_id", ["heard_by_id"], unique=False)
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_decision_maker_id", ["decision_maker_id"], unique=False)
        batch_op.create_index("ix_cases_investigator_id", ["investigator_id"], unique=False)


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_investigator_id")
        batch_op.drop_index("ix_cases_decision_maker_id")
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index("ix_appeals_heard_by_id")
