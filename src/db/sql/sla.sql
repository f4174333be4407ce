-- When a ticket has breached a deadline: it was done (responded to, resolved) after the deadline,
-- or it is not done and the moment `at` is past the deadline. With `at` NULL: breached by when it
-- was done alone (what the tally triggers keep, as they cannot know the clock). NULL without a
-- deadline. The one definition used by the dashboard, the export, the sweep and the tallies;
-- src/services/sla.py holds its in-memory twin for a loaded ticket, and a test holds them equal.
CREATE OR REPLACE FUNCTION sla_breached(done_at timestamptz, deadline timestamptz, at timestamptz)
RETURNS boolean LANGUAGE sql IMMUTABLE AS
$$ SELECT coalesce(done_at, at) > deadline $$;

GRANT EXECUTE ON FUNCTION sla_breached(timestamptz, timestamptz, timestamptz) TO khanyisa_app;
