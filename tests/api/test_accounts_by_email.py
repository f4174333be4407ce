"""Accounts by e-mail and the choices about messages, through HTTP and the worker: preferences,
one-click unsubscribe, verification of an address, registration that reveals no account, and
choosing a new password through a single-use link."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from src.models.notification import AccountToken, Notification, NotificationPreference
from src.models.user import User, UserRole
from src.services.notifications.worker import drain
from tests.api.security_helpers import client_from
from tests.api.ticket_helpers import report
from tests.factories import PASSWORD
from tests.web.helpers import csrf_from

API = "/api/v1"
ME = f"{API}/me/notifications"
DEFAULTS = {k: ["email"] for k in ("report_received", "status_changed", "resolved", "marked_duplicate", "reopened")}
LINK = re.compile(r"http://127\.0\.0\.1:8000(/[a-z-]+/[A-Za-z0-9._-]+)")
REGISTRATION = {
    "municipality_code": "",
    "email": "naledi@example.org",
    "password": "Citizen-Pass-1",
    "full_name": "Naledi Dlamini",
    "preferred_language": "en",
    "consent": True,
}


def link_in(message) -> str:
    """The path of the first link in an e-mail's text (the PUBLIC_URL part taken off)."""
    body = message.get_body(preferencelist=("plain",)).get_content()
    found = LINK.search(body)
    assert found, body
    return found.group(1)


async def preferences_rows(db) -> list[tuple]:
    async with db.system_session() as s:
        rows = await s.execute(
            select(NotificationPreference.user_id, NotificationPreference.kind, NotificationPreference.channels)
        )
        return sorted(tuple(r) for r in rows)


# ---- GET|PUT /me/notifications ---------------------------------------------------------------


async def test_preferences_need_a_session(client):
    assert (await client.get(ME)).status_code == 401
    r = await client.put(ME, json={"resolved": ["sms"]})
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"


async def test_ward_councillors_have_no_notification_preferences(client, db, world):
    """They neither report nor follow, so they hear of no report."""
    for r in (
        await client.get(ME, headers=world.ward_councillor.headers),
        await client.put(ME, headers=world.ward_councillor.headers, json={"resolved": ["sms"]}),
    ):
        assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert await preferences_rows(db) == []


async def test_every_kind_is_by_email_until_changed(client, world):
    r = await client.get(ME, headers=world.citizen.headers)
    assert r.status_code == 200 and r.json() == DEFAULTS


async def test_put_sets_the_kinds_given_and_keeps_the_others(client, db, world, other):
    r = await client.put(
        ME, headers=world.citizen.headers, json={"status_changed": ["sms", "email", "sms"], "reopened": []}
    )
    expected = {**DEFAULTS, "status_changed": ["email", "sms"], "reopened": []}
    assert r.status_code == 200 and r.json() == expected
    assert (await client.get(ME, headers=world.citizen.headers)).json() == expected
    # one's own settings only: another person, here or in another municipality, keeps the defaults
    assert (await client.get(ME, headers=world.manager.headers)).json() == DEFAULTS
    assert (await client.get(ME, headers=other.citizen.headers)).json() == DEFAULTS
    r = await client.put(ME, headers=world.citizen.headers, json={"reopened": ["email"]})
    assert r.json() == {**expected, "reopened": ["email"]}


@pytest.mark.parametrize(
    "body",
    [
        {"weekly_digest": ["email"]},
        {"resolved": ["pigeon"]},
        {"resolved": "email"},
        {"resolved": ["email", "sms"] * 5},
        {"verify_email": []},
        [],
    ],
)
async def test_unknown_kinds_and_channels_are_422_and_change_nothing(client, db, world, body):
    await client.put(ME, headers=world.citizen.headers, json={"resolved": ["sms"]})
    before = await preferences_rows(db)
    r = await client.put(ME, headers=world.citizen.headers, json=body)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert await preferences_rows(db) == before


async def test_turning_email_off_stops_those_emails(client, db, world, outbox):
    box, _, senders = outbox
    await client.put(ME, headers=world.citizen.headers, json={"report_received": []})
    await report(client, world.citizen)
    async with db.system_session() as s:
        assert list(await s.scalars(select(Notification))) == []
    await drain(db, senders)
    assert box.messages == []


