"""Exact search totals at scale: ticket counts per remembered search term, kept by triggers.

Revision ID: 0003
Revises: 0002

A search is a case-insensitive substring of the tracking number or the description, and its
`total` must be exact. Counting the matches of a common word reads every matching ticket, so
the cost would grow with the history. Instead a municipality *remembers* the search terms that
match many tickets (the application asks for it after counting one the slow way):

* `search_terms` holds the remembered terms with the ILIKE pattern the list uses for each (the
  same escaping of `%`, `_` and `\\` as src/services/read_model/ticket_query.escape_like), at most a
  fixed number per municipality (the oldest is forgotten first).
* `search_term_tallies` holds, per term, the number of matching tickets for every combination
  of the columns the list filters on by equality (ward, category, status, severity, team,
  sensitivity); `search_term_status_tallies` holds the same by status and sensitivity only.
  Statement-level triggers on `tickets` add the new rows' matches and subtract the old rows',
  exactly like the tallies of 0002, so the counts are exact after every committed statement.
* `search_term_remember(term, keep)` adds a term for the caller's municipality and counts its
  matches once. It takes an exclusive advisory lock on the municipality; every statement
  writing tickets takes the same lock shared, in its trigger, before reading the terms. So a
  term is either counted by the remembering scan (which sees every write that committed
  before it) or added to by the writer's trigger (which sees the term once it is committed),
  never both and never neither. Writes of that municipality wait while a term is counted; the
  search never waits for a write: when the lock is not free at once, the term is not
  remembered this time (false).
* Row-level security: the tenant policy on all three tables, and on the tallies the
  sensitivity firewall of `tickets` (GBV counts only for admins and SAPS liaisons).
* `search_term_tallies_rebuild()` recounts every remembered term (bulk loads run with triggers
  off); `search_term_tallies_drift()` lists any difference from a fresh count (none = exact).
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"
LOCK_CLASS = 7301  # advisory lock class of search-term changes; the key is the municipality's hash
MAX_TERM = 200  # = schemas.ticket_query.MAX_SEARCH
DIMS = ("municipality_id", "term", "ward_id", "category", "status", "severity", "assigned_team_id", "is_sensitive")
STATUS_DIMS = ("municipality_id", "term", "status", "is_sensitive")
TALLIES = {"search_term_tallies": DIMS, "search_term_status_tallies": STATUS_DIMS}
MATCHES = "(r.tracking_number ILIKE s.pattern ESCAPE '\\' OR r.description ILIKE s.pattern ESCAPE '\\')"
DEFINER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public"

TYPES = {
    "municipality_id": "uuid NOT NULL",
    "term": "text NOT NULL",
    "ward_id": "uuid",
    "category": "varchar(20) NOT NULL",
    "status": "varchar(20) NOT NULL",
    "severity": "varchar(10) NOT NULL",
    "assigned_team_id": "uuid",
    "is_sensitive": "boolean NOT NULL",
}


def _table(name: str, dims: tuple[str, ...]) -> str:
    cols = ",\n  ".join(f"{d} {TYPES[d]}" for d in dims)
    return f"""CREATE TABLE {name} (
  {cols},
  n bigint NOT NULL DEFAULT 0,
  CONSTRAINT uq_{name} UNIQUE NULLS NOT DISTINCT ({", ".join(dims)}),
  FOREIGN KEY (municipality_id, term) REFERENCES search_terms (municipality_id, term) ON DELETE CASCADE
);"""


def _matches_by(dims: tuple[str, ...], source: str, signed: bool, where: str = "true") -> str:
    """Per key of `dims`: the (signed) number of `source` rows `r` matching each remembered term `s`."""
    keys = ", ".join("s.term" if d == "term" else f"r.{d}" for d in dims)
    total = "sum(r.sign)" if signed else "count(*)"
    having = f" HAVING {total} <> 0" if signed else ""
    return (
        f"SELECT {keys}, {total} FROM {source} r JOIN search_terms s ON s.municipality_id = r.municipality_id"
        f" WHERE {where} AND {MATCHES} GROUP BY {keys}{having} ORDER BY {keys}"
    )


def _upsert(table: str, dims: tuple[str, ...], select_sql: str) -> str:
    return (
        f"INSERT INTO {table} AS t ({', '.join(dims)}, n) {select_sql}"
        f" ON CONFLICT ON CONSTRAINT uq_{table} DO UPDATE SET n = t.n + excluded.n"
    )


DELTAS = {
    "insert": ("new_rows", "SELECT 1 AS sign, n.* FROM new_rows n"),
    "update": ("new_rows", "SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o"),
    "delete": ("old_rows", "SELECT -1 AS sign, o.* FROM old_rows o"),
}
REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}


def _trigger(op_name: str) -> str:
    fn = f"search_term_tallies_on_{op_name}"
    rows, delta = DELTAS[op_name]
    upserts = [_upsert(t, dims, _matches_by(dims, "delta", True)) for t, dims in TALLIES.items()]
    # The lock first, in its own statement: the statements after it see every term committed before it.
    return f"""
