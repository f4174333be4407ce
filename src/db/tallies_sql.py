"""The functions that keep the tallies of migration 0002 (ticket_tallies, ticket_ward_tallies,
ticket_status_tallies, ticket_hours, ticket_deadlines), generated from one declaration.

Migration 0002 created the tables and the first version of these functions; later migrations
apply `tally_functions()` to replace the functions with what this module declares now (the
triggers keep calling them by name). What each table keeps and why: the docstring of 0002.

An SLA deadline counts as missed here by the one definition, `sla_breached` (src/db/sql/sla.sql),
with no moment given: a trigger cannot know the clock, so it keeps the tickets done late, and
the dashboard adds the waiting ones whose deadline has passed at query time.
"""

from collections.abc import Callable

OPEN_SET = "('open','in_progress','escalated')"
WARD_DIMS = ("municipality_id", "ward_id", "category", "status", "severity", "assigned_team_id", "is_sensitive")
MUNICIPAL_DIMS = tuple(d for d in WARD_DIMS if d != "ward_id")
STATUS_DIMS = ("municipality_id", "status", "is_sensitive")
TALLIES = {"ticket_ward_tallies": WARD_DIMS, "ticket_tallies": MUNICIPAL_DIMS, "ticket_status_tallies": STATUS_DIMS}
HOUR_DIMS = ("municipality_id", "is_sensitive", "hour")
HOUR_MEASURES = ("created", "resolved")
DEADLINE_MEASURES = ("open_due", "unresolved_due", "unresponded_due")
BOTH = "r.sla_response_deadline IS NOT NULL AND r.sla_resolution_deadline IS NOT NULL"
DEFINER = "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public"
TRIGGER_DELTAS = {
    "insert": "SELECT 1 AS sign, n.* FROM new_rows n",
    "update": "SELECT 1 AS sign, n.* FROM new_rows n UNION ALL SELECT -1, o.* FROM old_rows o",
    "delete": "SELECT -1 AS sign, o.* FROM old_rows o",
}

Late = Callable[[str, str], str]


def done_late(done_at: str, deadline: str) -> str:
    return f"sla_breached({done_at}, {deadline}, NULL)"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def measures(late: Late = done_late) -> dict[str, str]:
    """Measure name -> its value for one ticket row `r` (summed over the rows of a tally)."""
    return {
        "n": "1",
        "sla_total": _flag(BOTH),
        "sla_response_late": _flag(f"{BOTH} AND {late('r.first_responded_at', 'r.sla_response_deadline')}"),
        "sla_resolution_late": _flag(f"{BOTH} AND {late('r.resolved_at', 'r.sla_resolution_deadline')}"),
        "sla_unresponded": _flag(f"{BOTH} AND r.first_responded_at IS NULL"),
        "sla_unresolved": _flag(f"{BOTH} AND r.resolved_at IS NULL"),
        "with_resolution_deadline": _flag("r.sla_resolution_deadline IS NOT NULL"),
        "responded": _flag("r.first_responded_at IS NOT NULL"),
        "response_seconds": "COALESCE(EXTRACT(EPOCH FROM r.first_responded_at - r.created_at), 0)",
    }


def _aggregate(m: dict[str, str], dims: tuple[str, ...], source: str, signed: bool) -> str:
    """SELECT of dims and summed measures over `source` rows `r` (with a `sign` column when signed),
    ordered by the key: triggers then lock tally rows in one order."""
    sign = "r.sign * " if signed else ""
    sums = [f"sum({sign}{expr}) AS {name}" for name, expr in m.items()]
    keys = ", ".join(f"r.{d}" for d in dims)
    having = " OR ".join(f"sum({sign}{expr}) <> 0" for expr in m.values())
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


def _deadline_rows(source: str, signed: bool) -> str:
    """The waiting tickets per (municipality, sensitivity, UTC hour of the deadline they wait on)."""
    sign = "r.sign" if signed else "1"
    per_row = (
        f"SELECT r.municipality_id, r.is_sensitive, date_trunc('hour', r.sla_resolution_deadline, 'UTC') AS hour, "
        f"{sign} * {_flag(f'r.status IN {OPEN_SET}')} AS open_due, "
        f"{sign} * {_flag(f'{BOTH} AND r.resolved_at IS NULL')} AS unresolved_due, 0 AS unresponded_due "
        f"FROM {source} r WHERE r.sla_resolution_deadline IS NOT NULL "
        f"AND (r.status IN {OPEN_SET} OR ({BOTH} AND r.resolved_at IS NULL)) "
        f"UNION ALL SELECT r.municipality_id, r.is_sensitive, date_trunc('hour', r.sla_response_deadline, 'UTC'), "
        f"0, 0, {sign} FROM {source} r WHERE {BOTH} AND r.first_responded_at IS NULL"
    )
    sums = ", ".join(f"sum({d}) AS {d}" for d in DEADLINE_MEASURES)
    having = " OR ".join(f"sum({d}) <> 0" for d in DEADLINE_MEASURES)
    tail = (f" HAVING {having}" if signed else "") + " ORDER BY 1, 2, 3"
    return f"SELECT municipality_id, is_sensitive, hour, {sums} FROM ({per_row}) d GROUP BY 1, 2, 3{tail}"


