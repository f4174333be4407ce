-- What any signed-in resident of a municipality may know of another resident's report: that an
-- open, non-sensitive report of a category exists near a point, its tracking number, status,
-- creation time and how many follow it. Never its text, reporter or exact position.
--
-- Row-level security shows a citizen only their own reports, so these run as their owner
-- (SECURITY DEFINER) and state the whole rule themselves: the caller's municipality
-- (app_municipality_id(), never a parameter), not sensitive, in the open set. They return only
-- the columns above; src/services/access.py is the one caller.

DROP FUNCTION IF EXISTS app_open_reports_near(varchar, double precision, double precision, double precision, integer);
CREATE FUNCTION app_open_reports_near(
  p_category varchar, p_latitude double precision, p_longitude double precision, p_radius_m double precision,
  p_limit integer)
RETURNS TABLE (id uuid, tracking_number varchar, category varchar, status varchar, distance_m double precision,
               created_at timestamptz, followers integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT t.id, t.tracking_number, t.category, t.status, d.distance_m, t.created_at, t.followers
  FROM tickets t
  -- haversine on a sphere of the Earth's mean radius: within a metre at these distances
  CROSS JOIN LATERAL (SELECT 2 * 6371008.8 * asin(least(1, sqrt(
      sin(radians(t.latitude - p_latitude) / 2) ^ 2
      + cos(radians(p_latitude)) * cos(radians(t.latitude)) * sin(radians(t.longitude - p_longitude) / 2) ^ 2)))
    AS distance_m) d
  WHERE t.municipality_id = app_municipality_id()
    AND t.is_sensitive IS FALSE
    AND t.status IN ('open', 'in_progress', 'escalated')
    AND t.category = p_category
    -- a box around the circle first, so the index narrows the rows before any trigonometry
    AND t.latitude BETWEEN p_latitude - p_radius_m / 111000.0 AND p_latitude + p_radius_m / 111000.0
    AND t.longitude BETWEEN p_longitude - p_radius_m / (111000.0 * greatest(cos(radians(p_latitude)), 0.01))
                        AND p_longitude + p_radius_m / (111000.0 * greatest(cos(radians(p_latitude)), 0.01))
    AND d.distance_m <= p_radius_m
  ORDER BY d.distance_m, t.id
  LIMIT p_limit
$$;

-- One report by id, if a resident may follow it (same rule, no position): its status decides.
DROP FUNCTION IF EXISTS app_followable_ticket(uuid);
CREATE FUNCTION app_followable_ticket(p_id uuid)
RETURNS TABLE (id uuid, status varchar, reporter_id uuid, followers integer)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT t.id, t.status, t.reporter_id, t.followers FROM tickets t
  WHERE t.id = p_id AND t.municipality_id = app_municipality_id() AND t.is_sensitive IS FALSE
$$;

REVOKE ALL ON FUNCTION app_open_reports_near(varchar, double precision, double precision, double precision, integer),
  app_followable_ticket(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app_open_reports_near(varchar, double precision, double precision, double precision, integer),
  app_followable_ticket(uuid) TO khanyisa_app;

-- The followers count on tickets, kept by the follow rows. A citizen cannot update a ticket
-- they did not report (row-level security), so the count is kept as the owner.
CREATE OR REPLACE FUNCTION ticket_followers_count() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE tickets SET followers = followers + 1 WHERE id = NEW.ticket_id;
  ELSE
    UPDATE tickets SET followers = followers - 1 WHERE id = OLD.ticket_id;
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION ticket_followers_count() FROM PUBLIC;
DROP TRIGGER IF EXISTS ticket_followers_count ON ticket_followers;
CREATE TRIGGER ticket_followers_count AFTER INSERT OR DELETE ON ticket_followers
  FOR EACH ROW EXECUTE FUNCTION ticket_followers_count();
