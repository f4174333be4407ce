"""Turns at the password hasher: a few Argon2 hashes at a time, one per client address.

Each Argon2id hash takes 64 MiB and a core for a few hundred milliseconds. More hashes at once than
there are cores only add memory, so the process runs at most `slots` together; and a client
address gets one turn at a time, so a flood of sign-ins from one address (even the 100 a minute
the rate limit lets through) waits behind itself instead of filling every turn: other clients
still find a free one. Waiting holds no database connection and costs a few hundred bytes; a
client with MAX_WAITING requests already waiting is told to come back (429) rather than queue
more work than it could ever see answered.
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from src.core.rate_limit import RateLimited

PER_CLIENT = 1
MAX_WAITING = 20
BUSY_RETRY_SECONDS = 5


class HashSlots:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._loop: asyncio.AbstractEventLoop | None = None
        self._global: asyncio.Semaphore | None = None
        self._per_client: dict[str, asyncio.Semaphore] = {}
        self._waiting: dict[str, int] = {}

    def _bind(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._global is None or self._loop is not loop:  # a new event loop (tests, a fresh process)
            self._loop, self._global = loop, asyncio.Semaphore(self.slots)
            self._per_client.clear()
            self._waiting.clear()
        return self._global

    @asynccontextmanager
    async def turn(self, client: str | None) -> AsyncIterator[None]:
        shared = self._bind()
        key = client or ""
        if client is not None and self._waiting.get(key, 0) >= MAX_WAITING:
            raise RateLimited(BUSY_RETRY_SECONDS)
        own = self._per_client.setdefault(key, asyncio.Semaphore(PER_CLIENT))
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            # The client's own queue first: the shared queue then holds at most one request per client.
            async with own, shared:
                yield
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                self._per_client.pop(key, None)


hash_slots = HashSlots(max(2, os.cpu_count() or 2))
