"""Pages flat with size: indexes on cases that carry what the look-ups read beside them.

"Waiting for you" looks for the cases a user investigates that are under investigation,
and those they decide that await a decision. With the person alone indexed, it read
every case they had ever investigated or decided (thousands over a trust's years) to keep
the few open ones; with the status beside it, it reads those few.

The case list counts each row's cases about the same person, and a search by name finds
a person's cases: with the subject alone indexed, each case's row was read for its trust,
school and date; with them in the index, the index alone answers.

Each composite index still serves every look-up by its first column alone.

Revision ID: b7d31c9e0a42
Revises: e102857cf492
Create Date: 2026-12-04 23:20:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "b7d31c9e0a42"
down_revision = "e102857cf492"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_investigator_id_status", ["investigator_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_cases_decision_maker_id_status", ["decision_maker_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_cases_subject_id_trust_id_school_id_reported_on",
            ["subject_id", "trust_id", "school_id", "reported_on"],
            unique=False,
        )
        batch_op.drop_index("ix_cases_investigator_id")
        batch_op.drop_index("ix_cases_decision_maker_id")
        batch_op.drop_index("ix_cases_subject_id")


def downgrade():
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_subject_id", ["subject_id"], unique=False)
        batch_op.drop_index("ix_cases_subject_id_trust_id_school_id_reported_on")
        batch_op.create_index("ix_cases_decision_maker_id", ["decision_maker_id"], unique=False)
        batch_op.create_index("ix_cases_investigator_id", ["investigator_id"], unique=False)
        batch_op.drop_index("ix_cases_decision_maker_id_status")
        batch_op.drop_index("ix_cases_investigator_id_status")
