"""The ticket list filtered by a status and a category: an ordered index of its own.

Revision ID: 0016
Revises: 0015

Triage reads the list by status and category together (`status=open&category=water`, newest
first). With only a status index and a category index, PostgreSQL walked one of them and read a
table row per entry to check the other column: 150-700 rows for a page of 50 at a million
tickets, up to 0.8 ms in the database, and a top-50 sort over every open ticket when such a list
is sorted by severity. `ix_tickets_list_status_category_created` leads with both, then the
default order, and carries the columns the visibility policy reads, like the other list indexes
(0004): the first page is read exactly (0.15-0.28 ms), and a list sorted otherwise sorts only
its own matches.
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

VISIBLE = "is_sensitive IS FALSE"  # rendered by access.py as `Ticket.is_sensitive.is_(False)`
FIREWALL_COLUMNS = "is_sensitive, reporter_id, ward_id, assigned_team_id, assigned_to"  # the policy's columns


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_tickets_list_status_category_created ON tickets "
        f"(municipality_id, status, category, created_at, id) INCLUDE ({FIREWALL_COLUMNS}) WHERE {VISIBLE};"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_tickets_list_status_category_created;")