CREATE FUNCTION {fn}() RETURNS trigger {DEFINER} AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared({LOCK_CLASS}, hashtext(m::text))
    FROM (SELECT DISTINCT municipality_id AS m FROM {rows}) x;
  IF NOT EXISTS (SELECT 1 FROM search_terms s WHERE s.municipality_id IN (SELECT municipality_id FROM {rows})) THEN
    RETURN NULL;
  END IF;
  WITH delta AS MATERIALIZED ({delta}),
    u0 AS ({upserts[0]})
  {upserts[1]};
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION {fn}() FROM PUBLIC;
CREATE TRIGGER {fn} AFTER {op_name.upper()} ON tickets {REFERENCING[op_name]}
  FOR EACH STATEMENT EXECUTE FUNCTION {fn}();"""


def _count_term(table: str, dims: tuple[str, ...], where: str) -> str:
    return f"INSERT INTO {table} ({', '.join(dims)}, n) {_matches_by(dims, 'tickets', False, where)};"


def _status_from_full(where: str) -> str:
    keys = ", ".join(STATUS_DIMS)
    return (
        f"INSERT INTO search_term_status_tallies ({keys}, n) SELECT {keys}, sum(n) FROM search_term_tallies"
        f" WHERE {where} GROUP BY {keys} ORDER BY {keys};"
    )


def _drift_part(table: str, dims: tuple[str, ...]) -> str:
    keys = ", ".join(dims)
    expected = _matches_by(dims, "tickets", False)
    return f"""SELECT '{table}'::text, coalesce(s.k, e.k), s.v, e.v FROM
    (SELECT jsonb_build_array({keys}) AS k, n AS v FROM {table} WHERE n <> 0) s
    FULL JOIN (SELECT jsonb_build_array({keys}) AS k, x.count AS v FROM ({expected}) x) e
    ON s.k = e.k WHERE s.v IS DISTINCT FROM e.v"""


FUNCTIONS = f"""
CREATE FUNCTION search_term_tallies_on_truncate() RETURNS trigger {DEFINER} AS $$
BEGIN
  DELETE FROM search_term_status_tallies;
  DELETE FROM search_term_tallies;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION search_term_tallies_on_truncate() FROM PUBLIC;
CREATE TRIGGER search_term_tallies_on_truncate AFTER TRUNCATE ON tickets
  FOR EACH STATEMENT EXECUTE FUNCTION search_term_tallies_on_truncate();

-- Remember a search term of the caller's municipality and count its matches; false when it was
-- known already or a write of the municipality is in flight.
CREATE FUNCTION search_term_remember(p_term text, p_keep integer) RETURNS boolean {DEFINER} AS $$
DECLARE
  m uuid := app_municipality_id();
