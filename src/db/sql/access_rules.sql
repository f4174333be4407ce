-- Who may see a ticket, on the database side: the functions every row-level-security policy on
-- ticket data calls (tickets, ticket_events, the tallies derived from them). The application
-- writes the same rule once in src/services/access.py; tests/db/test_access_layers.py proves the
-- two agree for every role and kind of ticket.
--
-- Plain LANGUAGE sql, STABLE, no SECURITY DEFINER, no SET clause and no sub-select in the body:
-- the planner inlines them into each policy, so the rule costs what the expression costs (a
-- function it cannot inline runs once per row: 10 to 30 times slower on a list). For the same
-- reason the caller's own ward and team come in as arguments: a policy passes
-- `(SELECT app_user_ward_id())` and `(SELECT app_user_team_id())`, sub-selects that PostgreSQL
-- evaluates once per statement, and only when the branch that needs them is reached.
--
-- Idempotent: a later change is an edit here plus a migration that applies this file again.

-- Whether the transaction's role lists and counts sensitive (GBV) tickets of its whole
-- municipality. Only SAPS liaisons do: admins open a sensitive ticket one at a time (its detail)
-- but their lists and every figure leave them out, like everyone else's. The GBV rule of every
-- table that keeps data per sensitivity (the tallies) is `NOT is_sensitive OR app_can_see_sensitive()`.
CREATE OR REPLACE FUNCTION app_can_see_sensitive() RETURNS boolean LANGUAGE sql STABLE AS
$$ SELECT app_role() = 'saps_liaison' $$;

-- The signed-in user's own ward and team, from their record (users has the tenant policy).
CREATE OR REPLACE FUNCTION app_user_ward_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT u.ward_id FROM users u WHERE u.id = app_user_id() $$;
CREATE OR REPLACE FUNCTION app_user_team_id() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT u.team_id FROM users u WHERE u.id = app_user_id() $$;

-- The tickets a role's lists show (Purpose.LIST in access.py; `public` is access.PUBLIC_ROLE),
-- for the caller's `role`. The tickets policy passes `(SELECT app_role())`, evaluated once per
-- statement: each row then compares a parameter instead of reading the setting again (a page
-- 10,000 rows deep spent 1.2 ms of its 2.2 on that). The argument is used once in each body,
-- which is what lets the planner inline a function given a sub-select.
CREATE OR REPLACE FUNCTION app_ticket_listed(
  municipality_id uuid, is_sensitive boolean, ward_id uuid, reporter_id uuid, assigned_team_id uuid, assigned_to uuid,
  user_ward_id uuid, user_team_id uuid, role text
) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT municipality_id = app_municipality_id() AND CASE role
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

-- The tickets a role may read at all (Purpose.DETAIL in access.py): what its lists show, plus
-- any ticket the caller reported (staff record phoned-in reports and follow them up), plus, for
-- admins, a sensitive ticket's detail and history. Policies use this, the widest of the two.
CREATE OR REPLACE FUNCTION app_ticket_visible(
  municipality_id uuid, is_sensitive boolean, ward_id uuid, reporter_id uuid, assigned_team_id uuid, assigned_to uuid,
  user_ward_id uuid, user_team_id uuid, role text
) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT app_ticket_listed(municipality_id, is_sensitive, ward_id, reporter_id, assigned_team_id, assigned_to,
                           user_ward_id, user_team_id, role)
    OR (municipality_id = app_municipality_id() AND (reporter_id = app_user_id() OR app_role() = 'admin'))
$$;

-- The same two for the transaction's role, for callers that do not pass it (the policies on
-- events, follows, photos and notifications, and the tests).
CREATE OR REPLACE FUNCTION app_ticket_listed(
  municipality_id uuid, is_sensitive boolean, ward_id uuid, reporter_id uuid, assigned_team_id uuid, assigned_to uuid,
  user_ward_id uuid, user_team_id uuid
) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT app_ticket_listed(municipality_id, is_sensitive, ward_id, reporter_id, assigned_team_id, assigned_to,
                           user_ward_id, user_team_id, app_role())
$$;
CREATE OR REPLACE FUNCTION app_ticket_visible(
  municipality_id uuid, is_sensitive boolean, ward_id uuid, reporter_id uuid, assigned_team_id uuid, assigned_to uuid,
  user_ward_id uuid, user_team_id uuid
) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT app_ticket_visible(municipality_id, is_sensitive, ward_id, reporter_id, assigned_team_id, assigned_to,
                            user_ward_id, user_team_id, app_role())
$$;

GRANT EXECUTE ON FUNCTION app_can_see_sensitive(), app_user_ward_id(), app_user_team_id(),
  app_ticket_listed(uuid, boolean, uuid, uuid, uuid, uuid, uuid, uuid),
  app_ticket_visible(uuid, boolean, uuid, uuid, uuid, uuid, uuid, uuid),
  app_ticket_listed(uuid, boolean, uuid, uuid, uuid, uuid, uuid, uuid, text),
  app_ticket_visible(uuid, boolean, uuid, uuid, uuid, uuid, uuid, uuid, text) TO khanyisa_app;
