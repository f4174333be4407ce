async def test_health_answers_ok_once_the_database_answers(client):
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
