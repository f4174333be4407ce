"""The ticket list and the dashboard at scale: indexes, tallies kept by triggers, trigram search.

Revision ID: 0002
Revises: 0001

Why each piece exists (figures in bench/README.md):

* Tallies. The list's exact `total` and the dashboard figures would otherwise count hundreds of
  thousands of rows per request. `ticket_ward_tallies` holds, for every combination of the
  columns the list and the dashboard filter on by equality, the count and the sums the figures
  need; `ticket_tallies` (without the ward) and `ticket_status_tallies` (status and sensitivity
  only) hold the same at coarser grains, so a question reads the fewest rows that answer it. Statement-level triggers on `tickets` add
  the new rows' contribution and subtract the old rows', so the tallies are exact after every
  committed statement, whoever writes (the API, the sweep, a direct UPDATE). Rows are upserted
  in key order, so two transactions never lock the same tally rows in opposite orders.
  `ticket_hours` counts tickets created and resolved per UTC hour: the trend chart and the
  skipping of deep list pages read it. `ticket_deadlines` is a histogram of the open backlog by
  the UTC hour of the deadline each ticket waits on.
* The time-dependent parts of the SLA figures (a deadline passing while a ticket waits) cannot
  be kept by triggers; they come at query time from the backlog only: the deadline histogram
  for whole hours ahead, and the partial `ix_tickets_backlog_*` indexes for the current hour
  (or for a ward), so the cost follows the backlog, not the history.
* Every index leads with municipality_id and is partial on `is_sensitive IS FALSE` (the exact
  form access.py writes, so the planner matches it). INCLUDE (is_sensitive, reporter_id) lets
  index-only scans evaluate the row-level-security firewall without visiting the heap.
* Search. Under row-level security PostgreSQL will not use an index for a non-leakproof
  condition such as ILIKE, so a trigram index on `tickets` would never be used by the app role.
  `tickets_searchable` is a view owned by the schema owner that applies exactly the two
  `tickets` policies of 0001 (tenant, sensitive firewall) in its WHERE clause; the app role
  searches through it, and the planner may use the trigram indexes. Change it together with
  the policies. pg_trgm is optional (the embedded server lacks it): without it the same
  queries run as scans and give identical results.
* `ticket_tallies_rebuild()` recomputes every tally from the tickets (bulk loads run with
  triggers off and call it once); `ticket_tallies_drift()` lists any difference between the
  tallies and a fresh aggregate (empty = consistent).
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"
OPEN_SET = "('open','in_progress','escalated')"
VISIBLE = "is_sensitive IS FALSE"  # rendered by access.py as `Ticket.is_sensitive.is_(False)`
FIREWALL_COLUMNS = "is_sensitive, reporter_id"

WARD_DIMS = ("municipality_id", "ward_id", "category", "status", "severity", "assigned_team_id", "is_sensitive")
MUNICIPAL_DIMS = tuple(d for d in WARD_DIMS if d != "ward_id")
STATUS_DIMS = ("municipality_id", "status", "is_sensitive")
# The same measures at three grains; a question reads the smallest that keys all it asks.
TALLIES = {"ticket_ward_tallies": WARD_DIMS, "ticket_tallies": MUNICIPAL_DIMS, "ticket_status_tallies": STATUS_DIMS}
BOTH = "r.sla_response_deadline IS NOT NULL AND r.sla_resolution_deadline IS NOT NULL"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


# Measure name -> its value for one ticket row `r` (summed over the rows of a tally).
MEASURES = {
    "n": "1",
    "sla_total": _flag(BOTH),
    "sla_response_late": _flag(f"{BOTH} AND r.first_responded_at > r.sla_response_deadline"),
    "sla_resolution_late": _flag(f"{BOTH} AND r.resolved_at > r.sla_resolution_deadline"),
    "sla_unresponded": _flag(f"{BOTH} AND r.first_responded_at IS NULL"),
    "sla_unresolved": _flag(f"{BOTH} AND r.resolved_at IS NULL"),
    "with_resolution_deadline": _flag("r.sla_resolution_deadline IS NOT NULL"),
    "responded": _flag("r.first_responded_at IS NOT NULL"),
    "response_seconds": "COALESCE(EXTRACT(EPOCH FROM r.first_responded_at - r.created_at), 0)",
}
HOUR_MEASURES = ("created", "resolved")
HOUR_DIMS = ("municipality_id", "is_sensitive", "hour")
HOUR_TABLES = ("ticket_hours", "ticket_deadlines")


def _tally_table(name: str, dims: tuple[str, ...]) -> str:
    types = {
        "municipality_id": "uuid NOT NULL REFERENCES municipalities(id)",
        "ward_id": "uuid",
        "category": "varchar(20) NOT NULL",
        "status": "varchar(20) NOT NULL",
        "severity": "varchar(10) NOT NULL",
        "assigned_team_id": "uuid",
        "is_sensitive": "boolean NOT NULL",
    }
    cols = [f"{d} {types[d]}" for d in dims]
    cols += [f"{m} {'numeric' if m == 'response_seconds' else 'bigint'} NOT NULL DEFAULT 0" for m in MEASURES]
    return (
        f"CREATE TABLE {name} (\n  "
        + ",\n  ".join(cols)
        + f",\n  CONSTRAINT uq_{name} UNIQUE NULLS NOT DISTINCT ({', '.join(dims)})\n);"
    )


def _aggregate(dims: tuple[str, ...], source: str, signed: bool) -> str:
    """SELECT of dims and summed measures over `source` rows `r` (with a `sign` column when signed).

    Ordered by the key: triggers then lock tally rows in one order, and a rebuild lays a
    municipality's rows out together.
    """
    sign = "r.sign * " if signed else ""
    sums = [f"sum({sign}{expr}) AS {m}" for m, expr in MEASURES.items()]
    keys = ", ".join(f"r.{d}" for d in dims)
    having = " OR ".join(f"sum({sign}{expr}) <> 0" for expr in MEASURES.values())
    return (
        f"SELECT {keys}, {', '.join(sums)} FROM {source} r GROUP BY {keys}"
        + (f" HAVING {having}" if signed else "")
        + f" ORDER BY {keys}"
    )


def _hour_rows(source: str, signed: bool) -> str:
    """Per (municipality, sensitivity, UTC hour): tickets created and tickets resolved in it."""
    sign = "r.sign" if signed else "1"
    per_row = (
        f"SELECT r.municipality_id, r.is_sensitive, date_trunc('hour', r.created_at, 'UTC') AS hour, "
        f"{sign} AS created, 0 AS resolved FROM {source} r "
        f"UNION ALL SELECT r.municipality_id, r.is_sensitive, date_trunc('hour', r.resolved_at, 'UTC'), "
        f"0, {sign} FROM {source} r WHERE r.resolved_at IS NOT NULL"
    )
    tail = (" HAVING sum(created) <> 0 OR sum(resolved) <> 0" if signed else "") + " ORDER BY 1, 2, 3"
    return (
        f"SELECT municipality_id, is_sensitive, hour, sum(created) AS created, sum(resolved) AS resolved "
        f"FROM ({per_row}) h GROUP BY 1, 2, 3{tail}"
    )


DEADLINE_MEASURES = ("open_due", "unresolved_due", "unresponded_due")


def _deadline_rows(source: str, signed: bool) -> str:
    """The waiting tickets per (municipality, sensitivity, UTC hour of the deadline they wait on).

    open_due: open-set tickets by resolution deadline; unresolved_due: tickets with both deadlines
    and no resolution, by resolution deadline; unresponded_due: tickets with both deadlines and no
    response, by response deadline. Settled tickets add no rows, so the table follows the backlog.
    """
    sign = "r.sign" if signed else "1"
    both = BOTH
    per_row = (
        f"SELECT r.municipality_id, r.is_sensitive, date_trunc('hour', r.sla_resolution_deadline, 'UTC') AS hour, "
        f"{sign} * {_flag(f'r.status IN {OPEN_SET}')} AS open_due, "
        f"{sign} * {_flag(f'{both} AND r.resolved_at IS NULL')} AS unresolved_due, 0 AS unresponded_due "
        f"FROM {source} r WHERE r.sla_resolution_deadline IS NOT NULL "
        f"AND (r.status IN {OPEN_SET} OR ({both} AND r.resolved_at IS NULL)) "
        f"UNION ALL SELECT r.municipality_id, r.is_sensitive, date_trunc('hour', r.sla_response_deadline, 'UTC'), "
        f"0, 0, {sign} FROM {source} r WHERE {both} AND r.first_responded_at IS NULL"
    )
    sums = ", ".join(f"sum({m}) AS {m}" for m in DEADLINE_MEASURES)
    having = " OR ".join(f"sum({m}) <> 0" for m in DEADLINE_MEASURES)
    tail = (f" HAVING {having}" if signed else "") + " ORDER BY 1, 2, 3"
    return f"SELECT municipality_id, is_sensitive, hour, {sums} FROM ({per_row}) d GROUP BY 1, 2, 3{tail}"


def _upsert(table: str, dims: tuple[str, ...], select_sql: str, measures: tuple[str, ...]) -> str:
    cols = ", ".join((*dims, *measures))
    sets = ", ".join(f"{m} = t.{m} + excluded.{m}" for m in measures)
    return f"INSERT INTO {table} AS t ({cols}) {select_sql} ON CONFLICT ON CONSTRAINT uq_{table} DO UPDATE SET {sets}"


def _apply(delta_sql: str) -> str:
    """One statement: the signed rows of the change, folded into every tally table."""
    upserts = [_upsert(t, dims, _aggregate(dims, "delta", True), tuple(MEASURES)) for t, dims in TALLIES.items()]
    upserts.append(_upsert("ticket_hours", HOUR_DIMS, _hour_rows("delta", True), HOUR_MEASURES))
    last = _upsert("ticket_deadlines", HOUR_DIMS, _deadline_rows("delta", True), DEADLINE_MEASURES)
    ctes = "".join(f",\n  u{i} AS ({u})" for i, u in enumerate(upserts))
    return f"WITH delta AS MATERIALIZED ({delta_sql}){ctes}\n{last};"


TRIGGER_DELTAS = {
    "insert": "SELECT 1 AS sign, n.* FROM new_rows n",
    "update": "SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o",
    "delete": "SELECT -1 AS sign, o.* FROM old_rows o",
}
TRIGGER_REFERENCING = {
    "insert": "REFERENCING NEW TABLE AS new_rows",
    "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "delete": "REFERENCING OLD TABLE AS old_rows",
}
DEFINER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public"


def _trigger(op_name: str) -> str:
    fn = f"ticket_tallies_on_{op_name}"
    return f"""