# ---- unsubscribe --------------------------------------------------------------------------


async def test_the_unsubscribe_link_works_without_signing_in(client, db, world, outbox):
    box, _, senders = outbox
    await client.put(ME, headers=world.citizen.headers, json={"report_received": ["email", "sms"]})
    await report(client, world.citizen)
    await drain(db, senders)
    [(_, message)] = box.messages
    path = message["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:8000")
    assert path.startswith("/unsubscribe/")
    r = await client.get(path)  # no cookie, no token
    assert r.status_code == 200
    assert "You will no longer receive these e-mails." in r.text
    settings = (await client.get(ME, headers=world.citizen.headers)).json()
    assert settings == {**DEFAULTS, "report_received": ["sms"]}  # only e-mail stops, only for that kind
    await report(client, world.citizen)
    box.messages.clear()
    await drain(db, senders)
    assert box.messages == []


async def test_one_click_unsubscribe_by_post(client, db, world, outbox):
    """RFC 8058: the mail program POSTs `List-Unsubscribe=One-Click` to the link; no form token."""
    box, _, senders = outbox
    await report(client, world.citizen)
    await drain(db, senders)
    path = box.messages[0][1]["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:8000")
    r = await client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert r.status_code == 200 and "You will no longer receive these e-mails." in r.text
    assert (await client.get(ME, headers=world.citizen.headers)).json()["report_received"] == []


@pytest.mark.parametrize("tamper", ["kind", "signature", "garbage"])
async def test_a_tampered_unsubscribe_link_is_400_and_changes_nothing(client, db, world, outbox, tamper):
    box, _, senders = outbox
    await report(client, world.citizen)
    await drain(db, senders)
    path = box.messages[0][1]["List-Unsubscribe"].strip("<>").removeprefix("http://127.0.0.1:8000")
    number, signature = path.removeprefix("/unsubscribe/").split(".")
    bad = {
        "kind": f"/unsubscribe/{int(number) + 1}.{signature}",
        "signature": f"/unsubscribe/{number}.{signature[:-2]}xx",
        "garbage": "/unsubscribe/..%2F..",
    }[tamper]
    for r in (await client.get(bad), await client.post(bad)):
        assert r.status_code in (400, 404)
        if r.status_code == 400:
            assert "This link is not valid or has expired." in r.text
    assert await preferences_rows(db) == []


# ---- registration and verification ----------------------------------------------------------


async def test_registration_with_a_taken_address_answers_byte_for_byte_like_a_new_one(
    client, db, factory, world, other, outbox
):
    box, _, senders = outbox
    owner = await factory.user(other.municipality, UserRole.CITIZEN, email="naledi@example.org")
    body = {**REGISTRATION, "municipality_code": world.municipality.code}
    taken = await client.post(f"{API}/auth/register", json=body)
    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == owner.id).values(email="moved@example.org"))
    fresh = await client.post(f"{API}/auth/register", json=body)
    assert (taken.status_code, taken.content) == (fresh.status_code, fresh.content)
    assert taken.status_code == 201
    assert taken.headers["content-length"] == fresh.headers["content-length"]
    await drain(db, senders)
    # the owner (then at this address) was told, with a link to choose a new password
    [told] = box.to("moved@example.org")
    assert told["Subject"] == "Someone tried to register with your e-mail address"
    assert link_in(told).startswith("/password-reset/")
    assert "List-Unsubscribe" not in told  # account messages cannot be switched off
    # the new account got its verification link
    [welcome] = box.to("naledi@example.org")
    assert welcome["Subject"] == "Confirm your e-mail address"
    assert link_in(welcome).startswith("/verify-email/")
    # each to the address its account holds when the worker sends it
    assert sorted(rcpt[0] for rcpt, _ in box.messages) == ["moved@example.org", "naledi@example.org"]


