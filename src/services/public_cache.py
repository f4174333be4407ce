"""A small in-process cache for the public figures: each answer is reused for up to 60 s.

The public figures are derived, anonymous and allowed to be a minute old, so each server
process keeps its own copy: nothing to share, nothing to invalidate, and a burst of visitors
costs one computation per process per minute. Concurrent misses of one key wait for a single
computation. Entries are bounded in number and in bytes (the oldest go first), so odd query
values cannot grow it.
"""

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

TTL_SECONDS = 60.0
MAX_ENTRIES = 512
MAX_BYTES = 64 * 1024 * 1024
SMALL = 1024  # what a figure (not a rendered answer) counts for in the byte budget

_entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
_sizes: dict[Hashable, int] = {}
_locks: dict[Hashable, asyncio.Lock] = {}


def _size(value: Any) -> int:
    return len(value) if isinstance(value, bytes | bytearray) else SMALL


def _fresh(key: Hashable, now: float) -> tuple[bool, Any]:
    found = _entries.get(key)
    if found is not None and found[0] > now:
        return True, found[1]
    return False, None


async def cached(key: Hashable, compute: Callable[[], Awaitable[Any]], ttl: float = TTL_SECONDS) -> Any:
    hit, value = _fresh(key, time.monotonic())
    if hit:
        return value
    lock = _locks.setdefault(key, asyncio.Lock())
    try:
        async with lock:
            hit, value = _fresh(key, time.monotonic())
            if hit:
                return value
            value = await compute()
            _entries[key] = (time.monotonic() + ttl, value)
            _entries.move_to_end(key)
            _sizes[key] = _size(value)
            while len(_entries) > MAX_ENTRIES or sum(_sizes.values()) > MAX_BYTES:
                oldest, _ = _entries.popitem(last=False)
                _sizes.pop(oldest, None)
            return value
    finally:
        if not lock.locked():
            _locks.pop(key, None)


def clear() -> None:
    """Forget everything (tests start each case from the database's truth)."""
    _entries.clear()
    _sizes.clear()
    _locks.clear()
