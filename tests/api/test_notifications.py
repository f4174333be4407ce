"""Notifications about reports, through HTTP and the worker, delivered to a real SMTP server and
a real SMS gateway: who hears of what, in which words, exactly once, with retries."""

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select, text, update

from src.core import timesource
from src.models.notification import Channel, Notification, NotificationAttempt
from src.models.user import User, UserRole
from src.services.notifications import worker
from src.services.notifications.worker import LEASE, claim, drain
from tests.api.notify_helpers import SMS_TOKEN
from tests.api.ticket_helpers import report, set_status

API = "/api/v1"
LINK = "http://127.0.0.1:8000/tickets/"


async def set_user(db, user_id, **values) -> None:
    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == user_id).values(**values))


async def notifications(db) -> list[Notification]:
    async with db.system_session() as s:
        return list(await s.scalars(select(Notification).order_by(Notification.id)))


async def follower(client, factory, world, ticket_id):
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    r = await client.post(f"{API}/tickets/{ticket_id}/follow", headers=neighbour.headers)
    assert r.status_code == 200, r.text
    return neighbour


def body_of(message) -> str:
    """The text as written (SMTP carries CRLF line ends)."""
    return message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n").rstrip("\n")


async def test_a_report_is_acknowledged_to_its_reporter_by_email(client, db, world, outbox):
    box, gateway, senders = outbox
    ticket = await report(client, world.citizen)
    assert box.messages == []  # nothing leaves before the worker runs
    result = await drain(db, senders)
    assert (result.sent, result.retried, result.failed) == (1, 0, 0)
    [(rcpt, message)] = box.messages
    tn, link = ticket["tracking_number"], LINK + ticket["id"]
    assert rcpt == [world.citizen.user.email]
    assert message["Subject"] == f"We have your report {tn}"
    assert message["From"] == "Khanyisa <no-reply@khanyisa.test>"
    [row] = await notifications(db)
    unsubscribe = f"http://127.0.0.1:8000/unsubscribe/{row.id}."
    assert body_of(message).startswith(
        f"Thank you for your report. Its number is {tn}. We will tell you when its status changes.\n\n"
        f"Follow it here: {link}\n\nTo stop e-mails like this one, open: {unsubscribe}"
    )
    assert message["List-Unsubscribe"].startswith(f"<{unsubscribe}")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"] == f"<notification-{row.id}@127.0.0.1>"
    assert (row.kind, row.channel, row.status, row.attempts, row.ticket_id) == (
        "report_received",
        "email",
        "sent",
        1,
        uuid.UUID(ticket["id"]),
    )
    assert row.sent_at is not None and row.locked_until is None
    assert gateway.received == []  # SMS is not among the default channels
    assert (await drain(db, senders)).sent == 0  # and nothing is sent twice


async def test_status_changes_reach_the_reporter_and_followers_on_their_channels(client, db, factory, world, outbox):
    box, gateway, senders = outbox
    ticket = await report(client, world.citizen)
    neighbour = await follower(client, factory, world, ticket["id"])
    await set_user(db, neighbour.id, phone="+27 82 555 0101")
    r = await client.put(
        f"{API}/me/notifications", headers=neighbour.headers, json={"status_changed": ["sms", "email"]}
    )
    assert r.status_code == 200 and r.json()["status_changed"] == ["email", "sms"]
    await drain(db, senders)
    box.messages.clear()
    await set_status(client, world.manager, ticket["id"], "in_progress", note="Crew on site; internal remark")
    assert (await drain(db, senders)).sent == 3
    tn, link = ticket["tracking_number"], LINK + ticket["id"]
    for person in (world.citizen, neighbour):
        [message] = box.to(person.user.email)
        assert message["Subject"] == f"Report {tn}: In progress"
        assert body_of(message).startswith(f"Report {tn} is now: In progress.\n\nSee the details: {link}\n\n")
        assert "internal remark" not in body_of(message)
    assert gateway.received == [{"to": "+27 82 555 0101", "message": f"Report {tn}: In progress {link}"}]
    assert gateway.authorizations == [f"Bearer {SMS_TOKEN}"]


