"""`khanyisa notify-worker --once` as operators run it from cron: real processes, side by side,
sending to a real SMTP server and SMS gateway."""

import asyncio

from sqlalchemy import select, update

from src.models.notification import Notification
from src.models.user import User, UserRole
from tests.api.notify_helpers import SMS_TOKEN
from tests.api.ticket_helpers import report
from tests.test_cli import cli


async def test_two_workers_at_once_send_every_message_exactly_once(client, db, factory, world, outbox, database_url):
    box, gateway, _ = outbox
    people = [world.citizen] + [await factory.user(world.municipality, UserRole.CITIZEN) for _ in range(3)]
    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == people[0].id).values(phone="+27 82 555 0123"))
    await client.put("/api/v1/me/notifications", headers=people[0].headers, json={"report_received": ["email", "sms"]})
    for person in people:
        for _ in range(4):
            await report(client, person)
    env = {
        "SMTP_URL": box.url,
        "SMS_URL": gateway.url,
        "SMS_TOKEN": SMS_TOKEN,
        "PUBLIC_URL": "https://khanyisa.example",
    }
    first, second = await asyncio.gather(
        cli(database_url, "notify-worker", "--once", **env), cli(database_url, "notify-worker", "--once", **env)
    )
    assert (first.code, second.code) == (0, 0), first.err + second.err
    assert len(box.messages) == 16 and len(set(box.message_ids)) == 16
    assert len(gateway.received) == 4 and all(
        m["message"].count("https://khanyisa.example/tickets/") == 1 for m in gateway.received
    )
    async with db.system_session() as s:
        assert set(await s.scalars(select(Notification.status))) == {"sent"}
    sent = [int(r.out.split()[1].rstrip(",")) for r in (first, second)]
    assert sum(sent) == 20
    again = await cli(database_url, "notify-worker", "--once", **env)
    assert again.out.strip() == "sent 0, to retry 0, failed 0"


async def test_the_worker_refuses_to_start_without_a_secret_key(db, database_url):
    r = await cli(database_url, "notify-worker", "--once", SECRET_KEY="short")
    assert r.code == 1 and r.err.startswith("error: SECRET_KEY must be set")
