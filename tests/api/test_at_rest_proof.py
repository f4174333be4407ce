"""The at-rest proof: sensitive reports made through the API leave no trace of their words in any
table, in a `pg_dump` of the database, or in the application's logs at DEBUG, while SAPS and the
reporter still read them through the API."""

import asyncio
import logging
import shutil

import pytest
from sqlalchemy import text

from tests.api.privacy_helpers import ME
from tests.api.ticket_helpers import API, report, set_status
from tests.conftest import _psycopg_dsn

WORDS = ("Xolelwa", "Mbongolwane", "quince orchard", "Umkhiwane", "Nyanga", "Sikhululekile")
FIRST = "Xolelwa says Mbongolwane waits for her by the quince orchard every evening"
SECOND = "Mbongolwane took the children to Nyanga"
ADDRESS = "41 Umkhiwane Avenue, Nyanga"
NOTE = "Sikhululekile shelter has a bed for Xolelwa"
TABLES = text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")


def _absent(haystack: str) -> list[str]:
    """The words found in `haystack` (none, when the proof holds)."""
    return [w for w in WORDS if w.lower() in haystack.lower()]


async def _every_row_as_text(db) -> str:
    """Every row of every table, each whole row cast to text, read as the owner (no row-level security)."""
    async with db.system_session() as s:
        tables = list(await s.scalars(TABLES))
        assert {"tickets", "ticket_events", "users", "consents", "sensitive_access_records"} <= set(tables)
        rows = []
        for table in tables:  # names from the catalog
            rows += [v for (v,) in await s.execute(text(f'SELECT t::text FROM "{table}" t'))]
        return "\n".join(rows)


async def _pg_dump(database_url: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        shutil.which("pg_dump") or "pg_dump",
        "--data-only",
        "--dbname",
        _psycopg_dsn(database_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
async def test_sensitive_words_are_nowhere_at_rest_but_read_through_the_api(client, db, database_url, world, caplog):
    caplog.set_level(logging.DEBUG)  # every logger at DEBUG, the database driver's statements included
    logging.getLogger("khanyisa").setLevel(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        first = await report(client, world.citizen, category="gbv", description=FIRST, address=ADDRESS)
        second = await report(client, world.citizen, category="gbv", description=SECOND)
        await set_status(client, world.saps_liaison, first["id"], "in_progress", note=NOTE)
        listed = (await client.get(f"{API}", headers=world.saps_liaison.headers)).json()["tickets"]
        saps = (await client.get(f"{API}/{first['id']}", headers=world.saps_liaison.headers)).json()
        own = (await client.get(f"{API}/{first['id']}", headers=world.citizen.headers)).json()
        mine = (await client.get(f"{ME}/data", headers=world.citizen.headers)).json()
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        logging.getLogger("khanyisa").setLevel(logging.NOTSET)
    # The readers who may read them do.
    assert sorted(t["description"] for t in listed) == sorted([FIRST, SECOND])
    assert (saps["description"], saps["address"]) == (FIRST, ADDRESS)
    assert [e["data"].get("note") for e in saps["history"] if e["kind"] == "status_changed"] == [NOTE]
    assert (own["description"], own["address"]) == (FIRST, ADDRESS)
    assert sorted(t["description"] for t in mine["reports"]) == sorted([FIRST, SECOND])
    assert second["id"] in {t["id"] for t in mine["reports"]}
    # (c) the logs at DEBUG: statements were logged, the words were not.
    assert "INSERT INTO tickets" in caplog.text
    assert _absent(caplog.text) == []
    # (a) every table, every row, every column.
    stored = await _every_row_as_text(db)
    assert first["tracking_number"] in stored  # the scan does read the tickets
    assert _absent(stored) == []
    # (b) a data-only dump of the whole database.
    dump = await _pg_dump(database_url)
    assert first["tracking_number"] in dump
    assert _absent(dump) == []