BEGIN
  IF m IS NULL OR p_term IS NULL OR length(p_term) NOT BETWEEN 1 AND {MAX_TERM} OR p_keep IS NULL OR p_keep < 1 THEN
    RAISE EXCEPTION 'search_term_remember: no municipality, or a term or limit out of range' USING ERRCODE = '22023';
  END IF;
  IF NOT pg_try_advisory_xact_lock({LOCK_CLASS}, hashtext(m::text)) THEN
    RETURN false;  -- a write is in flight: a search never waits for one; a later search remembers the term
  END IF;
  IF EXISTS (SELECT 1 FROM search_terms WHERE municipality_id = m AND term = p_term) THEN
    RETURN false;
  END IF;
  DELETE FROM search_terms WHERE municipality_id = m AND term IN (
    SELECT term FROM search_terms WHERE municipality_id = m ORDER BY remembered_at DESC, term OFFSET p_keep - 1);
  INSERT INTO search_terms (municipality_id, term, pattern)
    VALUES (m, p_term, '%' || replace(replace(replace(p_term, '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%');
  {_count_term("search_term_tallies", DIMS, "r.municipality_id = m AND s.term = p_term")}
  {_status_from_full("municipality_id = m AND term = p_term")}
  RETURN true;
END $$;
REVOKE ALL ON FUNCTION search_term_remember(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_term_remember(text, integer) TO {APP_ROLE};

-- Count every remembered term again from the tickets: after a bulk load made with triggers off.
CREATE FUNCTION search_term_tallies_rebuild() RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
  DELETE FROM search_term_status_tallies;
  DELETE FROM search_term_tallies;
  {_count_term("search_term_tallies", DIMS, "true")}
  {_status_from_full("true")}
END $$;
REVOKE ALL ON FUNCTION search_term_tallies_rebuild() FROM PUBLIC;

-- Every difference between the stored term counts and a fresh count (none = exact).
CREATE FUNCTION search_term_tallies_drift() RETURNS TABLE (tally text, key jsonb, stored bigint, expected bigint)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  {_drift_part("search_term_tallies", DIMS)}
  UNION ALL {_drift_part("search_term_status_tallies", STATUS_DIMS)}
$$;
REVOKE ALL ON FUNCTION search_term_tallies_drift() FROM PUBLIC;
"""

FIREWALL = "NOT is_sensitive OR app_role() IN ('admin', 'saps_liaison')"


def _security() -> str:
    parts = []
    for t in ("search_terms", *TALLIES):
        parts.append(
            f"""ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON {t} USING (municipality_id = app_municipality_id())
  WITH CHECK (municipality_id = app_municipality_id());
GRANT SELECT ON {t} TO {APP_ROLE};"""
        )
    for t in TALLIES:
        parts.append(f"CREATE POLICY sensitive_firewall ON {t} AS RESTRICTIVE USING ({FIREWALL});")
    return "\n".join(parts)


def upgrade() -> None:
    op.execute(
        f"""CREATE TABLE search_terms (
  municipality_id uuid NOT NULL REFERENCES municipalities(id) ON DELETE CASCADE,
  term text NOT NULL CHECK (length(term) BETWEEN 1 AND {MAX_TERM}),
  pattern text NOT NULL,
  remembered_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (municipality_id, term)
);"""
    )
    for table, dims in TALLIES.items():
        op.execute(_table(table, dims))
    op.execute(_security())
    for name in DELTAS:
        op.execute(_trigger(name))
    op.execute(FUNCTIONS)


def downgrade() -> None:
    for name in (*DELTAS, "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS search_term_tallies_on_{name} ON tickets;")
        op.execute(f"DROP FUNCTION IF EXISTS search_term_tallies_on_{name}();")
    op.execute(
        "DROP FUNCTION IF EXISTS search_term_remember(text, integer), search_term_tallies_rebuild(), "
        "search_term_tallies_drift();"
    )
    op.execute(f"DROP TABLE IF EXISTS {', '.join(TALLIES)}, search_terms;")
