"""Governance report: an index on cases (trust, closed on) for the cases open at a day.

The report counts the cases open at the end of each period: not closed or withdrawn by
then. With this index it reads the cases still open (closed_on is null) and those closed
since the earlier of the two days, rather than every case the trust has ever held
(tracker/reports/queries.py open_age_query).

Revision ID: e102857cf492
Revises: 5345eea662cc
Create Date: 2026-12-04 11:20:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "e102857cf492"
down_revision = "5345eea662cc"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_trust_id_closed_on", ["trust_id", "closed_on"], unique=False
        )


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_trust_id_closed_on")
