"""Open311 API keys, and the indexes behind Open311 reads and the public figures.

Revision ID: 0006
Revises: 0007

* `api_keys`: the keys other systems post Open311 requests with. Only a SHA-256 digest of the
  key is stored (the key is 32 random bytes, so a fast digest is enough: there is nothing to
  brute-force); the key itself is shown once, when it is made. A tenant table like the others:
  row-level security keyed on the transaction's municipality.
* `ix_tickets_public_window`: the public figures and the Open311 list read the tickets of a
  municipality created in a recent window (12 months at most for the figures, 90 days for the
  list). The index is partial on the non-sensitive tickets (the form access.py writes) and
  carries every column those reads use, plus the firewall columns, so they are index-only scans
  of the window and never visit the heap or the rest of the history.
* `ix_ticket_events_status_window`: Open311 service-request updates are the status changes of a
  municipality in a time window, oldest first.
"""

from alembic import op

from src.db.objects import apply_sql

revision = "0006"
down_revision = "0007"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"

UPGRADE = f"""
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  name varchar(100) NOT NULL CHECK (length(btrim(name)) > 0),
  key_hash bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz,
  revoked_at timestamptz,
  created_by uuid,
  UNIQUE (municipality_id, id),
  FOREIGN KEY (municipality_id, created_by) REFERENCES users(municipality_id, id)
);
CREATE INDEX ix_api_keys_municipality ON api_keys (municipality_id, created_at);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON api_keys USING (municipality_id = app_municipality_id())
  WITH CHECK (municipality_id = app_municipality_id());
GRANT SELECT, INSERT, UPDATE ON api_keys TO {APP_ROLE};

CREATE INDEX ix_tickets_public_window ON tickets (municipality_id, created_at)
  INCLUDE (category, status, ward_id, latitude, longitude, first_responded_at, resolved_at,
           sla_response_deadline, sla_resolution_deadline, is_sensitive, reporter_id)
  WHERE is_sensitive IS FALSE;

CREATE INDEX ix_ticket_events_status_window ON ticket_events (municipality_id, created_at, id)
  WHERE kind IN ('status_changed', 'escalated');
"""

DOWNGRADE = """
DROP INDEX IF EXISTS ix_ticket_events_status_window;
DROP INDEX IF EXISTS ix_tickets_public_window;
DROP TABLE IF EXISTS api_keys;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    # Anonymous readers (role `public`) list the non-sensitive tickets of their municipality.
    apply_sql("access_rules")


def downgrade() -> None:
    op.execute(DOWNGRADE)
