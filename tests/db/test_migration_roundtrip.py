"""The visibility migration is reversible: down to its parent restores the policies it replaced
(and the tally functions as they were), up again restores the rule."""

import uuid

import psycopg
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from tests.conftest import _psycopg_dsn, _server_url

REVISION = "0007"
POLICIES = "SELECT polrelid::regclass::text || '.' || polname FROM pg_policy WHERE polname <> 'tenant' ORDER BY 1"


def _policies(dsn: str) -> set[str]:
    with psycopg.connect(dsn) as conn:
        return {row[0] for row in conn.execute(POLICIES)}


def test_down_and_up_again(database_url):
    server = _server_url()
    name = f"khanyisa_test_{uuid.uuid4().hex[:10]}"
    admin = _psycopg_dsn(server)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(server).set(database=name).render_as_string(hide_password=False)
        dsn = _psycopg_dsn(url)
        cfg = Config("alembic.ini")
        cfg.attributes["database_url"] = url
        command.upgrade(cfg, "head")
        after = _policies(dsn)
        parent = ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision
        command.downgrade(cfg, str(parent))
        before = _policies(dsn)
        with psycopg.connect(dsn) as conn:
            body = conn.execute("SELECT prosrc FROM pg_proc WHERE proname = 'ticket_tallies_on_insert'").fetchone()[0]
            leftovers = conn.execute(
                "SELECT count(*) FROM pg_proc WHERE proname LIKE 'app_ticket_%' OR proname = 'sla_breached'"
            ).fetchone()[0]
        command.upgrade(cfg, "head")
        assert _policies(dsn) == after
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert {"tickets.visibility", "ticket_events.visibility", "ticket_hours.sensitive_counts"} <= after
    assert {"tickets.sensitive_firewall", "ticket_events.sensitive_firewall"} <= before
    assert not any(p.endswith(".visibility") or p.endswith(".sensitive_counts") for p in before)
    assert "sla_breached" not in body and "r.first_responded_at > r.sla_response_deadline" in body
    assert leftovers == 0
