"""Workflow: triage, the LADO clock, investigation and routing on cases; transitions,
decisions, appeals, suspensions and sent notifications.

Revision ID: 6854d888f494
Revises: b364c3b5fb7a
Create Date: 2026-11-24 00:10:37.079056

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "6854d888f494"
down_revision = "b364c3b5fb7a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("local_authority", sa.String(length=120), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("lado_working_days", sa.Integer(), nullable=False, server_default="1")
        )

    # Existing cases get empty text for the new narrative columns.
    op.create_table(
        "case_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=24), nullable=False),
        sa.Column("to_status", sa.String(length=24), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_case_transitions_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_transitions_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transitions")),
    )
    with op.batch_alter_table("case_transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_transitions_case_id"), ["case_id"], unique=False)

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("sanction", sa.String(length=32), nullable=False),
        sa.Column("warning_expires_on", sa.Date(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("may_mention_in_references", sa.Boolean(), nullable=False),
        sa.Column("refer_dbs", sa.Boolean(), nullable=False),
        sa.Column("refer_dbs_reason", sa.Text(), nullable=False),
        sa.Column("refer_tra", sa.Boolean(), nullable=False),
        sa.Column("refer_tra_reason", sa.Text(), nullable=False),
        sa.Column("refer_police", sa.Boolean(), nullable=False),
        sa.Column("refer_police_reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_decisions_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_decisions_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decisions_case_id"), ["case_id"], unique=False)

    op.create_table(
        "sent_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_sent_notifications_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_id"], ["users.id"], name=op.f("fk_sent_notifications_recipient_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sent_notifications")),
        sa.UniqueConstraint("key", name=op.f("uq_sent_notifications_key")),
    )
    with op.batch_alter_table("sent_notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sent_notifications_case_id"), ["case_id"], unique=False
        )

    op.create_table(
        "suspensions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_suspensions_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_suspensions_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suspensions")),
    )
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suspensions_case_id"), ["case_id"], unique=False)

    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("lodged_on", sa.Date(), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("heard_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("varied_sanction", sa.String(length=32), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_appeals_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["decision_id"], ["decisions.id"], name=op.f("fk_appeals_decision_id_decisions")
        ),
        sa.ForeignKeyConstraint(
            ["heard_by_id"], ["users.id"], name=op.f("fk_appeals_heard_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["users.id"], name=op.f("fk_appeals_recorded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeals_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("triage_rationale", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("harm_child", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("harm_offence", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("harm_risk", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("harm_unsuitable", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("triaged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("lado_due_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("lado_referred_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("lado_method", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("lado_reference", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("lado_advice", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("lado_advice_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("investigator_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("investigation_summary", sa.Text(), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("decision_maker_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("closed_on", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("closure_reason", sa.Text(), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_decision_maker_id_users"), "users", ["decision_maker_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_cases_investigator_id_users"), "users", ["investigator_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("schools", schema=None) as batch_op:
        batch_op.drop_column("lado_working_days")
        batch_op.drop_column("local_authority")

    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_cases_investigator_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_cases_decision_maker_id_users"), type_="foreignkey")
        batch_op.drop_column("closure_reason")
        batch_op.drop_column("closed_on")
        batch_op.drop_column("decision_maker_id")
        batch_op.drop_column("investigation_summary")
        batch_op.drop_column("investigator_id")
        batch_op.drop_column("lado_advice_on")
        batch_op.drop_column("lado_advice")
        batch_op.drop_column("lado_reference")
        batch_op.drop_column("lado_method")
        batch_op.drop_column("lado_referred_at")
        batch_op.drop_column("lado_due_at")
        batch_op.drop_column("triaged_at")
        batch_op.drop_column("harm_unsuitable")
        batch_op.drop_column("harm_risk")
        batch_op.drop_column("harm_offence")
        batch_op.drop_column("harm_child")
        batch_op.drop_column("triage_rationale")

    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_appeals_case_id"))

    op.drop_table("appeals")
    with op.batch_alter_table("suspensions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suspensions_case_id"))

    op.drop_table("suspensions")
    with op.batch_alter_table("sent_notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_notifications_case_id"))

    op.drop_table("sent_notifications")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decisions_case_id"))

    op.drop_table("decisions")
    with op.batch_alter_table("case_transitions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_transitions_case_id"))

    op.drop_table("case_transitions")
