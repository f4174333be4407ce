"""Search and paging with bounded cost: no remembered terms, no search view, list indexes that skip.

Revision ID: 0004
Revises: 0008

* The remembered search terms of 0003 go: `search_terms`, both term tally tables, their
  triggers, functions and advisory lock. A search now counts its matches only up to a cap
  (docs/search-and-paging.md), so nothing has to be kept per term, a read never writes, and a
  ticket write no longer pays one ILIKE per remembered term.
* `tickets_searchable` (0002) goes too: it copied the tickets policies into a view's WHERE
  clause so the trigram indexes could serve a search under row-level security. The visibility
  rule now lives only in the policies and the application's access policy.
* `ticket_search_ids(pattern, narrowed, max_rows)` lets a search use the trigram indexes anyway: it
  returns at most `max_rows` ids of the caller's municipality (app_municipality_id()) whose description or
  tracking number matches the ILIKE `pattern` (escape character `\\`). It runs as the schema
  owner, so the index is usable, but decides nothing about visibility: the caller reads the
  tickets of those ids under row-level security and its own access conditions, which drop what
  it may not see. It never returns another municipality's ids, and an id says nothing about a
  ticket's content beyond the fact that it contains the pattern.
* The list's sort indexes gain INCLUDE (is_sensitive, reporter_id, ward_id, assigned_team_id,
  assigned_to): the visibility policy (src/db/sql/access_rules.sql) reads those columns, so with
  them in the index, skipping to a page (at most 10,000 rows deep) is an index-only scan rather
  than a heap visit per skipped row.
"""

import importlib.util
from pathlib import Path

from alembic import op

revision = "0004"
down_revision = "0008"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"
VISIBLE = "is_sensitive IS FALSE"  # rendered by access.py as `Ticket.is_sensitive.is_(False)`
FIREWALL_COLUMNS = "is_sensitive, reporter_id, ward_id, assigned_team_id, assigned_to"  # the policy's columns

# name -> (key columns, predicate): the list's ordered indexes of 0002, rebuilt with the policy's columns.
LIST_INDEXES = {
    "ix_tickets_list_created": ("municipality_id, created_at, id", VISIBLE),
    "ix_tickets_list_updated": ("municipality_id, updated_at, id", VISIBLE),
    "ix_tickets_list_severity": ("municipality_id, severity_rank, id", VISIBLE),
    "ix_tickets_list_status": ("municipality_id, status_rank, id", VISIBLE),
    "ix_tickets_list_category": ("municipality_id, category, id", VISIBLE),
    "ix_tickets_list_deadline": ("municipality_id, sla_resolution_deadline, id", VISIBLE),
    "ix_tickets_list_status_created": ("municipality_id, status, created_at, id", VISIBLE),
    "ix_tickets_list_category_created": ("municipality_id, category, created_at, id", VISIBLE),
    "ix_tickets_list_team_created": ("municipality_id, assigned_team_id, created_at, id", VISIBLE),
    "ix_tickets_list_assignee_created": ("municipality_id, assigned_to, created_at, id", VISIBLE),
    "ix_tickets_sensitive_created": ("municipality_id, created_at, id", "is_sensitive IS TRUE"),
}

# `narrowed` is a looser pattern the trigram index is asked with (the term's words joined by `%`):
# a phrase's short inner words ("on", "and") make padded trigrams that occur in most tickets, and
# leaving them out made the index several times cheaper for the same candidates. Each candidate is
# then checked against the exact `pattern` (through an expression the index cannot serve), so
# whatever `narrowed` is, only tickets matching `pattern` come back.
SEARCH_IDS = f"""
CREATE FUNCTION ticket_search_ids(pattern text, narrowed text, max_rows integer) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
  SELECT id FROM tickets
  WHERE municipality_id = app_municipality_id()
    AND ((description ILIKE narrowed ESCAPE '\\' AND (description || '') ILIKE pattern ESCAPE '\\')
         OR tracking_number ILIKE pattern ESCAPE '\\')
  LIMIT max_rows
$$;
REVOKE ALL ON FUNCTION ticket_search_ids(text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ticket_search_ids(text, text, integer) TO {APP_ROLE};
"""

DROP_TERMS = """
DROP TRIGGER IF EXISTS search_term_tallies_on_insert ON tickets;
DROP TRIGGER IF EXISTS search_term_tallies_on_update ON tickets;
DROP TRIGGER IF EXISTS search_term_tallies_on_delete ON tickets;
DROP TRIGGER IF EXISTS search_term_tallies_on_truncate ON tickets;
DROP FUNCTION IF EXISTS search_term_tallies_on_insert(), search_term_tallies_on_update(),
  search_term_tallies_on_delete(), search_term_tallies_on_truncate(), search_term_remember(text, integer),
  search_term_tallies_rebuild(), search_term_tallies_drift();
DROP TABLE IF EXISTS search_term_tallies, search_term_status_tallies, search_terms;
"""


def _previous(filename: str):
    """An earlier revision's module, so the downgrade rebuilds exactly what it had built."""
    path = Path(__file__).with_name(filename)
    spec = importlib.util.spec_from_file_location(f"khanyisa_revision_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rebuild_list_indexes(include: str | None) -> None:
    for name, (columns, where) in LIST_INDEXES.items():
        op.execute(f"DROP INDEX IF EXISTS {name};")
        op.execute(
            f"CREATE INDEX {name} ON tickets ({columns}){f' INCLUDE ({include})' if include else ''} WHERE {where};"
        )


def upgrade() -> None:
    op.execute(DROP_TERMS)
    op.execute("DROP VIEW IF EXISTS tickets_searchable;")
    op.execute(SEARCH_IDS)
    _rebuild_list_indexes(FIREWALL_COLUMNS)


def downgrade() -> None:
    _rebuild_list_indexes(None)
    op.execute("DROP FUNCTION IF EXISTS ticket_search_ids(text, text, integer);")
    op.execute(_previous("0002_list_and_dashboard_at_scale.py").SEARCH_VIEW)
    _previous("0003_search_term_tallies.py").upgrade()
