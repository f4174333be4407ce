"""One visibility rule in SQL: the functions every ticket-data policy calls, and the GBV rule on
the tallies.

Revision ID: 0007
Revises: 0003

Before, the database side of "who may see a ticket" was the `sensitive_firewall` policy of
0001 on tickets (sensitivity only: any staff member of the municipality saw every ordinary
ticket), and the tallies of 0002 had the tenant policy alone, so a transaction running as a
manager read GBV counts from them. Now:

* src/db/sql/access_rules.sql: `app_ticket_listed`, `app_ticket_visible` and
  `app_can_see_sensitive`, the role-by-role rule of src/services/access.py, once;
* src/db/sql/access_policies.sql: the restrictive `visibility` policy on tickets and
  ticket_events and `sensitive_counts` on every tally, calling those functions;
* src/db/sql/sla.sql: `sla_breached`, the one definition of an SLA breach, which the tally
  functions now call too (src/db/tallies_sql.py, replacing 0002's generated copies).

The files are declared once in source and applied here by name (src/db/objects.py).

The indexes of 0002 that carry the columns of the old firewall (INCLUDE is_sensitive,
reporter_id) so that index-only scans could evaluate it now also carry every other column the
rule reads (assigned_team_id, assigned_to, and ward_id where missing): a ward's SLA figures and
trends stay index-only scans under the new policy instead of visiting the heap.
"""

from alembic import op

from src.db.objects import apply_sql
from src.db.tallies_sql import tally_functions

revision = "0007"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN_SET = "('open','in_progress','escalated')"
NOT_SENSITIVE = "is_sensitive IS FALSE"
OLD_RULE_COLUMNS = "is_sensitive, reporter_id"
RULE_COLUMNS = "is_sensitive, reporter_id, assigned_team_id, assigned_to"
# name -> (key columns, extra INCLUDE columns, predicate), as in 0002.
COVERING = {
    "ix_tickets_list_ward_created": ("municipality_id, ward_id, created_at, id", "", NOT_SENSITIVE),
    "ix_tickets_backlog_open": (
        "municipality_id, sla_resolution_deadline",
        "ward_id, resolved_at, sla_response_deadline, ",
        f"status IN {OPEN_SET} AND {NOT_SENSITIVE}",
    ),
    "ix_tickets_backlog_unresponded": (
        "municipality_id, sla_response_deadline",
        "ward_id, ",
        f"first_responded_at IS NULL AND sla_resolution_deadline IS NOT NULL AND {NOT_SENSITIVE}",
    ),
    "ix_tickets_trend_resolved": (
        "municipality_id, resolved_at",
        "ward_id, ",
        f"resolved_at IS NOT NULL AND {NOT_SENSITIVE}",
    ),
}


def _recreate_covering(rule_columns: str) -> None:
    for name, (keys, extra, where) in COVERING.items():
        op.execute(f"DROP INDEX IF EXISTS {name};")
        op.execute(f"CREATE INDEX {name} ON tickets ({keys}) INCLUDE ({extra}{rule_columns}) WHERE {where};")


TALLY_TABLES = ("ticket_tallies", "ticket_ward_tallies", "ticket_status_tallies", "ticket_hours", "ticket_deadlines")

# What 0001 had, for the way back.
FIREWALL_0001 = """
CREATE POLICY sensitive_firewall ON tickets AS RESTRICTIVE USING (
  NOT is_sensitive OR app_role() IN ('admin', 'saps_liaison') OR reporter_id = app_user_id());
CREATE POLICY sensitive_firewall ON ticket_events AS RESTRICTIVE USING (
  EXISTS (SELECT 1 FROM tickets t WHERE t.municipality_id = ticket_events.municipality_id
          AND t.id = ticket_events.ticket_id));
"""


def upgrade() -> None:
    apply_sql("access_rules", "access_policies", "sla")
    op.execute(tally_functions())
    _recreate_covering(RULE_COLUMNS)


def downgrade() -> None:
    _recreate_covering(OLD_RULE_COLUMNS)
    op.execute("DROP POLICY IF EXISTS visibility ON tickets; DROP POLICY IF EXISTS visibility ON ticket_events;")
    op.execute("".join(f"DROP POLICY IF EXISTS sensitive_counts ON {t};" for t in TALLY_TABLES))
    op.execute(FIREWALL_0001)
    op.execute(tally_functions(late=lambda done_at, deadline: f"{done_at} > {deadline}"))  # as 0002 wrote it
    op.execute(
        "DROP FUNCTION IF EXISTS sla_breached(timestamptz, timestamptz, timestamptz),"
        " app_ticket_visible(uuid, boolean, uuid, uuid, uuid, uuid, uuid, uuid),"
        " app_ticket_listed(uuid, boolean, uuid, uuid, uuid, uuid, uuid, uuid),"
        " app_user_ward_id(), app_user_team_id(), app_can_see_sensitive();"
    )
