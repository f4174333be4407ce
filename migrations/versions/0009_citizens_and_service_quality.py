"""Citizens and service quality: SLA clocks (working hours, declared holidays), followers,
duplicates, reopening, nearby reports.

Revision ID: 0009
Revises: 0005

* sla_policies.clock: `24x7` or `business`. Existing policies take the default of their
  severity (critical: `24x7`; any other, or any severity: `business`).
* tickets.sla_clock: the clock its stored deadlines were computed on. Tickets created before
  this revision keep NULL, which means `24x7`: that is how their deadlines were computed, and
  rewriting every ticket row here would hold a lock on the whole table for nothing.
* business_hours (one row per working weekday; none = the default Monday-Friday 07:30-16:00)
  and declared_holidays (the municipality's own days off), both tenant tables.
* ticket_followers (residents following a report) and tickets.followers, the count kept by a
  trigger (src/db/sql/public_tickets.sql, with the functions that let a resident find and
  follow an open report they did not write); tickets.duplicate_of and tickets.reopened_at; the
  event kinds `marked_duplicate` and `reopened`.
* ticket_photos: the photos of a ticket (the files under MEDIA_DIR), readable with their ticket.
* nearby_radius: the radius per category of "nearby reports" (none = 250 m).
"""

from alembic import op

from src.db.objects import apply_sql

revision = "0009"
down_revision = "0005"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"
CLOCKS = "('24x7','business')"
NEW_TABLES = ("business_hours", "declared_holidays", "ticket_followers", "nearby_radius", "ticket_photos")
OLD_KINDS = "('created','status_changed','assigned','escalated','sla_breached','commented','viewed_sensitive')"
NEW_KINDS = OLD_KINDS[:-1] + ",'marked_duplicate','reopened')"
CATEGORIES = "('water','roads','electricity','waste','sanitation','gbv','other')"

