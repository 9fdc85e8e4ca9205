"""Subject access requests, manual redactions and the record of each export.

Three new tables, nothing existing changes: `subject_access_requests` (a member of
staff's request, its one-month deadline and any extension), `manual_redactions` (a
phrase removed from free text, for one request or for one case: exactly one of the two)
and `subject_access_exports` (who produced which ZIP, with its SHA-256).

Revision ID: cde3650ae520
Revises: 6c60726af57d
Create Date: 2026-11-24 05:25:50.611168

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "cde3650ae520"
down_revision = "6c60726af57d"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "subject_access_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("staff_member_id", sa.Integer(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extended_due_on", sa.Date(), nullable=True),
        sa.Column("extension_reason", sa.String(length=16), nullable=True),
        sa.Column("extension_note", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_subject_access_requests_created_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"],
            ["users.id"],
            name=op.f("fk_subject_access_requests_released_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_member_id"],
            ["staff_members.id"],
            name=op.f("fk_subject_access_requests_staff_member_id_staff_members"),
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trusts.id"], name=op.f("fk_subject_access_requests_trust_id_trusts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_access_requests")),
    )
    with op.batch_alter_table("subject_access_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_access_requests_staff_member_id"),
            ["staff_member_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_subject_access_requests_trust_id"), ["trust_id"], unique=False
        )

    op.create_table(
        "manual_redactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trust_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("phrase", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(request_id IS NULL) <> (case_id IS NULL)",
            name=op.f("ck_manual_redactions_request_or_case"),
        ),
        sa.ForeignKeyConstraint(
            ["added_by_id"], ["users.id"], name=op.f("fk_manual_redactions_added_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_manual_redactions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["subject_access_requests.id"],
            name=op.f("fk_manual_redactions_request_id_subject_access_requests"),
        ),
        sa.ForeignKeyConstraint(
            ["trust_id"], ["trusts.id"], name=op.f("fk_manual_redactions_trust_id_trusts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_redactions")),
    )
    with op.batch_alter_table("manual_redactions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_manual_redactions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_manual_redactions_request_id"), ["request_id"], unique=False
        )

    op.create_table(
        "subject_access_exports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("exported_by_id", sa.Integer(), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("redactions", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exported_by_id"],
            ["users.id"],
            name=op.f("fk_subject_access_exports_exported_by_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["subject_access_requests.id"],
            name=op.f("fk_subject_access_exports_request_id_subject_access_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_access_exports")),
    )
    with op.batch_alter_table("subject_access_exports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_access_exports_request_id"), ["request_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("subject_access_exports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_access_exports_request_id"))

    op.drop_table("subject_access_exports")
    with op.batch_alter_table("manual_redactions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_manual_redactions_request_id"))
        batch_op.drop_index(batch_op.f("ix_manual_redactions_case_id"))

    op.drop_table("manual_redactions")
    with op.batch_alter_table("subject_access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_access_requests_trust_id"))
        batch_op.drop_index(batch_op.f("ix_subject_access_requests_staff_member_id"))

    op.drop_table("subject_access_requests")
