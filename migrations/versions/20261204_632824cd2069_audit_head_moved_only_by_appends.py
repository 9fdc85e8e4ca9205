"""The audit chain's head is moved by the append trigger alone, never by the app's role.

PostgreSQL only. The trigger that moves `audit_chain_head` on each new event now runs
with its owner's rights (SECURITY DEFINER), so the web app's role needs no right to
change the head's number or hash: `flask grant-app-role` leaves it only the right to lock
the row (an UPDATE of its fixed id, which the id = 1 check keeps fixed), which every
append takes to queue for its turn. The function names its table with the schema it was
made in, and searches nothing else, so a temporary table of the same name cannot stand
in for the real one.

SQLite has no roles: nothing changes there.

Revision ID: 632824cd2069
Revises: 8157b0a140fe
Create Date: 2026-12-04 01:30:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "632824cd2069"
down_revision = "8157b0a140fe"
branch_labels = None
depends_on = None

# As made by the audit trail migration (56414595586b), to go back to.
_INVOKER_BODY = """CREATE OR REPLACE FUNCTION audit_events_advance_head() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE audit_chain_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;
        RETURN NULL;
    END $$"""


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = bind.dialect.identifier_preparer.quote(
        bind.exec_driver_sql("SELECT current_schema()").scalar_one()
    )
    # The table by its schema's name, which comes from the database, quoted.
    head = f"{schema}.audit_chain_head"
    advance = f"UPDATE {head} SET seq = NEW.seq, hash = NEW.hash WHERE id = 1"  # noqa: S608 # nosec B608
    op.execute(
        "CREATE OR REPLACE FUNCTION audit_events_advance_head() RETURNS trigger"
        " LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
        f" AS $$ BEGIN {advance}; RETURN NULL; END $$"
    )
    # A function running as its owner is for the trigger alone, never for a caller.
    op.execute("REVOKE ALL ON FUNCTION audit_events_advance_head() FROM PUBLIC")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_INVOKER_BODY)
    op.execute("ALTER FUNCTION audit_events_advance_head() SECURITY INVOKER RESET ALL")
    op.execute("GRANT EXECUTE ON FUNCTION audit_events_advance_head() TO PUBLIC")