async def test_resolution_carries_its_public_note(client, db, world, outbox):
    box, _, senders = outbox
    ticket = await report(client, world.citizen)
    await set_status(client, world.manager, ticket["id"], "resolved", note="We replaced the valve.")
    await drain(db, senders)
    [_, resolved] = box.to(world.citizen.user.email)
    tn = ticket["tracking_number"]
    assert resolved["Subject"] == f"Report {tn} has been resolved"
    assert body_of(resolved).startswith(
        f"Report {tn} has been resolved.\n\nWe replaced the valve.\n\n"
        f"If the problem is not fixed, you can reopen the report within 14 days: {LINK}{ticket['id']}\n\n"
    )


async def test_a_duplicate_tells_its_own_people_which_report_they_now_follow(client, db, factory, world, outbox):
    box, _, senders = outbox
    original = await report(client, world.manager, description="Leak at the corner")
    duplicate = await report(client, world.citizen)
    neighbour = await follower(client, factory, world, duplicate["id"])
    await drain(db, senders)
    box.messages.clear()
    r = await client.post(
        f"{API}/tickets/{duplicate['id']}/duplicate-of",
        headers=world.manager.headers,
        json={"ticket_id": original["id"]},
    )
    assert r.status_code == 200, r.text
    await drain(db, senders)
    dn, on = duplicate["tracking_number"], original["tracking_number"]
    assert sorted(rcpt[0] for rcpt, _ in box.messages) == sorted([world.citizen.user.email, neighbour.user.email])
    for _, message in box.messages:
        assert message["Subject"] == f"Report {dn} joined an earlier report"
        assert body_of(message).startswith(
            f"Report {dn} is about the same problem as report {on}, so we will handle them together. "
            f"From now on you will hear about {on}.\n\nSee it here: {LINK}{duplicate['id']}"
        )
    assert box.to(world.manager.user.email) == []  # the original's reporter is not told about the duplicate


async def test_a_reopened_report_is_announced_to_reporter_and_followers(client, db, factory, world, outbox):
    box, _, senders = outbox
    ticket = await report(client, world.citizen)
    neighbour = await follower(client, factory, world, ticket["id"])
    await set_status(client, world.manager, ticket["id"], "resolved", note="Fixed")
    await drain(db, senders)
    box.messages.clear()
    r = await client.post(
        f"{API}/tickets/{ticket['id']}/reopen", headers=world.citizen.headers, json={"reason": "Still leaking"}
    )
    assert r.status_code == 200, r.text
    await drain(db, senders)
    tn = ticket["tracking_number"]
    for person in (world.citizen, neighbour):
        [message] = box.to(person.user.email)
        assert message["Subject"] == f"Report {tn} has been reopened"
        assert body_of(message).startswith(
            f"Report {tn} has been reopened and will be looked at again.\n\nSee the details: {LINK}{ticket['id']}"
        )


async def test_a_gbv_report_is_never_described_in_a_message(client, db, world, outbox):
    box, gateway, senders = outbox
    await set_user(db, world.citizen.id, phone="+27 82 555 0199")
    r = await client.put(
        f"{API}/me/notifications",
        headers=world.citizen.headers,
        json={"report_received": ["email", "sms"], "status_changed": ["email", "sms"], "resolved": ["email", "sms"]},
    )
    assert r.status_code == 200
    secret = "He threatened me at 12 Acacia Lane"
    ticket = await report(client, world.citizen, category="gbv", description=secret, address="12 Acacia Lane")
    await set_status(client, world.saps_liaison, ticket["id"], "in_progress")
    await set_status(client, world.saps_liaison, ticket["id"], "resolved", note="Case opened at Acacia station")
    assert (await drain(db, senders)).sent == 6
    tn, link = ticket["tracking_number"], LINK + ticket["id"]
    mails = box.to(world.citizen.user.email)
    assert len(mails) == 3
    for message in mails:
        assert message["Subject"] == f"Update on report {tn}"
        text_ = body_of(message)
        assert text_.startswith(f"There is an update on report {tn}. Please sign in to read it: {link}\n\n")
        for word in ("Acacia", "gbv", "GBV", "violence", "SAPS", "resolved", "In progress", "threatened"):
            assert word not in text_ and word not in message["Subject"]
    assert gateway.to("+27 82 555 0199") == [f"Update on report {tn} {link}"] * 3


