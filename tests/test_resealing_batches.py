"""The sealing pass (the sealing migration, `rotate-keys`) works in batches: a bounded number of
statements per batch of tickets, every ticket and event of every batch rewritten, one transaction."""

import psycopg
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url

from src.core import resealing, sealing
from src.core.resealing import Mode, reseal

TICKETS = 5
TEXTS = "SELECT t.description, t.address, e.data->>'note' FROM tickets t JOIN ticket_events e ON e.ticket_id = t.id"


def _scene(dsn: str) -> None:
    """Five sensitive tickets stored plain (as before sealing), each with a noted event, and a water one."""
    with psycopg.connect(dsn) as conn:
        mun = conn.execute(
            "INSERT INTO municipalities (code, name, province) VALUES ('BAT', 'Batch', 'Gauteng') RETURNING id"
        ).fetchone()[0]
        for n in range(TICKETS + 1):
            category = "water" if n == TICKETS else "gbv"
            tid = conn.execute(
                "INSERT INTO tickets (municipality_id, tracking_number, category, description, is_sensitive, address) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (mun, f"TKT-20260101-0000{n:02X}", category, f"Report {n}", category == "gbv", f"{n} Oak Lane"),
            ).fetchone()[0]
            for note in (f"Note {n}a", f"Note {n}b"):
                conn.execute(
                    "INSERT INTO ticket_events (municipality_id, ticket_id, kind, data) "
                    "VALUES (%s, %s, 'status_changed', %s)",
                    (mun, tid, psycopg.types.json.Jsonb({"note": note})),
                )


def _texts(dsn: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(dsn) as conn:
        return [tuple(r) for r in conn.execute(TEXTS + " ORDER BY e.id")]


def test_sealing_runs_in_batches_and_seals_everything(db, sync_dsn, monkeypatch):
    _scene(sync_dsn)
    plain = _texts(sync_dsn)
    monkeypatch.setattr(resealing, "BATCH", 2)
    engine = create_engine(make_url(sync_dsn).set(drivername="postgresql+psycopg"))
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda conn, cur, statement, *a: statements.append(statement))
    try:
        with engine.begin() as conn:
            assert reseal(conn, Mode.SEAL) == TICKETS
        sealed = _texts(sync_dsn)
        # 3 batches of tickets (2, 2, 1) and an empty read: per batch one read of tickets, one
        # write of them, one read of their events and one write of those; whatever the number of rows.
        assert sum(s.startswith("SELECT id, municipality_id") for s in statements) == 4
        assert sum(s.startswith("SELECT id, ticket_id, data") for s in statements) == 3
        assert len(statements) <= 4 + 3 * 3 + 3  # + toggling the trigger, dropping points
        with engine.begin() as conn:
            assert reseal(conn, Mode.REVEAL) == TICKETS
    finally:
        engine.dispose()
    for (description, address, note), (d, a, n) in zip(plain, sealed, strict=True):
        if description.startswith(f"Report {TICKETS}"):  # the water ticket: untouched
            assert (d, a, n) == (description, address, note)
            continue
        assert all(sealing.is_sealed(v) for v in (d, a, n))
        assert (sealing.reveal(d), sealing.reveal(a), sealing.reveal(n)) == (description, address, note)
        # one data key per ticket: its events are sealed with the ticket's key
        assert sealing.data_key_of(d).wrapped == sealing.data_key_of(n).wrapped == sealing.data_key_of(a).wrapped
    assert _texts(sync_dsn) == plain  # and opened again
