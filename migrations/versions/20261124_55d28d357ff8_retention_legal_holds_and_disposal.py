"""Retention and disposal: legal holds, case tombstones, the retention kept on a case.

Cases gain the facts the retention rules need that were missing (a sexual abuse flag,
the subject's consent to keep a false or malicious allegation) and the retention worked
out at closing (rule, due date, review, hold, missing facts), with the due date indexed
for the disposal command. Staff gain their leaving date. `legal_holds` keeps each hold
and its lifting; `case_tombstones` is what remains of a disposed case. Existing closed
cases have no retention until `flask retention run` or a change of their facts works it
out (the command recomputes any closed case that has none).

Revision ID: 55d28d357ff8
Revises: 8f53b1272bed
Create Date: 2026-11-24 05:25:17.251232

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "55d28d357ff8"
down_revision = "8f53b1272bed"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_tombstones",
        sa.Column("case_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("retention_rule", sa.String(length=40), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("disposed_on", sa.Date(), nullable=False),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disposed_by_id", sa.Integer(), nullable=True),
        sa.Column("audit_seq", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["disposed_by_id"], ["users.id"], name=op.f("fk_case_tombstones_disposed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_case_tombstones_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trusts.id"], name=op.f("fk_case_tombstones_trust_id_trusts")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_tombstones")),
        sa.UniqueConstraint("reference", name=op.f("uq_case_tombstones_reference")),
    )
    with op.batch_alter_table("case_tombstones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_tombstones_school_id"), ["school_id"], unique=False
        )

    op.create_table(
        "legal_holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by_id", sa.Integer(), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lifted_by_id", sa.Integer(), nullable=True),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lift_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_legal_holds_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["lifted_by_id"], ["users.id"], name=op.f("fk_legal_holds_lifted_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["set_by_id"], ["users.id"], name=op.f("fk_legal_holds_set_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_holds_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sexual_abuse", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("keep_consent_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("retention_rule", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("retention_due_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "retention_is_review", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
        batch_op.add_column(sa.Column("retention_held", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("retention_missing", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("retention_computed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_cases_retention_due_on"), ["retention_due_on"], unique=False
        )

    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("left_on", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("staff_members", schema=None) as batch_op:
        batch_op.drop_column("left_on")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_retention_due_on"))
        batch_op.drop_column("retention_computed_at")
        batch_op.drop_column("retention_missing")
        batch_op.drop_column("retention_held")
        batch_op.drop_column("retention_is_review")
        batch_op.drop_column("retention_due_on")
        batch_op.drop_column("retention_rule")
        batch_op.drop_column("keep_consent_on")
        batch_op.drop_column("sexual_abuse")

    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_holds_case_id"))

    op.drop_table("legal_holds")
    with op.batch_alter_table("case_tombstones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_tombstones_school_id"))

    op.drop_table("case_tombstones")