async def test_two_workers_at_once_send_each_message_exactly_once(client, db, factory, world, outbox):
    box, _, senders = outbox
    people = [world.citizen] + [await factory.user(world.municipality, UserRole.CITIZEN) for _ in range(4)]
    for person in people:
        for _ in range(5):
            await report(client, person)
    results = await asyncio.gather(drain(db, senders), drain(db, senders), drain(db, senders))
    assert sum(r.sent for r in results) == 25
    assert sorted(i for r in results for i in r.ids) == sorted(n.id for n in await notifications(db))
    assert len(box.messages) == 25 and len(set(box.message_ids)) == 25
    async with db.system_session() as s:
        attempts = list(await s.scalars(select(NotificationAttempt)))
    assert len(attempts) == 25 and {a.outcome for a in attempts} == {"sent"}


async def test_a_worker_that_dies_mid_batch_leaves_its_rows_to_the_next(client, db, world, outbox, monkeypatch):
    """A worker that sent two of its batch and died: the rest come back when its lease runs out,
    and are sent once; the two it finished are not sent again."""
    box, _, senders = outbox
    for _ in range(5):
        await report(client, world.citizen)
    real = senders[Channel.EMAIL]

    hanging = asyncio.Event()

    class DiesOnTheThird:
        channel = Channel.EMAIL
        sent = 0

        async def send(self, message) -> None:
            if self.sent == 2:
                hanging.set()
                await asyncio.Event().wait()  # stuck until the worker is killed
            await real.send(message)
            self.sent += 1

    doomed = asyncio.create_task(drain(db, {**senders, Channel.EMAIL: DiesOnTheThird()}))
    await asyncio.wait_for(hanging.wait(), timeout=30)
    doomed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await doomed
    rows = await notifications(db)
    assert [r.status for r in rows] == ["sent", "sent", "pending", "pending", "pending"]
    assert (await drain(db, senders)).sent == 0  # still leased to the dead worker
    later = timesource.current_time() + LEASE + timedelta(seconds=1)
    assert (await drain(db, senders, now=later)).sent == 3
    assert len(box.messages) == 5 and len(set(box.message_ids)) == 5
    assert {r.status for r in await notifications(db)} == {"sent"}


async def test_a_claim_is_not_taken_by_another_worker_while_its_lease_runs(client, db, world, outbox):
    box, _, senders = outbox
    await report(client, world.citizen)
    now = timesource.current_time()
    assert len(await claim(db, uuid.uuid4(), now)) == 1
    assert await claim(db, uuid.uuid4(), now + LEASE - timedelta(seconds=1)) == []
    assert (await drain(db, senders, now=now + LEASE)).sent == 1
    assert len(box.messages) == 1


async def test_refused_messages_are_retried_with_backoff_then_failed(client, db, world, outbox):
    box, _, senders = outbox
    box.refuse = "451 4.3.0 Mailbox busy, try again later"
    await report(client, world.citizen)
    now = timesource.current_time()
    waits = [timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2)]
    for attempt, wait in enumerate(waits, start=1):
        assert (await drain(db, senders, now=now)).retried == 1
        [row] = await notifications(db)
        assert (row.status, row.attempts, row.next_attempt_at, row.last_error) == (
            "pending",
            attempt,
            now + wait,
            "SMTPDataError",
        )
        assert (await drain(db, senders, now=now + wait - timedelta(seconds=1))).retried == 0  # not due yet
        now += wait
    assert (await drain(db, senders, now=now)).failed == 1
    [row] = await notifications(db)
    assert (row.status, row.attempts, row.sent_at) == ("failed", 5, None)
    async with db.system_session() as s:
        attempts = list(await s.scalars(select(NotificationAttempt).order_by(NotificationAttempt.id)))
    assert [(a.outcome, a.error_class) for a in attempts] == [("retry", "SMTPDataError")] * 4 + [
        ("failed", "SMTPDataError")
    ]
    assert box.refused == 5 and box.messages == []
    assert (await drain(db, senders, now=now + timedelta(days=1))).failed == 0  # failed is final