CREATE FUNCTION {fn}() RETURNS trigger {DEFINER} AS $$
BEGIN
  {_apply(TRIGGER_DELTAS[op_name])}
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION {fn}() FROM PUBLIC;
CREATE TRIGGER {fn} AFTER {op_name.upper()} ON tickets {TRIGGER_REFERENCING[op_name]}
  FOR EACH STATEMENT EXECUTE FUNCTION {fn}();"""


def _drift_part(table: str, dims: tuple[str, ...], measures: tuple[str, ...], expected_sql: str) -> str:
    keys = ", ".join(dims)
    vals = ", ".join(measures)
    nonzero = " OR ".join(f"{m} <> 0" for m in measures)
    return f"""SELECT '{table}'::text, coalesce(s.k, e.k), s.v, e.v FROM
    (SELECT jsonb_build_array({keys}) AS k, jsonb_build_array({vals}) AS v FROM {table} WHERE {nonzero}) s
    FULL JOIN (SELECT jsonb_build_array({keys}) AS k, jsonb_build_array({vals}) AS v FROM ({expected_sql}) x) e
    ON s.k = e.k WHERE s.v IS DISTINCT FROM e.v"""


def _functions() -> str:
    hours_fresh = _hour_rows("tickets", False)
    due_fresh = _deadline_rows("tickets", False)
    m = ", ".join(MEASURES)
    drift = "\n  UNION ALL ".join(
        (
            *(_drift_part(t, dims, tuple(MEASURES), _aggregate(dims, "tickets", False)) for t, dims in TALLIES.items()),
            _drift_part("ticket_hours", HOUR_DIMS, HOUR_MEASURES, hours_fresh),
            _drift_part("ticket_deadlines", HOUR_DIMS, DEADLINE_MEASURES, due_fresh),
        )
    )
    clear = "".join(f"\n  DELETE FROM {t};" for t in (*TALLIES, *HOUR_TABLES))
    fill = "".join(
        f"\n  INSERT INTO {t} ({', '.join(dims)}, {m}) {_aggregate(dims, 'tickets', False)};"
        for t, dims in TALLIES.items()
    )
    return f"""
