"""Foundation: tenants, people, teams, SLA policies, tickets, the audit trail, row-level security.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"
CATEGORIES = "('water','roads','electricity','waste','sanitation','gbv','other')"
SEVERITIES = "('low','medium','high','critical')"
STATUSES = "('open','in_progress','escalated','resolved','closed')"
ROLES = "('citizen','field_worker','manager','ward_councillor','admin','saps_liaison')"
EVENT_KINDS = "('created','status_changed','assigned','escalated','sla_breached','commented','viewed_sensitive')"
TENANT_TABLES = ("wards", "teams", "team_wards", "users", "consents", "sla_policies", "tickets", "ticket_events")

UPGRADE = f"""

DO $$ BEGIN
  CREATE ROLE {APP_ROLE} NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
DO $$ BEGIN
  EXECUTE format('GRANT {APP_ROLE} TO %I', current_user);
EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN NULL;
END $$;

-- The tenant and principal of the running transaction (SET LOCAL by the application).
CREATE FUNCTION app_municipality_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.municipality_id', true), '')::uuid $$;
CREATE FUNCTION app_user_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('app.user_id', true), '')::uuid $$;
CREATE FUNCTION app_role() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce(current_setting('app.role', true), '') $$;

CREATE TABLE municipalities (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code varchar(10) NOT NULL UNIQUE CHECK (code ~ '^[A-Z][A-Z0-9]{{1,9}}$'),
  name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
  province varchar(100) NOT NULL CHECK (length(btrim(province)) > 0),
  timezone varchar(64) NOT NULL DEFAULT 'Africa/Johannesburg',
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE wards (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  code varchar(32) NOT NULL CHECK (length(btrim(code)) > 0),
  name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
  boundary jsonb CHECK (boundary IS NULL OR boundary->>'type' IN ('Polygon','MultiPolygon')),
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (municipality_id, code),
  UNIQUE (municipality_id, id)
);

CREATE TABLE teams (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
  category varchar(20) NOT NULL CHECK (category IN {CATEGORIES}),
  is_saps boolean NOT NULL DEFAULT false,
  manager_id uuid,
  is_active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (municipality_id, name),
  UNIQUE (municipality_id, id)
);

CREATE TABLE team_wards (
  municipality_id uuid NOT NULL,
  team_id uuid NOT NULL,
  ward_id uuid NOT NULL,
  PRIMARY KEY (municipality_id, team_id, ward_id),
  FOREIGN KEY (municipality_id, team_id) REFERENCES teams(municipality_id, id) ON DELETE CASCADE,
  FOREIGN KEY (municipality_id, ward_id) REFERENCES wards(municipality_id, id)
);
CREATE INDEX ix_team_wards_ward ON team_wards (municipality_id, ward_id);

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  email varchar(254) NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%'),
  full_name varchar(200) NOT NULL CHECK (length(btrim(full_name)) > 0),
  phone varchar(32),
  role varchar(20) NOT NULL CHECK (role IN {ROLES}),
  ward_id uuid,
  team_id uuid,
  preferred_language varchar(2) NOT NULL DEFAULT 'en' CHECK (preferred_language IN ('en','zu','af')),
  is_active boolean NOT NULL DEFAULT true,
  password_hash varchar(255) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (municipality_id, id),
  CONSTRAINT councillor_has_ward CHECK (role <> 'ward_councillor' OR ward_id IS NOT NULL),
  FOREIGN KEY (municipality_id, ward_id) REFERENCES wards(municipality_id, id),
  FOREIGN KEY (municipality_id, team_id) REFERENCES teams(municipality_id, id)
);
CREATE UNIQUE INDEX uq_users_email ON users (lower(email));
CREATE INDEX ix_users_team ON users (municipality_id, team_id);

ALTER TABLE teams ADD FOREIGN KEY (municipality_id, manager_id) REFERENCES users(municipality_id, id);

CREATE TABLE consents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  user_id uuid NOT NULL,
  purpose varchar(200) NOT NULL,
  policy_version varchar(32) NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (municipality_id, user_id) REFERENCES users(municipality_id, id)
);
CREATE INDEX ix_consents_user ON consents (municipality_id, user_id);

CREATE TABLE sla_policies (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  category varchar(20) CHECK (category IN {CATEGORIES}),
  severity varchar(10) CHECK (severity IN {SEVERITIES}),
  response_hours numeric(10,4) NOT NULL CHECK (response_hours > 0),
  resolution_hours numeric(10,4) NOT NULL CHECK (resolution_hours > 0),
  CONSTRAINT uq_sla_policies_scope UNIQUE NULLS NOT DISTINCT (municipality_id, category, severity)
);

