async def test_health_answers_ok_once_the_database_answers(client):
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_health_answers_503_while_the_database_does_not(client, db):
    from src.core.database import Database, set_database

    down = Database("postgresql://nobody@127.0.0.1:1/none", pool_size=1)
    set_database(down)
    try:
        r = await client.get("/health")
    finally:
        set_database(db)
        await down.dispose()
    assert r.status_code == 503
    assert r.json() == {"status": "unavailable"}