async def test_an_unverified_account_signs_in_and_reports_but_hears_only_account_mail(client, db, world, outbox):
    box, _, senders = outbox
    r = await client.post(f"{API}/auth/register", json={**REGISTRATION, "municipality_code": world.municipality.code})
    assert r.status_code == 201
    token = await client.post(
        f"{API}/auth/token", data={"username": "naledi@example.org", "password": "Citizen-Pass-1"}
    )
    assert token.status_code == 200
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    ticket = await client.post(f"{API}/tickets", headers=headers, json={"category": "water", "description": "No water"})
    assert ticket.status_code == 201
    await drain(db, senders)
    [(_, welcome)] = box.messages
    assert welcome["Subject"] == "Confirm your e-mail address"
    verify = await client.get(link_in(welcome))
    assert verify.status_code == 200 and "Your e-mail address is confirmed." in verify.text
    async with db.system_session() as s:
        assert await s.scalar(select(User.email_verified_at).where(User.email == "naledi@example.org")) is not None
    again = await client.get(link_in(welcome))
    assert again.status_code == 400 and "This link is not valid or has expired." in again.text
    box.messages.clear()
    second = await client.post(f"{API}/tickets", headers=headers, json={"category": "roads", "description": "Pothole"})
    await drain(db, senders)
    [(_, received)] = box.messages
    assert received["Subject"] == f"We have your report {second.json()['tracking_number']}"


async def test_a_verification_link_expires_after_24_hours(client, db, world, outbox):
    box, _, senders = outbox
    await client.post(f"{API}/auth/register", json={**REGISTRATION, "municipality_code": world.municipality.code})
    await drain(db, senders)
    async with db.system_session() as s:
        token = await s.scalar(select(AccountToken))
        assert timedelta(hours=23, minutes=59) < token.expires_at - token.created_at <= timedelta(hours=24, minutes=1)
        await s.execute(update(AccountToken).values(expires_at=token.created_at - timedelta(seconds=1)))
    r = await client.get(link_in(box.messages[0][1]))
    assert r.status_code == 400
    async with db.system_session() as s:
        assert await s.scalar(select(User.email_verified_at).where(User.email == "naledi@example.org")) is None


# ---- password reset -------------------------------------------------------------------------


async def reset_link(client, db, senders, box, email: str) -> str:
    r = await client.post(f"{API}/auth/password-reset", json={"email": email})
    assert r.status_code == 202
    await drain(db, senders)
    [message] = [
        m for rcpt, m in box.messages if m["Subject"] == "Choose a new Khanyisa password" and email.lower() in rcpt
    ]
    path = link_in(message)
    assert path.startswith("/password-reset/")
    return path


async def test_password_reset_end_to_end(client, db, world, outbox):
    box, _, senders = outbox
    email = world.citizen.user.email
    path = await reset_link(client, db, senders, box, email.upper())
    token = path.removeprefix("/password-reset/")
    async with db.system_session() as s:
        stored = await s.scalar(select(AccountToken))
        assert token not in (stored.token_hash, str(stored.id))  # only a hash is kept
        assert timedelta(minutes=29) < stored.expires_at - stored.created_at <= timedelta(minutes=31)
    form = await client.get(path)
    assert form.status_code == 200 and "Choose a new password" in form.text and "New password" in form.text
    assert (await client.get(f"{API}/auth/me", headers=world.citizen.headers)).status_code == 200
    r = await client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": "Brand-New-Pass-7"})
    assert r.status_code == 204
    # every old session ends; the new password signs in, the old one does not
    assert (await client.get(f"{API}/auth/me", headers=world.citizen.headers)).status_code == 401
    signin = await client.post(f"{API}/auth/token", data={"username": email, "password": "Brand-New-Pass-7"})
    assert signin.status_code == 200
    old = await client.post(f"{API}/auth/token", data={"username": email, "password": PASSWORD})
    assert old.status_code == 401
    # single use
    r = await client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": "Another-Pass-88"})
    assert r.status_code == 400 and r.json() == {
        "detail": "This link is not valid or has expired.",
        "code": "invalid_link",
    }
    assert (await client.get(path)).status_code == 400


