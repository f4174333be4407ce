"""The sealing migration seals the sensitive text stored before it, and its downgrade opens it again."""

import uuid

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from src.core import sealing
from tests.conftest import _psycopg_dsn, _server_url

DESCRIPTION, ADDRESS, NOTE = "Threatened by my partner at home", "3 Protea Close", "Moved to her sister"
PLAIN_ROW = "SELECT description, address, escalation_reason, latitude FROM tickets WHERE is_sensitive"
WATER_ROW = "SELECT description FROM tickets WHERE NOT is_sensitive"
NOTES = "SELECT data->>'note' FROM ticket_events ORDER BY id"


def _scene(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        mun = conn.execute(
            "INSERT INTO municipalities (code, name, province) VALUES ('SEA', 'Sea', 'Gauteng') RETURNING id"
        ).fetchone()[0]
        for n, (category, sensitive) in enumerate((("gbv", True), ("water", False))):
            tid = conn.execute(
                "INSERT INTO tickets (municipality_id, tracking_number, category, description, is_sensitive, address, "
                "latitude, longitude, escalation_reason) VALUES (%s, %s, %s, %s, %s, %s, -25.7, 28.2, %s) RETURNING id",
                (mun, f"TKT-20260101-00000{n}", category, DESCRIPTION, sensitive, ADDRESS, NOTE),
            ).fetchone()[0]
            conn.execute(
                "INSERT INTO ticket_events (municipality_id, ticket_id, kind, data) "
                "VALUES (%s, %s, 'status_changed', %s)",
                (mun, tid, psycopg.types.json.Jsonb({"note": NOTE})),
            )


def test_existing_sensitive_text_is_sealed_and_opened_again(database_url):
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
        command.upgrade(cfg, "0005")
        _scene(dsn)
        command.upgrade(cfg, "0010")
        with psycopg.connect(dsn) as conn:
            sealed = conn.execute(PLAIN_ROW).fetchone()
            water = conn.execute(WATER_ROW).fetchone()[0]
            notes = [r[0] for r in conn.execute(NOTES)]
        command.downgrade(cfg, "0005")
        with psycopg.connect(dsn) as conn:
            opened = conn.execute(PLAIN_ROW).fetchone()
            opened_notes = [r[0] for r in conn.execute(NOTES)]
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert all(sealing.is_sealed(v) for v in sealed[:3]) and sealed[3] is None
    assert [sealing.reveal(v) for v in sealed[:3]] == [DESCRIPTION, ADDRESS, NOTE]
    assert water == DESCRIPTION  # only sensitive tickets are sealed
    assert sealing.is_sealed(notes[0]) and sealing.reveal(notes[0]) == NOTE and notes[1] == NOTE
    assert opened == (DESCRIPTION, ADDRESS, NOTE, None) and opened_notes == [NOTE, NOTE]