UPGRADE = (
    f"""
ALTER TABLE sla_policies ADD COLUMN clock varchar(8) NOT NULL DEFAULT 'business' CHECK (clock IN {CLOCKS});
UPDATE sla_policies SET clock = '24x7' WHERE severity = 'critical';
ALTER TABLE tickets ADD COLUMN sla_clock varchar(8) CHECK (sla_clock IN {CLOCKS});

CREATE TABLE business_hours (
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  weekday smallint NOT NULL CHECK (weekday BETWEEN 0 AND 6),
  opens time NOT NULL,
  closes time NOT NULL,
  PRIMARY KEY (municipality_id, weekday),
  CONSTRAINT opens_before_closes CHECK (opens < closes)
);
CREATE TABLE declared_holidays (
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  day date NOT NULL,
  name varchar(200) NOT NULL CHECK (length(btrim(name)) > 0),
  PRIMARY KEY (municipality_id, day)
);
CREATE TABLE nearby_radius (
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  category varchar(20) NOT NULL CHECK (category IN {CATEGORIES}),
  radius_m integer NOT NULL CHECK (radius_m BETWEEN 10 AND 5000),
  PRIMARY KEY (municipality_id, category)
);

ALTER TABLE tickets ADD COLUMN followers integer NOT NULL DEFAULT 0 CHECK (followers >= 0),
  ADD COLUMN duplicate_of uuid REFERENCES tickets(id),
  ADD COLUMN reopened_at timestamptz;
CREATE TABLE ticket_followers (
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  ticket_id uuid NOT NULL REFERENCES tickets(id),
  user_id uuid NOT NULL REFERENCES users(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ticket_id, user_id)
);
CREATE INDEX ix_ticket_followers_user ON ticket_followers (user_id);
-- Photos: the files live under MEDIA_DIR; the row says whose they are.
CREATE TABLE ticket_photos (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  ticket_id uuid NOT NULL REFERENCES tickets(id),
  uploaded_by uuid REFERENCES users(id),
  width integer NOT NULL CHECK (width > 0),
  height integer NOT NULL CHECK (height > 0),
  bytes integer NOT NULL CHECK (bytes > 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ix_ticket_photos_ticket ON ticket_photos (municipality_id, ticket_id, created_at);
-- Nearby reports: open, non-sensitive reports of a category in a box of latitudes.
CREATE INDEX ix_tickets_open_near ON tickets (municipality_id, category, latitude) INCLUDE (longitude)
  WHERE status IN ('open','in_progress','escalated') AND is_sensitive IS FALSE AND latitude IS NOT NULL;

ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_kind_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_kind_check CHECK (kind IN {NEW_KINDS});
-- The dashboard's `reopened`: reopenings of a municipality in a period.
CREATE INDEX ix_ticket_events_reopened ON ticket_events (municipality_id, created_at) INCLUDE (ticket_id)
  WHERE kind = 'reopened';

GRANT SELECT, INSERT, UPDATE, DELETE ON business_hours, declared_holidays, nearby_radius TO {APP_ROLE};
GRANT SELECT, INSERT, DELETE ON ticket_followers TO {APP_ROLE};
GRANT SELECT, INSERT ON ticket_photos TO {APP_ROLE};
"""
    + "\n".join(
        f"""ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON {t} USING (municipality_id = app_municipality_id())
  WITH CHECK (municipality_id = app_municipality_id());"""
        for t in NEW_TABLES
    )
    + """
-- A follow row is the follower's own business, and otherwise readable with its ticket.
CREATE POLICY visibility ON ticket_followers AS RESTRICTIVE USING (
  user_id = app_user_id()
  OR EXISTS (SELECT 1 FROM tickets t
             WHERE t.municipality_id = ticket_followers.municipality_id AND t.id = ticket_followers.ticket_id
               AND app_ticket_visible(t.municipality_id, t.is_sensitive, t.ward_id, t.reporter_id,
                                      t.assigned_team_id, t.assigned_to,
                                      (SELECT app_user_ward_id()), (SELECT app_user_team_id()))));
-- A photo is readable (and writable) exactly when its ticket is.
CREATE POLICY visibility ON ticket_photos AS RESTRICTIVE USING (
  EXISTS (SELECT 1 FROM tickets t
          WHERE t.municipality_id = ticket_photos.municipality_id AND t.id = ticket_photos.ticket_id
            AND app_ticket_visible(t.municipality_id, t.is_sensitive, t.ward_id, t.reporter_id,
                                   t.assigned_team_id, t.assigned_to,
                                   (SELECT app_user_ward_id()), (SELECT app_user_team_id()))));
"""
)

DOWNGRADE = f"""
DROP FUNCTION IF EXISTS app_open_reports_near(varchar, double precision, double precision, double precision, integer);
DROP FUNCTION IF EXISTS app_followable_ticket(uuid);
DROP TABLE IF EXISTS ticket_photos, ticket_followers, nearby_radius;
DROP FUNCTION IF EXISTS ticket_followers_count();
ALTER TABLE ticket_events DISABLE TRIGGER ticket_events_no_update;
DELETE FROM ticket_events WHERE kind IN ('marked_duplicate', 'reopened');
ALTER TABLE ticket_events ENABLE TRIGGER ticket_events_no_update;
ALTER TABLE ticket_events DROP CONSTRAINT ticket_events_kind_check;
ALTER TABLE ticket_events ADD CONSTRAINT ticket_events_kind_check CHECK (kind IN {OLD_KINDS});
DROP INDEX IF EXISTS ix_tickets_open_near, ix_ticket_events_reopened;
ALTER TABLE tickets DROP COLUMN followers, DROP COLUMN duplicate_of, DROP COLUMN reopened_at;
DROP TABLE IF EXISTS declared_holidays, business_hours;
ALTER TABLE tickets DROP COLUMN IF EXISTS sla_clock;
ALTER TABLE sla_policies DROP COLUMN IF EXISTS clock;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    apply_sql("public_tickets")


def downgrade() -> None:
    op.execute(DOWNGRADE)
