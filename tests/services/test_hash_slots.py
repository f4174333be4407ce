"""Turns at the password hasher: one client's flood cannot take every turn."""

import asyncio

import pytest

from src.core.hash_slots import MAX_WAITING, HashSlots
from src.core.rate_limit import RateLimited


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_one_client_holds_one_turn_and_others_still_get_theirs():
    slots = HashSlots(2)
    started: list[str] = []
    release = asyncio.Event()

    async def hash_for(client: str, name: str) -> None:
        async with slots.turn(client):
            started.append(name)
            await release.wait()

    flood = [asyncio.create_task(hash_for("10.66.0.1", f"attacker-{i}")) for i in range(15)]
    await _settle()
    user = asyncio.create_task(hash_for("10.20.0.2", "user"))
    await _settle()
    assert started == ["attacker-0", "user"]  # the attacker's other 14 wait behind their own first
    release.set()
    await asyncio.gather(*flood, user)
    assert len(started) == 16
    assert slots._per_client == {} and slots._waiting == {}  # nothing kept once everyone is served


async def test_never_more_turns_than_slots():
    slots = HashSlots(2)
    running = peak = 0

    async def hash_for(client: str) -> None:
        nonlocal running, peak
        async with slots.turn(client):
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0)
            running -= 1

    await asyncio.gather(*(hash_for(f"10.0.0.{i % 7}") for i in range(40)))
    assert peak == 2


async def test_a_client_with_too_many_waiting_is_told_to_come_back():
    slots = HashSlots(2)
    release = asyncio.Event()

    async def hash_for(client: str) -> None:
        async with slots.turn(client):
            await release.wait()

    queued = [asyncio.create_task(hash_for("10.66.0.1")) for _ in range(MAX_WAITING)]
    await _settle()
    with pytest.raises(RateLimited) as refused:
        async with slots.turn("10.66.0.1"):
            pass
    assert refused.value.retry_after == 5
    async with slots.turn("10.20.0.2"):  # another client is served at once
        pass
    release.set()
    await asyncio.gather(*queued)
