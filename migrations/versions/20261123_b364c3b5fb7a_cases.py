"""Cases: reference counters, cases, clause breaches, people involved, evidence and
chronology.

Revision ID: b364c3b5fb7a
Revises: b1d91de158ce
Create Date: 2026-11-23 23:42:13.251889

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b364c3b5fb7a"
down_revision = "b1d91de158ce"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_reference_counters",
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trusts.id"], name=op.f("fk_case_reference_counters_trust_id_trusts")
        ),
        sa.PrimaryKeyConstraint("trust_id", "year", name=op.f("pk_case_reference_counters")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("reported_by_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_detail", sa.String(length=500), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("reported_on", sa.Date(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("platform_detail", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("track", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reported_by_id"], ["users.id"], name=op.f("fk_cases_reported_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name=op.f("fk_cases_school_id_schools")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"], ["staff_members.id"], name=op.f("fk_cases_subject_id_staff_members")
        ),
        sa.ForeignKeyConstraint(["trust_id"], ["trusts.id"], name=op.f("fk_cases_trust_id_trusts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("reference", name=op.f("uq_cases_reference")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_school_id_status", ["school_id", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_cases_subject_id"), ["subject_id"], unique=False)
        batch_op.create_index(
            "ix_cases_trust_id_created_at", ["trust_id", "created_at"], unique=False
        )

    op.create_table(
        "chronology_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("occurred_time", sa.Time(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_chronology_entries_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_chronology_entries_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chronology_entries")),
    )
    with op.batch_alter_table("chronology_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chronology_entries_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "clause_breaches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("clause_id", sa.Integer(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_clause_breaches_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_clause_breaches_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["clause_id"], ["clauses.id"], name=op.f("fk_clause_breaches_clause_id_clauses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clause_breaches")),
        sa.UniqueConstraint(
            "case_id", "clause_id", name=op.f("uq_clause_breaches_case_id_clause_id")
        ),
    )
    with op.batch_alter_table("clause_breaches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clause_breaches_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_clause_breaches_clause_id"), ["clause_id"], unique=False
        )

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("original_filename", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("source_url", sa.String(length=2000), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("captured_by", sa.String(length=200), nullable=False),
        sa.Column("post_visibility", sa.String(length=16), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by_id", sa.Integer(), nullable=True),
        sa.Column("removal_reason", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_evidence_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["removed_by_id"], ["users.id"], name=op.f("fk_evidence_removed_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_evidence_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_evidence_stored_name")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_case_id"), ["case_id"], unique=False)

    op.create_table(
        "people_involved",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("identifier", sa.String(length=40), nullable=False),
        sa.Column("year_group", sa.String(length=12), nullable=True),
        sa.Column("role_in_case", sa.String(length=300), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_people_involved_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_people_involved_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people_involved")),
    )
    with op.batch_alter_table("people_involved", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_involved_case_id"), ["case_id"], unique=False)


def downgrade():
    with op.batch_alter_table("people_involved", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_involved_case_id"))

    op.drop_table("people_involved")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_case_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("clause_breaches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clause_breaches_clause_id"))
        batch_op.drop_index(batch_op.f("ix_clause_breaches_case_id"))

    op.drop_table("clause_breaches")
    with op.batch_alter_table("chronology_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chronology_entries_case_id"))

    op.drop_table("chronology_entries")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_trust_id_created_at")
        batch_op.drop_index(batch_op.f("ix_cases_subject_id"))
        batch_op.drop_index("ix_cases_school_id_status")

    op.drop_table("cases")
    op.drop_table("case_reference_counters")