async def test_an_expired_or_forged_reset_token_is_refused_and_nothing_changes(client, db, world, outbox):
    box, _, senders = outbox
    path = await reset_link(client, db, senders, box, world.citizen.user.email)
    token = path.removeprefix("/password-reset/")
    async with db.system_session() as s:
        before = await s.scalar(select(User.password_hash).where(User.id == world.citizen.id))
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    for bad in (forged, "x", "0" * 32 + ".abc"):
        r = await client.post(f"{API}/auth/password-reset/confirm", json={"token": bad, "password": "Brand-New-Pass-7"})
        assert r.status_code == 400 and r.json()["code"] == "invalid_link"
    async with db.system_session() as s:
        await s.execute(update(AccountToken).values(expires_at=AccountToken.created_at))
    r = await client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": "Brand-New-Pass-7"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_link"
    async with db.system_session() as s:
        assert await s.scalar(select(User.password_hash).where(User.id == world.citizen.id)) == before
    assert (await client.get(f"{API}/auth/me", headers=world.citizen.headers)).status_code == 200


async def test_a_weak_new_password_is_422_and_the_link_still_works(client, db, world, outbox):
    box, _, senders = outbox
    token = (await reset_link(client, db, senders, box, world.citizen.user.email)).removeprefix("/password-reset/")
    for weak in ("short", "password123"):
        r = await client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": weak})
        assert r.status_code == 422
    r = await client.post(f"{API}/auth/password-reset/confirm", json={"token": token, "password": "Brand-New-Pass-7"})
    assert r.status_code == 204


async def test_a_reset_for_an_unknown_address_answers_the_same_and_sends_nothing(client, db, world, outbox):
    box, _, senders = outbox
    known = await client.post(f"{API}/auth/password-reset", json={"email": world.citizen.user.email})
    unknown = await client.post(f"{API}/auth/password-reset", json={"email": "nobody@example.org"})
    assert (known.status_code, known.content) == (unknown.status_code, unknown.content)
    assert known.status_code == 202
    await drain(db, senders)
    assert [rcpt for rcpt, _ in box.messages] == [[world.citizen.user.email]]
    assert (await client.post(f"{API}/auth/password-reset", json={"email": "not-an-address"})).status_code == 422


async def test_the_reset_form_page_sets_the_password(client, db, world, outbox):
    box, _, senders = outbox
    path = await reset_link(client, db, senders, box, world.citizen.user.email)
    form = await client.get(path)
    weak = await client.post(path, data={"csrf_token": csrf_from(form.text), "password": "short"})
    assert weak.status_code == 422 and "A password needs 10 to 128 characters." in weak.text
    no_csrf = await client.post(path, data={"password": "Brand-New-Pass-7"})
    assert no_csrf.status_code == 403
    done = await client.post(path, data={"csrf_token": csrf_from(form.text), "password": "Brand-New-Pass-7"})
    assert done.status_code == 200 and "Your password has been changed. Please sign in." in done.text
    signin = await client.post(
        f"{API}/auth/token", data={"username": world.citizen.user.email, "password": "Brand-New-Pass-7"}
    )
    assert signin.status_code == 200


async def test_password_reset_requests_allow_five_an_hour_per_address(db, world, limiter, outbox):
    box, _, senders = outbox
    async with client_from("198.51.100.7") as c, client_from("198.51.100.8") as other:
        for _ in range(5):
            assert (await c.post(f"{API}/auth/password-reset", json={"email": "a@example.org"})).status_code == 202
        r = await c.post(f"{API}/auth/password-reset", json={"email": "a@example.org"})
        assert r.status_code == 429 and r.json()["code"] == "rate_limited"
        # one mailbox gets at most five account e-mails an hour, whoever asks
        for _ in range(6):
            r = await other.post(f"{API}/auth/password-reset", json={"email": world.citizen.user.email})
        assert r.status_code == 429
    async with client_from("198.51.100.9") as third:
        assert (
            await third.post(f"{API}/auth/password-reset", json={"email": world.citizen.user.email})
        ).status_code == 202
    await drain(db, senders)
    assert len(box.to(world.citizen.user.email)) == 5
