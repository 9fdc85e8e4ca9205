"""Sign-in with the trust's identity provider (OpenID Connect), per trust.

Trusts: the provider's label, issuer, client id and allowed e-mail domains, whether its
multi-factor sign-in counts (and which acr value proves it), and whether local passwords
are allowed (on for every existing trust). Users: the provider's subject once linked,
and whether the account is a break-glass one (off for every existing account).

Revision ID: 446e761b8f2e
Revises: a4095fecdda4
Create Date: 2026-12-04 07:50:40.651749

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "446e761b8f2e"
down_revision = "a4095fecdda4"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("trusts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sign_in_label", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("sign_in_issuer", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("sign_in_client_id", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("sign_in_domains", sa.String(length=1000), nullable=True))
        batch_op.add_column(
            sa.Column(
                "sign_in_trusts_provider_mfa",
                sa.Boolean(),
                nullable=False,
                server_default=sa.false(),
            )
        )
        batch_op.add_column(sa.Column("sign_in_mfa_acr", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("passwords_allowed", sa.Boolean(), nullable=False, server_default=sa.true())
        )

    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sign_in_subject", sa.String(length=512), nullable=True))
        batch_op.add_column(
            sa.Column("break_glass", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_users_sign_in_subject"), ["sign_in_subject"]
        )


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_users_sign_in_subject"), type_="unique")
        batch_op.drop_column("break_glass")
        batch_op.drop_column("sign_in_subject")

    with op.batch_alter_table("trusts", schema=None) as batch_op:
        batch_op.drop_column("passwords_allowed")
        batch_op.drop_column("sign_in_mfa_acr")
        batch_op.drop_column("sign_in_trusts_provider_mfa")
        batch_op.drop_column("sign_in_domains")
        batch_op.drop_column("sign_in_client_id")
        batch_op.drop_column("sign_in_issuer")
        batch_op.drop_column("sign_in_label")
