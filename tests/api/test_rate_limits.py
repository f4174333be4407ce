"""Rate limits through HTTP, on both counter stores: exact limits, 429 with Retry-After, no
password hashing past a limit, concurrent guesses, client addresses behind trusted proxies."""

import asyncio

import pytest

from src.core import rate_limit
from src.core.rate_limit import RateLimited
from tests.api.security_helpers import API, client_from
from tests.factories import PASSWORD


async def sign_in(client, username: str, password: str):
    return await client.post(f"{API}/auth/token", data={"username": username, "password": password})


def assert_limited(r) -> None:
    assert r.status_code == 429
    assert r.json() == {"detail": "Too many requests; try again later.", "code": "rate_limited"}
    assert 1 <= int(r.headers["retry-after"]) <= 3600


async def test_ten_failures_lock_the_account_without_hashing_again(client, world, limiter, hashes):
    email = world.manager.user.email
    for _ in range(10):
        assert (await sign_in(client, email, "wrong-password-1")).status_code == 401
    assert len(hashes) == 10
    r = await sign_in(client, email, PASSWORD)  # even the right password waits now
    assert_limited(r)
    assert int(r.headers["retry-after"]) <= 15 * 60
    assert_limited(await sign_in(client, email.upper(), "wrong-password-2"))
    assert len(hashes) == 10
    # Another account is untouched.
    assert (await sign_in(client, world.admin.user.email, PASSWORD)).status_code == 200


async def test_successful_sign_ins_do_not_use_up_the_failure_allowance(client, world, limiter):
    email = world.citizen.user.email
    for _ in range(12):
        assert (await sign_in(client, email, PASSWORD)).status_code == 200
    for _ in range(9):
        assert (await sign_in(client, email, "not-it-at-all")).status_code == 401
    assert (await sign_in(client, email, PASSWORD)).status_code == 200
    assert (await sign_in(client, email, "not-it-at-all")).status_code == 401
    assert_limited(await sign_in(client, email, "not-it-at-all"))


async def test_concurrent_guesses_never_get_past_the_limit(world, limiter, hashes):
    async with client_from("10.9.8.7") as c:
        answers = await asyncio.gather(*(sign_in(c, world.manager.user.email, f"guess-{i}") for i in range(30)))
    codes = sorted(r.status_code for r in answers)
    assert codes == [401] * 10 + [429] * 20
    assert len(hashes) == 10


async def test_a_concurrent_burst_from_one_address_gets_exactly_the_limit(world, limiter):
    async with client_from("10.9.8.6") as c:
        answers = await asyncio.gather(*(c.post(f"{API}/auth/token", data={}) for _ in range(150)))
    assert sorted(r.status_code for r in answers) == [422] * 100 + [429] * 50


async def test_one_address_gets_a_hundred_sign_in_attempts_a_minute(world, limiter, hashes):
    async with client_from("192.0.2.10") as c, client_from("192.0.2.11") as other:
        # Incomplete forms are cheap to refuse but are attempts all the same.
        for _ in range(100):
            assert (await c.post(f"{API}/auth/token", data={})).status_code == 422
        assert_limited(await sign_in(c, world.manager.user.email, PASSWORD))
        page = await c.post("/login", data={"email": world.manager.user.email, "password": PASSWORD})
        assert page.status_code == 429 and "Too many requests" in page.text
        assert hashes == []
        assert (await sign_in(other, world.manager.user.email, PASSWORD)).status_code == 200
        # The address is not locked out of everything else.
        assert (await c.get(f"{API}/auth/me", headers=world.manager.headers)).status_code == 200


async def test_registration_allows_five_an_hour_per_address(db, world, limiter):
    body = {
        "municipality_code": world.municipality.code,
        "email": "x",
        "password": "short",
        "full_name": "X",
        "consent": True,
    }
    async with client_from("198.51.100.1") as c, client_from("198.51.100.2") as other:
        for _ in range(5):
            assert (await c.post(f"{API}/auth/register", json=body)).status_code == 422
        r = await c.post(f"{API}/auth/register", json=body)
        assert_limited(r)
        assert 3000 < int(r.headers["retry-after"]) <= 3600
        assert (await other.post(f"{API}/auth/register", json=body)).status_code == 422