async def test_a_message_refused_once_is_delivered_on_its_retry(client, db, world, outbox):
    box, gateway, senders = outbox
    box.refuse = "550 5.7.1 Not now"
    gateway.status = 503
    await set_user(db, world.citizen.id, phone="+27 82 555 0100")
    await client.put(f"{API}/me/notifications", headers=world.citizen.headers, json={"report_received": ["sms"]})
    await client.put(
        f"{API}/me/notifications", headers=world.citizen.headers, json={"report_received": ["email", "sms"]}
    )
    ticket = await report(client, world.citizen)
    now = timesource.current_time()
    assert (await drain(db, senders, now=now)).retried == 2
    box.refuse, gateway.status = None, 200
    assert (await drain(db, senders, now=now + timedelta(minutes=1))).sent == 2
    assert len(box.to(world.citizen.user.email)) == 1
    assert gateway.to("+27 82 555 0100") == [f"We have your report {ticket['tracking_number']} {LINK}{ticket['id']}"]
    assert {(r.status, r.attempts) for r in await notifications(db)} == {("sent", 2)}
    assert [e for e in (r.last_error for r in await notifications(db))] == [None, None]


async def test_one_change_is_one_row_per_recipient_and_channel(client, db, world):
    """The outbox's unique constraint: the same change cannot be queued twice for a person and channel."""
    await report(client, world.citizen)
    [row] = await notifications(db)
    async with db.system_session() as s:
        inserted = await s.execute(
            text(
                "INSERT INTO notifications (municipality_id, recipient_id, channel, kind, ticket_id, event_id, language) "
                "SELECT municipality_id, recipient_id, channel, kind, ticket_id, event_id, language "
                "FROM notifications WHERE id = :id ON CONFLICT DO NOTHING"
            ),
            {"id": row.id},
        )
        assert inserted.rowcount == 0


async def test_no_message_about_reports_to_an_unverified_address_or_a_missing_phone(client, db, world, outbox):
    box, gateway, senders = outbox
    await set_user(db, world.citizen.id, email_verified_at=None)
    await client.put(
        f"{API}/me/notifications", headers=world.citizen.headers, json={"report_received": ["email", "sms"]}
    )
    await report(client, world.citizen)  # no phone either
    assert await notifications(db) == []
    await drain(db, senders)
    assert box.messages == [] and gateway.received == []


async def test_the_log_channel_names_no_address_and_no_words(client, db, world, caplog):
    """With neither SMTP_URL nor SMS_URL, messages go to the log: kind, id and channel only."""
    ticket = await report(client, world.citizen, description="Sewage on Vilakazi Street")
    with caplog.at_level("DEBUG", logger="khanyisa"):
        result = await drain(db)
    assert result.sent == 1
    [row] = await notifications(db)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"notification {row.id} (report_received) via email" in logged
    for secret in (world.citizen.user.email, ticket["tracking_number"], "Vilakazi", "unsubscribe"):
        assert secret not in logged


async def test_messages_are_written_in_the_recipients_language(client, db, world, outbox):
    box, _, senders = outbox
    await set_user(db, world.citizen.id, preferred_language="zu")
    ticket = await report(client, world.citizen)
    await set_status(client, world.manager, ticket["id"], "resolved", note="Sekulungisiwe")
    await drain(db, senders)
    [_, resolved] = box.to(world.citizen.user.email)
    assert resolved["Subject"] == f"Umbiko {ticket['tracking_number']} usuxazululiwe"


async def test_the_language_is_the_recipients_own(client, db, world, monkeypatch):
    """Each recipient's message is rendered from the catalogue of their preferred language."""
    asked: list[str | None] = []
    real = worker.messages.translations

    def spy(language):
        asked.append(language)
        return real(language)

    monkeypatch.setattr(worker.messages, "translations", spy)
    await set_user(db, world.citizen.id, preferred_language="af")
    await report(client, world.citizen)
    await drain(db)
    assert asked and set(asked) == {"af"}


async def test_an_escalation_by_the_sweep_is_a_status_change_residents_hear_of(client, db, world, outbox):
    from src.models.ticket import Ticket
    from src.services.escalation_service import run_sweep

    box, _, senders = outbox
    ticket = await report(client, world.citizen)
    async with db.system_session() as s:
        past = timesource.current_time() - timedelta(hours=1)
        await s.execute(update(Ticket).where(Ticket.id == ticket["id"]).values(sla_response_deadline=past))
    assert (await run_sweep(db)).escalated == 1
    await drain(db, senders)
    subjects = [m["Subject"] for m in box.to(world.citizen.user.email)]
    assert subjects == [
        f"We have your report {ticket['tracking_number']}",
        f"Report {ticket['tracking_number']}: Escalated",
    ]
