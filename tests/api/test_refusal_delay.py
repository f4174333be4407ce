"""A request over its limit is answered after a wait (so a guessing script that sends its next guess
as soon as the last is answered cannot out-pace the server), without hashing; at most a bounded
number of answers wait at once; clients on other addresses are answered as usual meanwhile."""

import asyncio
import time

import pytest

from src.core import middleware
from tests.api.security_helpers import API, client_from
from tests.factories import PASSWORD

TOO_MANY = {"detail": "Too many requests; try again later.", "code": "rate_limited"}


async def use_up_sign_in_attempts(c) -> None:
    """The 100 sign-in attempts a minute an address may make, as incomplete forms (no hashing)."""
    answers = await asyncio.gather(*(c.post(f"{API}/auth/token", data={}) for _ in range(100)))
    assert [r.status_code for r in answers] == [422] * 100


async def test_a_refused_guess_is_answered_after_the_delay_with_retry_after_and_no_hashing(world, limiter, hashes):
    async with client_from("192.0.2.40") as c:
        await use_up_sign_in_attempts(c)
        started = time.monotonic()
        r = await c.post(f"{API}/auth/token", data={"username": world.manager.user.email, "password": PASSWORD})
        waited = time.monotonic() - started
    assert r.status_code == 429 and r.json() == TOO_MANY
    # Counted from the answer: the minute's window less the wait already spent.
    assert 1 <= int(r.headers["retry-after"]) <= 60 - middleware.REFUSAL_DELAY_SECONDS
    assert "connection" not in r.headers  # the connection stays open: reconnecting costs the server too
    assert waited >= middleware.REFUSAL_DELAY_SECONDS
    assert hashes == []


async def test_only_a_bounded_number_of_refusals_wait_and_the_rest_close_their_connection(
    world, limiter, hashes, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(middleware, "MAX_HELD_REFUSALS", 3)
    guess = {"username": world.manager.user.email, "password": "wrong-password-1"}
    async with client_from("192.0.2.41") as c:
        await use_up_sign_in_attempts(c)
        answers = await asyncio.gather(*(c.post(f"{API}/auth/token", data=guess) for _ in range(8)))
        assert [r.status_code for r in answers] == [429] * 8
        assert all(r.json() == TOO_MANY and int(r.headers["retry-after"]) >= 1 for r in answers)
        closed = [r.headers.get("connection") for r in answers]
        assert closed.count("close") == 5 and closed.count(None) == 3
        # Once the waiting answers are sent their places are free again.
        r = await c.post(f"{API}/auth/token", data=guess)
        assert r.status_code == 429 and "connection" not in r.headers
    assert hashes == []


async def test_other_addresses_are_answered_while_refusals_wait(world, limiter, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(middleware, "REFUSAL_DELAY_SECONDS", 5.0)
    guess = {"username": world.admin.user.email, "password": "wrong-password-1"}
    async with client_from("192.0.2.42") as attacker, client_from("192.0.2.43") as user:
        await use_up_sign_in_attempts(attacker)
        held = [asyncio.create_task(attacker.post(f"{API}/auth/token", data=guess)) for _ in range(50)]
        await asyncio.sleep(0.1)  # the refusals are now waiting
        r = await user.post(f"{API}/auth/token", data={"username": world.manager.user.email, "password": PASSWORD})
        assert r.status_code == 200 and r.json()["token_type"] == "bearer"
        assert (await user.get(f"{API}/auth/me", headers=world.admin.headers)).json()["email"] == world.admin.user.email
        assert not any(task.done() for task in held)
        assert [r.status_code for r in await asyncio.gather(*held)] == [429] * 50