CREATE FUNCTION ticket_tallies_on_truncate() RETURNS trigger {DEFINER} AS $$
BEGIN{clear}
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION ticket_tallies_on_truncate() FROM PUBLIC;
CREATE TRIGGER ticket_tallies_on_truncate AFTER TRUNCATE ON tickets
  FOR EACH STATEMENT EXECUTE FUNCTION ticket_tallies_on_truncate();

-- Recompute every tally from the tickets: after a bulk load made with triggers disabled.
CREATE FUNCTION ticket_tallies_rebuild() RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN{clear}{fill}
  INSERT INTO ticket_hours (municipality_id, is_sensitive, hour, created, resolved) {hours_fresh};
  INSERT INTO ticket_deadlines (municipality_id, is_sensitive, hour, {", ".join(DEADLINE_MEASURES)}) {due_fresh};
END $$;
REVOKE ALL ON FUNCTION ticket_tallies_rebuild() FROM PUBLIC;

-- Every difference between the stored tallies and a fresh aggregate of the tickets (none = consistent).
CREATE FUNCTION ticket_tallies_drift() RETURNS TABLE (tally text, key jsonb, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  {drift}
$$;
REVOKE ALL ON FUNCTION ticket_tallies_drift() FROM PUBLIC;
"""


def _index(name: str, columns: str, where: str, include: str | None = None) -> str:
    inc = f" INCLUDE ({include})" if include else ""
    return f"CREATE INDEX {name} ON tickets ({columns}){inc} WHERE {where};"


INDEXES = [
    # The list: one index per sort key (ties by id), and the common equality filters with the default sort.
    _index("ix_tickets_list_created", "municipality_id, created_at, id", VISIBLE),
    _index("ix_tickets_list_updated", "municipality_id, updated_at, id", VISIBLE),
    _index("ix_tickets_list_severity", "municipality_id, severity_rank, id", VISIBLE),
    _index("ix_tickets_list_status", "municipality_id, status_rank, id", VISIBLE),
    _index("ix_tickets_list_category", "municipality_id, category, id", VISIBLE),
    _index("ix_tickets_list_deadline", "municipality_id, sla_resolution_deadline, id", VISIBLE),
    _index("ix_tickets_list_status_created", "municipality_id, status, created_at, id", VISIBLE),
    _index("ix_tickets_list_category_created", "municipality_id, category, created_at, id", VISIBLE),
    _index("ix_tickets_list_ward_created", "municipality_id, ward_id, created_at, id", VISIBLE, FIREWALL_COLUMNS),
    _index("ix_tickets_list_team_created", "municipality_id, assigned_team_id, created_at, id", VISIBLE),
    _index("ix_tickets_list_assignee_created", "municipality_id, assigned_to, created_at, id", VISIBLE),
    # SAPS liaisons' list: the sensitive tickets only (about 2 %).
    _index("ix_tickets_sensitive_created", "municipality_id, created_at, id", "is_sensitive IS TRUE"),
    # The open backlog, by the deadline still to come: the time-dependent SLA figures.
    # (An unresolved ticket is always in the open set, by the resolved_has_time constraint, so this one
    # index also counts the unresolved tickets whose resolution deadline is ahead.)
    _index(
        "ix_tickets_backlog_open",
        "municipality_id, sla_resolution_deadline",
        f"status IN {OPEN_SET} AND {VISIBLE}",
        f"ward_id, resolved_at, sla_response_deadline, {FIREWALL_COLUMNS}",
    ),
    _index(
        "ix_tickets_backlog_unresponded",
        "municipality_id, sla_response_deadline",
        f"first_responded_at IS NULL AND sla_resolution_deadline IS NOT NULL AND {VISIBLE}",
        f"ward_id, {FIREWALL_COLUMNS}",
    ),
    # Trends by ward (the municipality-wide trend reads ticket_hours).
    _index(
        "ix_tickets_trend_resolved",
        "municipality_id, resolved_at",
        f"resolved_at IS NOT NULL AND {VISIBLE}",
        f"ward_id, {FIREWALL_COLUMNS}",
    ),
]

TRIGRAM = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE NOTICE 'pg_trgm is available but may not be created here: search will scan';
      RETURN;
    END;
    -- Trigram GIN indexes cannot lead with municipality_id without btree_gin; per-municipality
    -- partitions would each carry their own.
    EXECUTE 'CREATE INDEX ix_tickets_search_description ON tickets USING gin (description gin_trgm_ops)';
    EXECUTE 'CREATE INDEX ix_tickets_search_tracking ON tickets USING gin (tracking_number gin_trgm_ops)';
  END IF;
END $$;
"""

SEARCH_VIEW = f"""
-- The 0001 policies on tickets, as a WHERE clause: the app role searches through this view.
CREATE VIEW tickets_searchable AS
  SELECT * FROM tickets
  WHERE municipality_id = app_municipality_id()
    AND (NOT is_sensitive OR app_role() IN ('admin', 'saps_liaison') OR reporter_id = app_user_id());
GRANT SELECT ON tickets_searchable TO {APP_ROLE};
"""


def _security() -> str:
    parts = []
    for t in (*TALLIES, *HOUR_TABLES):
        parts.append(
            f"""ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON {t} USING (municipality_id = app_municipality_id())
  WITH CHECK (municipality_id = app_municipality_id());
GRANT SELECT ON {t} TO {APP_ROLE};"""
        )
    return "\n".join(parts)


def upgrade() -> None:
    for table, dims in TALLIES.items():
        op.execute(_tally_table(table, dims))
    for table, measures in (("ticket_hours", HOUR_MEASURES), ("ticket_deadlines", DEADLINE_MEASURES)):
        columns = "".join(f"  {m} bigint NOT NULL DEFAULT 0,\n" for m in measures)
        op.execute(
            f"""CREATE TABLE {table} (
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  is_sensitive boolean NOT NULL,
  hour timestamptz NOT NULL,
{columns}  CONSTRAINT uq_{table} UNIQUE (municipality_id, is_sensitive, hour)
);"""
        )
    op.execute(_security())
    for name in TRIGGER_DELTAS:
        op.execute(_trigger(name))
    op.execute(_functions())
    op.execute("SELECT ticket_tallies_rebuild();")
    for statement in INDEXES:
        op.execute(statement)
    op.execute(TRIGRAM)
    op.execute(SEARCH_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS tickets_searchable;")
    op.execute("DROP INDEX IF EXISTS ix_tickets_search_description, ix_tickets_search_tracking;")
    for statement in INDEXES:
        name = statement.split()[2]
        op.execute(f"DROP INDEX IF EXISTS {name};")
    for name in (*TRIGGER_DELTAS, "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS ticket_tallies_on_{name} ON tickets;")
        op.execute(f"DROP FUNCTION IF EXISTS ticket_tallies_on_{name}();")
    op.execute("DROP FUNCTION IF EXISTS ticket_tallies_rebuild(), ticket_tallies_drift();")
    op.execute(f"DROP TABLE IF EXISTS {', '.join((*HOUR_TABLES, *TALLIES))};")