async def test_any_other_call_allows_six_hundred_a_minute_per_user(client, world, limiter):
    for _ in range(600):
        assert (await client.get(f"{API}/no-such-thing", headers=world.manager.headers)).status_code == 404
    assert_limited(await client.get(f"{API}/auth/me", headers=world.manager.headers))
    # Counted per user, not per address: another user from the same address goes on.
    assert (await client.get(f"{API}/auth/me", headers=world.admin.headers)).status_code == 200


async def test_anonymous_calls_are_counted_per_address(world, limiter):
    async with client_from("203.0.113.5") as c, client_from("203.0.113.6") as other:
        for _ in range(600):
            assert (await c.get(f"{API}/auth/me")).status_code == 401
        assert_limited(await c.get(f"{API}/auth/me"))
        # A forged or unsigned token does not buy a fresh allowance.
        assert_limited(await c.get(f"{API}/auth/me", headers={"Authorization": "Bearer not.a.token"}))
        assert (await other.get(f"{API}/auth/me")).status_code == 401


async def test_health_and_static_files_are_never_limited(world, limiter):
    async with client_from("203.0.113.9") as c:
        for _ in range(600):
            await c.get(f"{API}/auth/me")
        assert (await c.get("/health")).status_code == 200
        assert (await c.get("/static/app.css")).status_code == 200


async def test_pages_are_refused_as_a_page(world, limiter):
    async with client_from("203.0.113.10") as c:
        for _ in range(600):
            await c.get("/nothing-here")
        r = await c.get("/login")
        assert r.status_code == 429 and r.headers["content-type"].startswith("text/html")
        assert "Too many requests" in r.text and int(r.headers["retry-after"]) >= 1


async def test_forwarded_for_is_believed_only_from_a_trusted_proxy(db, world, limiter, configure):
    body = {
        "municipality_code": world.municipality.code,
        "email": "x",
        "password": "short",
        "full_name": "X",
        "consent": True,
    }

    async def register(c, forwarded: str):
        return await c.post(f"{API}/auth/register", json=body, headers={"X-Forwarded-For": forwarded})

    async with client_from("10.0.0.7") as c:
        # Not a trusted proxy: the header is ignored, so two "clients" share the socket's allowance.
        for i in range(5):
            assert (await register(c, f"198.18.0.{i}")).status_code == 422
        assert_limited(await register(c, "198.18.0.99"))
        configure(TRUSTED_PROXIES="10.0.0.0/24, 2001:db8::1")
        # Trusted: the right-most address that is not a proxy is the client's, a forged left part is not.
        for _ in range(5):
            assert (await register(c, "6.6.6.6, 198.18.1.1")).status_code == 422
        assert_limited(await register(c, "7.7.7.7, 198.18.1.1"))
        assert_limited(await register(c, "198.18.1.1, 10.0.0.3"))
        assert (await register(c, "198.18.1.2")).status_code == 422


async def test_the_limit_seam_for_other_routers(limiter):
    for _ in range(3):
        await rate_limit.rate_limit("open311:key-1", "3/minute")
    with pytest.raises(RateLimited) as caught:
        await rate_limit.rate_limit("open311:key-1", "3/minute")
    assert caught.value.status == 429 and caught.value.code == "rate_limited"
    assert 1 <= caught.value.retry_after <= 60
    await rate_limit.rate_limit("open311:key-2", rate_limit.OPEN311_POST_PER_KEY)


async def test_limits_can_be_turned_off_for_load_tests(client, world, limiter, configure):
    configure(RATE_LIMITS="false")
    for _ in range(12):
        assert (await sign_in(client, world.manager.user.email, "wrong-password-1")).status_code == 401


async def test_an_unreachable_counter_store_does_not_take_the_service_down(client, world, caplog, configure):
    configure(RATE_LIMITS="true")
    rate_limit.set_limiter(rate_limit.limiter_for("redis://127.0.0.1:1/0"))
    try:
        assert (await sign_in(client, world.manager.user.email, PASSWORD)).status_code == 200
        assert (await client.get(f"{API}/auth/me", headers=world.manager.headers)).status_code == 200
    finally:
        rate_limit.set_limiter(None)
    assert any("rate limits are not enforced" in r.getMessage() for r in caplog.records)
