"""The ticket list sorted by followers: its ordered index, like every other sort key's.

Revision ID: 0012
Revises: 0010

`ix_tickets_list_followers` mirrors the list's other sort indexes (0002, rebuilt by 0004): it
leads with the municipality, orders by the key and then id (the tie-breaker), is partial on the
visible tickets and carries the columns the visibility policy reads, so a page up to 10,000 rows
deep is found by an index-only scan. `tickets.followers` is kept by the follow rows' trigger
(0009); the index follows each change as any index does.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

VISIBLE = "is_sensitive IS FALSE"  # rendered by access.py as `Ticket.is_sensitive.is_(False)`
FIREWALL_COLUMNS = "is_sensitive, reporter_id, ward_id, assigned_team_id, assigned_to"  # the policy's columns


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_tickets_list_followers ON tickets (municipality_id, followers, id) "
        f"INCLUDE ({FIREWALL_COLUMNS}) WHERE {VISIBLE};"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_tickets_list_followers;")
