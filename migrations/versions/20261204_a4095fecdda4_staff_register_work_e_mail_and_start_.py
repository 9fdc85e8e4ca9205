"""Staff register: each member's work e-mail and start date, as the MIS import gives them.

Both optional: members added by hand before this have neither.

Revision ID: a4095fecdda4
Revises: 632824cd2069
Create Date: 2026-12-04 07:37:38.907361

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a4095fecdda4"
down_revision = "632824cd2069"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("work_email", sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column("started_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.drop_column("started_on")
        batch_op.drop_column("work_email")
