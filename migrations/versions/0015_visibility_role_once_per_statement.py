"""The tickets' visibility policy reads the caller's role once per statement.

Revision ID: 0015
Revises: 0014

`app_ticket_listed` and `app_ticket_visible` (src/db/sql/access_rules.sql) take the role as a
ninth argument, and the `visibility` policy on tickets passes `(SELECT app_role())`, evaluated
once per statement, instead of each row reading the setting again: a page 10,000 rows deep
spent 1.2 ms of its 2.2 ms in the database on that. The eight-argument forms remain, now passing
`app_role()` to the same rule, for the policies of events, follows, photos and notifications.
"""

from alembic import op

from src.db.objects import apply_sql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# The eight-argument functions and the tickets policy as they were before this revision.
BEFORE = """
DROP POLICY visibility ON tickets;
CREATE POLICY visibility ON tickets AS RESTRICTIVE USING (
  app_ticket_visible(municipality_id, is_sensitive, ward_id, reporter_id, assigned_team_id, assigned_to,
                     (SELECT app_user_ward_id()), (SELECT app_user_team_id())));
CREATE OR REPLACE FUNCTION app_ticket_listed(
  municipality_id uuid, is_sensitive boolean, ward_id uuid, reporter_id uuid, assigned_team_id uuid, assigned_to uuid,
  user_ward_id uuid, user_team_id uuid
) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT municipality_id = app_municipality_id() AND CASE app_role()
    WHEN 'citizen' THEN reporter_id = app_user_id()
    WHEN 'field_worker' THEN NOT is_sensitive AND (assigned_to = app_user_id() OR assigned_team_id = user_team_id)
    WHEN 'manager' THEN NOT is_sensitive
    WHEN 'ward_councillor' THEN NOT is_sensitive AND ward_id = user_ward_id
    WHEN 'admin' THEN NOT is_sensitive
    WHEN 'saps_liaison' THEN is_sensitive AND app_can_see_sensitive()
    WHEN 'public' THEN NOT is_sensitive  -- anonymous readers: public figures and Open311
    ELSE false
  END
$$;

CREATE OR REPLACE FUNCTION app_ticket_visible(
  municipality_id uuid, is_sensitive boolean, ward_id uuid, reporter_id uuid, assigned_team_id uuid, assigned_to uuid,
  user_ward_id uuid, user_team_id uuid
) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT app_ticket_listed(municipality_id, is_sensitive, ward_id, reporter_id, assigned_team_id, assigned_to,
                           user_ward_id, user_team_id)
    OR (municipality_id = app_municipality_id() AND (reporter_id = app_user_id() OR app_role() = 'admin'))
$$;
DROP FUNCTION app_ticket_visible(uuid, boolean, uuid, uuid, uuid, uuid, uuid, uuid, text);
DROP FUNCTION app_ticket_listed(uuid, boolean, uuid, uuid, uuid, uuid, uuid, uuid, text);
"""


def upgrade() -> None:
    apply_sql("access_rules", "access_policies")


def downgrade() -> None:
    op.execute(BEFORE)
