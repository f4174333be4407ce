-- The row-level-security policies of every table holding ticket data. Each table also keeps its
-- permissive `tenant` policy (municipality_id = app_municipality_id(), migration 0001/0002);
-- the restrictive policies below narrow it by the rule of access_rules.sql, never by a copy.

DROP POLICY IF EXISTS sensitive_firewall ON tickets;
DROP POLICY IF EXISTS visibility ON tickets;
CREATE POLICY visibility ON tickets AS RESTRICTIVE USING (
  app_ticket_visible(municipality_id, is_sensitive, ward_id, reporter_id, assigned_team_id, assigned_to,
                     (SELECT app_user_ward_id()), (SELECT app_user_team_id()), (SELECT app_role())));

-- An event is readable (and writable) exactly when its ticket is.
DROP POLICY IF EXISTS sensitive_firewall ON ticket_events;
DROP POLICY IF EXISTS visibility ON ticket_events;
CREATE POLICY visibility ON ticket_events AS RESTRICTIVE USING (
  EXISTS (SELECT 1 FROM tickets t
          WHERE t.municipality_id = ticket_events.municipality_id AND t.id = ticket_events.ticket_id
            AND app_ticket_visible(t.municipality_id, t.is_sensitive, t.ward_id, t.reporter_id,
                                   t.assigned_team_id, t.assigned_to,
                                   (SELECT app_user_ward_id()), (SELECT app_user_team_id()))));

-- The tallies kept by triggers (migration 0002) hold counts per sensitivity: their GBV rows are
-- for the roles whose lists show sensitive tickets, and no one else.
DROP POLICY IF EXISTS sensitive_counts ON ticket_tallies;
CREATE POLICY sensitive_counts ON ticket_tallies AS RESTRICTIVE USING (NOT is_sensitive OR app_can_see_sensitive());
DROP POLICY IF EXISTS sensitive_counts ON ticket_ward_tallies;
CREATE POLICY sensitive_counts ON ticket_ward_tallies AS RESTRICTIVE USING (NOT is_sensitive OR app_can_see_sensitive());
DROP POLICY IF EXISTS sensitive_counts ON ticket_status_tallies;
CREATE POLICY sensitive_counts ON ticket_status_tallies AS RESTRICTIVE USING (NOT is_sensitive OR app_can_see_sensitive());
DROP POLICY IF EXISTS sensitive_counts ON ticket_hours;
CREATE POLICY sensitive_counts ON ticket_hours AS RESTRICTIVE USING (NOT is_sensitive OR app_can_see_sensitive());
DROP POLICY IF EXISTS sensitive_counts ON ticket_deadlines;
CREATE POLICY sensitive_counts ON ticket_deadlines AS RESTRICTIVE USING (NOT is_sensitive OR app_can_see_sensitive());
