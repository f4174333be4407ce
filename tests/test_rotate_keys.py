"""`khanyisa rotate-keys`: every data key re-wrapped under the new master key, the text unchanged."""

from sqlalchemy import text

from src.core import sealing
from src.core.config import get_settings
from tests.api.ticket_helpers import API, report, set_status
from tests.test_cli import cli

SEALED = text("SELECT description, address, escalation_reason FROM tickets WHERE is_sensitive")


async def _stored(db) -> tuple:
    async with db.system_session() as s:
        return tuple((await s.execute(SEALED)).one())


def _use_key(monkeypatch, key: str) -> None:
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", key)
    get_settings.cache_clear()
    sealing.reset_keys()


async def test_rotation_rewraps_every_data_key(db, database_url, client, world, monkeypatch):
    old = sealing.current_key()
    old_text = sealing._b64(old.key)
    t = await report(client, world.citizen, category="gbv", description="Kept in the house", address="2 Oak Lane")
    await set_status(client, world.saps_liaison, t["id"], "escalated", note="Protection order sought")
    before = await _stored(db)
    new = sealing.generate_master_key()

    refused = await cli(database_url, "rotate-keys", DATA_ENCRYPTION_KEY=new, DATA_ENCRYPTION_OLD_KEYS="")
    assert refused.code == 1 and "DATA_ENCRYPTION_OLD_KEYS" in refused.err
    assert await _stored(db) == before  # nothing changed

    done = await cli(database_url, "rotate-keys", DATA_ENCRYPTION_KEY=new, DATA_ENCRYPTION_OLD_KEYS=old_text)
    assert done.code == 0, done.err
    after = await _stored(db)
    new_id = sealing.parse_master_key(new).id
    assert f"1 sensitive tickets now under key {new_id}" in done.out
    assert all(v.split(":")[2] == new_id for v in after)
    assert [v.split(":")[4] for v in after] == [v.split(":")[4] for v in before]  # ciphertexts untouched
    try:
        _use_key(monkeypatch, new)  # the old key is gone: the new one alone opens everything
        d = (await client.get(f"{API}/{t['id']}", headers=world.saps_liaison.headers)).json()
        assert (d["description"], d["address"], d["escalation_reason"]) == (
            "Kept in the house",
            "2 Oak Lane",
            "Protection order sought",
        )
        assert [e["data"]["note"] for e in d["history"] if e["kind"] == "status_changed"] == ["Protection order sought"]
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        sealing.reset_keys()


async def test_serving_a_named_database_needs_a_data_encryption_key(db, database_url):
    r = await cli(database_url, "serve", "--port", "1", SECRET_KEY="k" * 40, DATA_ENCRYPTION_KEY="")
    assert r.code == 1 and "DATA_ENCRYPTION_KEY must be set" in r.err
    bad = await cli(database_url, "serve", "--port", "1", SECRET_KEY="k" * 40, DATA_ENCRYPTION_KEY="short")
    assert bad.code == 1 and "32 bytes" in bad.err