CREATE TABLE tickets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  tracking_number varchar(22) NOT NULL UNIQUE CHECK (tracking_number ~ '^TKT-[0-9]{{8}}-[0-9A-F]{{6}}$'),
  category varchar(20) NOT NULL CHECK (category IN {CATEGORIES}),
  description text NOT NULL CHECK (length(description) BETWEEN 1 AND 5000),
  severity varchar(10) NOT NULL DEFAULT 'medium' CHECK (severity IN {SEVERITIES}),
  severity_rank smallint GENERATED ALWAYS AS (
    CASE severity WHEN 'low' THEN 0 WHEN 'medium' THEN 1 WHEN 'high' THEN 2 ELSE 3 END) STORED,
  status varchar(20) NOT NULL DEFAULT 'open' CHECK (status IN {STATUSES}),
  status_rank smallint GENERATED ALWAYS AS (
    CASE status WHEN 'open' THEN 0 WHEN 'in_progress' THEN 1 WHEN 'escalated' THEN 2
                WHEN 'resolved' THEN 3 ELSE 4 END) STORED,
  is_sensitive boolean NOT NULL,
  address varchar(500),
  latitude double precision CHECK (latitude BETWEEN -90 AND 90),
  longitude double precision CHECK (longitude BETWEEN -180 AND 180),
  ward_id uuid,
  reporter_id uuid,
  assigned_team_id uuid,
  assigned_to uuid,
  language varchar(2) NOT NULL DEFAULT 'en' CHECK (language IN ('en','zu','af')),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  first_responded_at timestamptz,
  resolved_at timestamptz,
  closed_at timestamptz,
  escalated_at timestamptz,
  escalation_reason text,
  sla_response_deadline timestamptz,
  sla_resolution_deadline timestamptz,
  -- When the sweep logged each deadline's sla_breached event: each is written exactly once.
  response_breach_logged_at timestamptz,
  resolution_breach_logged_at timestamptz,
  UNIQUE (municipality_id, id),
  CONSTRAINT sensitive_is_gbv CHECK (is_sensitive = (category = 'gbv')),
  CONSTRAINT resolved_has_time CHECK (status NOT IN ('resolved','closed') OR resolved_at IS NOT NULL),
  CONSTRAINT closed_has_time CHECK (status <> 'closed' OR closed_at IS NOT NULL),
  FOREIGN KEY (municipality_id, ward_id) REFERENCES wards(municipality_id, id),
  FOREIGN KEY (municipality_id, reporter_id) REFERENCES users(municipality_id, id),
  FOREIGN KEY (municipality_id, assigned_team_id) REFERENCES teams(municipality_id, id),
  FOREIGN KEY (municipality_id, assigned_to) REFERENCES users(municipality_id, id)
);
-- The escalation sweep looks across tenants, at the open backlog only.
CREATE INDEX ix_tickets_sweep_resolution ON tickets (sla_resolution_deadline)
  WHERE status IN ('open','in_progress','escalated');
CREATE INDEX ix_tickets_sweep_response ON tickets (sla_response_deadline)
  WHERE status IN ('open','in_progress','escalated') AND response_breach_logged_at IS NULL;
CREATE INDEX ix_tickets_reporter ON tickets (municipality_id, reporter_id, created_at DESC, id DESC);

CREATE TABLE ticket_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  ticket_id uuid NOT NULL,
  actor_id uuid,
  kind varchar(20) NOT NULL CHECK (kind IN {EVENT_KINDS}),
  data jsonb NOT NULL DEFAULT '{{}}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (municipality_id, ticket_id) REFERENCES tickets(municipality_id, id),
  FOREIGN KEY (municipality_id, actor_id) REFERENCES users(municipality_id, id)
);
CREATE INDEX ix_ticket_events_ticket ON ticket_events (municipality_id, ticket_id, id DESC);

CREATE FUNCTION ticket_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ticket_events is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER ticket_events_no_update BEFORE UPDATE OR DELETE ON ticket_events
  FOR EACH ROW EXECUTE FUNCTION ticket_events_append_only();

GRANT USAGE ON SCHEMA public TO {APP_ROLE};
GRANT SELECT ON municipalities TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON wards, teams, team_wards, users, sla_policies TO {APP_ROLE};
GRANT SELECT, INSERT ON consents, ticket_events TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON tickets TO {APP_ROLE};
GRANT EXECUTE ON FUNCTION app_municipality_id(), app_user_id(), app_role() TO {APP_ROLE};
"""

# Row-level security: the municipality of the transaction, and for tickets (and through them their
# events) the sensitivity firewall: GBV rows only for admins, SAPS liaisons and the reporter.
RLS = (
    "\n".join(
        f"""ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON {t} USING (municipality_id = app_municipality_id())
  WITH CHECK (municipality_id = app_municipality_id());"""
        for t in TENANT_TABLES
    )
    + """
CREATE POLICY sensitive_firewall ON tickets AS RESTRICTIVE USING (
  NOT is_sensitive OR app_role() IN ('admin', 'saps_liaison') OR reporter_id = app_user_id());
CREATE POLICY sensitive_firewall ON ticket_events AS RESTRICTIVE USING (
  EXISTS (SELECT 1 FROM tickets t WHERE t.municipality_id = ticket_events.municipality_id
          AND t.id = ticket_events.ticket_id));
"""
)

DOWNGRADE = f"""
DROP TABLE IF EXISTS ticket_events, tickets, sla_policies, consents CASCADE;
ALTER TABLE teams DROP CONSTRAINT IF EXISTS teams_municipality_id_manager_id_fkey;
DROP TABLE IF EXISTS users, team_wards, teams, wards, municipalities CASCADE;
DROP FUNCTION IF EXISTS ticket_events_append_only(), app_municipality_id(), app_user_id(), app_role();
REVOKE ALL ON SCHEMA public FROM {APP_ROLE};
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    op.execute(RLS)


def downgrade() -> None:
    op.execute(DOWNGRADE)
