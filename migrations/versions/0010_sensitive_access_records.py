"""Sensitive (GBV) tickets: access records, and their text sealed at rest.

Revision ID: 0010
Revises: 0009

* `sensitive_access_records`: one row per answer that contained sensitive (GBV) tickets: the
  reader (by id and role, never by name, so erasing a person leaves the trail intact), when, the
  kind of answer and its query, and the ids of the sensitive tickets it carried.
* Append-only: the application role may insert and nothing else; a trigger refuses UPDATE and
  DELETE for everyone, the owner included.
* Row-level security: the tenant policy, a restrictive policy that lets a transaction insert
  only records of its own signed-in user, and a restrictive read policy for admins (the
  municipality's auditors).
* The free text of sensitive tickets (description, address, escalation reason, and their events'
  notes and reasons) is sealed with the master key of `DATA_ENCRYPTION_KEY` (or the one under
  `DATA_DIR`), see src/core/sealing.py and src/core/resealing.py; their coordinates are dropped
  (the ward stays). `tickets.address` becomes `text`, as a sealed address is longer than 500
  characters; the 500-character limit stays in the API. The downgrade opens the text again (the
  coordinates cannot come back).
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"

UPGRADE = f"""
CREATE TABLE sensitive_access_records (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  user_id uuid NOT NULL,
  role varchar(32) NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  answer varchar(16) NOT NULL CHECK (answer IN ('list', 'search', 'export')),
  query jsonb NOT NULL DEFAULT '{{}}'::jsonb,
  ticket_ids uuid[] NOT NULL CHECK (cardinality(ticket_ids) > 0)
);
CREATE INDEX ix_sensitive_access_records_at ON sensitive_access_records (municipality_id, at DESC);
-- "Who read this ticket?": the ids array, searched with @>.
CREATE INDEX ix_sensitive_access_records_tickets ON sensitive_access_records USING gin (ticket_ids);

CREATE FUNCTION sensitive_access_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'sensitive_access_records is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER sensitive_access_records_no_change BEFORE UPDATE OR DELETE ON sensitive_access_records
  FOR EACH ROW EXECUTE FUNCTION sensitive_access_records_append_only();

ALTER TABLE sensitive_access_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON sensitive_access_records USING (municipality_id = app_municipality_id())
  WITH CHECK (municipality_id = app_municipality_id());
CREATE POLICY own_records ON sensitive_access_records AS RESTRICTIVE FOR INSERT
  WITH CHECK (user_id = app_user_id() AND role = app_role());
CREATE POLICY auditors ON sensitive_access_records AS RESTRICTIVE FOR SELECT
  USING (app_role() = 'admin');
GRANT SELECT, INSERT ON sensitive_access_records TO {APP_ROLE};
"""

DOWNGRADE = """
DROP TABLE IF EXISTS sensitive_access_records;
DROP FUNCTION IF EXISTS sensitive_access_records_append_only();
"""

# A sealed description is longer than the 5,000 characters the API accepts (which still applies).
DESCRIPTION_CHECK = (
    "ALTER TABLE tickets DROP CONSTRAINT tickets_description_check, ADD CONSTRAINT tickets_description_check {check}"
)
PLAIN_DESCRIPTION = "CHECK (length(description) BETWEEN 1 AND 5000)"
SEALED_DESCRIPTION = "CHECK (length(description) BETWEEN 1 AND 5000 OR description LIKE 'sealed:v1:%')"


def upgrade() -> None:
    from src.core.resealing import Mode, reseal

    op.execute(UPGRADE)
    op.execute("ALTER TABLE tickets ALTER COLUMN address TYPE text")
    op.execute(DESCRIPTION_CHECK.format(check=SEALED_DESCRIPTION))
    reseal(op.get_bind(), Mode.SEAL)


def downgrade() -> None:
    from src.core.resealing import Mode, reseal

    reseal(op.get_bind(), Mode.REVEAL)
    op.execute("ALTER TABLE tickets ALTER COLUMN address TYPE varchar(500)")
    op.execute(DESCRIPTION_CHECK.format(check=PLAIN_DESCRIPTION))
    op.execute(DOWNGRADE)