def _upsert(table: str, dims: tuple[str, ...], select_sql: str, names: tuple[str, ...]) -> str:
    cols = ", ".join((*dims, *names))
    sets = ", ".join(f"{n} = t.{n} + excluded.{n}" for n in names)
    return f"INSERT INTO {table} AS t ({cols}) {select_sql} ON CONFLICT ON CONSTRAINT uq_{table} DO UPDATE SET {sets}"


def _apply(m: dict[str, str], delta_sql: str) -> str:
    """One statement: the signed rows of the change, folded into every tally table."""
    upserts = [_upsert(t, dims, _aggregate(m, dims, "delta", True), tuple(m)) for t, dims in TALLIES.items()]
    upserts.append(_upsert("ticket_hours", HOUR_DIMS, _hour_rows("delta", True), HOUR_MEASURES))
    last = _upsert("ticket_deadlines", HOUR_DIMS, _deadline_rows("delta", True), DEADLINE_MEASURES)
    ctes = "".join(f",\n  u{i} AS ({u})" for i, u in enumerate(upserts))
    return f"WITH delta AS MATERIALIZED ({delta_sql}){ctes}\n{last};"


def _drift_part(table: str, dims: tuple[str, ...], names: tuple[str, ...], expected_sql: str) -> str:
    keys, vals = ", ".join(dims), ", ".join(names)
    nonzero = " OR ".join(f"{n} <> 0" for n in names)
    return f"""SELECT '{table}'::text, coalesce(s.k, e.k), s.v, e.v FROM
    (SELECT jsonb_build_array({keys}) AS k, jsonb_build_array({vals}) AS v FROM {table} WHERE {nonzero}) s
    FULL JOIN (SELECT jsonb_build_array({keys}) AS k, jsonb_build_array({vals}) AS v FROM ({expected_sql}) x) e
    ON s.k = e.k WHERE s.v IS DISTINCT FROM e.v"""


def tally_functions(late: Late = done_late) -> str:
    """CREATE OR REPLACE of the trigger functions, `ticket_tallies_rebuild()` and `ticket_tallies_drift()`."""
    m = measures(late)
    names = ", ".join(m)
    hours_fresh, due_fresh = _hour_rows("tickets", False), _deadline_rows("tickets", False)
    triggers = "".join(
        f"""
CREATE OR REPLACE FUNCTION ticket_tallies_on_{op}() RETURNS trigger {DEFINER} AS $$
BEGIN
  {_apply(m, delta)}
  RETURN NULL;
END $$;"""
        for op, delta in TRIGGER_DELTAS.items()
    )
    clear = "".join(f"\n  DELETE FROM {t};" for t in (*TALLIES, "ticket_hours", "ticket_deadlines"))
    fill = "".join(
        f"\n  INSERT INTO {t} ({', '.join(dims)}, {names}) {_aggregate(m, dims, 'tickets', False)};"
        for t, dims in TALLIES.items()
    )
    drift = "\n  UNION ALL ".join(
        (
            *(_drift_part(t, dims, tuple(m), _aggregate(m, dims, "tickets", False)) for t, dims in TALLIES.items()),
            _drift_part("ticket_hours", HOUR_DIMS, HOUR_MEASURES, hours_fresh),
            _drift_part("ticket_deadlines", HOUR_DIMS, DEADLINE_MEASURES, due_fresh),
        )
    )
    return f"""{triggers}

CREATE OR REPLACE FUNCTION ticket_tallies_rebuild() RETURNS void LANGUAGE plpgsql
SET search_path = pg_catalog, public AS $$
BEGIN{clear}{fill}
  INSERT INTO ticket_hours (municipality_id, is_sensitive, hour, created, resolved) {hours_fresh};
  INSERT INTO ticket_deadlines (municipality_id, is_sensitive, hour, {", ".join(DEADLINE_MEASURES)}) {due_fresh};
END $$;

CREATE OR REPLACE FUNCTION ticket_tallies_drift() RETURNS TABLE (tally text, key jsonb, stored jsonb, expected jsonb)
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
  {drift}
$$;
"""
