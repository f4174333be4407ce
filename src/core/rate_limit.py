"""Rate limits: fixed-window counters in Redis when REDIS_URL is set, in process memory otherwise.

Every limit is one counter per (limit, key) incremented atomically (Redis INCRBY, or a lock per
key in memory) *before* the work it guards, so a burst of concurrent requests can never let
more through than the limit: the request that takes the counter past it is refused, however
the requests interleave. Work that should only count when it fails (a sign-in) takes its
slot first and gives it back on success (`refund`).

`rate_limit(key, limit)` is the one call any router or service needs; it raises `RateLimited`
(429 `rate_limited` with `Retry-After`) when the caller is over.
"""

import hashlib
import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter
from redis.asyncio import BlockingConnectionPool

from src.core.config import get_settings
from src.core.errors import AppError

log = logging.getLogger("khanyisa.security")

SIGN_IN_PER_ACCOUNT = parse("10/15 minutes")  # failures
SIGN_IN_PER_ADDRESS = parse("100/minute")  # attempts
ACCOUNT_REQUESTS_PER_ADDRESS = parse("5/hour")  # registrations and password-reset requests
OPEN311_POST_PER_KEY = parse("60/minute")
CALLS_PER_CLIENT = parse("600/minute")  # any other call, per user (per address when anonymous)


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    detail = "Too many requests; try again later."

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail)
        self.retry_after = max(1, retry_after)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class Limiter:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.strategy = FixedWindowRateLimiter(storage)
        self._storage_down = False

    async def hit(self, item: RateLimitItem, *key: str) -> None:
        """Count one request against `item` for `key`; RateLimited when that takes it over."""
        try:
            allowed = await self.strategy.hit(item, *key)
        except Exception as exc:
            self._warn_once(exc)
            return
        self._storage_down = False
        if not allowed:
            try:
                reset = await self.storage.get_expiry(item.key_for(*key))
            except Exception:
                reset = time.time() + item.get_expiry()
            raise RateLimited(math.ceil(reset - time.time()))

    async def refund(self, item: RateLimitItem, *key: str) -> None:
        """Give back the slot a successful request took (a sign-in counts only when it fails)."""
        try:
            await self.storage.incr(item.key_for(*key), item.get_expiry(), amount=-1)
        except Exception as exc:
            self._warn_once(exc)

    async def reset(self) -> None:
        await self.storage.reset()

    def _warn_once(self, exc: Exception) -> None:
        if not self._storage_down:
            self._storage_down = True
            log.warning("rate limits are not enforced: the counter store failed (%s)", exc.__class__.__name__)


REDIS_CONNECTIONS = 32
REDIS_WAIT_SECONDS = 5


def limiter_for(redis_url: str | None, key_prefix: str = "khanyisa") -> Limiter:
    if redis_url:
        # A bounded pool that makes requests wait their turn: under a flood an unbounded one opens a
        # connection per request until Redis (or the pool) refuses, and the limits would fail open.
        pool = BlockingConnectionPool.from_url(redis_url, max_connections=REDIS_CONNECTIONS, timeout=REDIS_WAIT_SECONDS)
        # RedisStorage hands its keyword options to redis-py; its annotation types them too narrowly.
        storage = RedisStorage(
            redis_url,
            implementation="redispy",
            key_prefix=key_prefix,
            connection_pool=pool,  # type: ignore[arg-type]
        )
        return Limiter(storage)
    return Limiter(MemoryStorage())


_limiter: Limiter | None = None


def get_limiter() -> Limiter:
    """One limiter per process; with Redis, its counters are shared by every process."""
    global _limiter
    if _limiter is None:
        _limiter = limiter_for(get_settings().redis_url)
    return _limiter


def set_limiter(limiter: Limiter | None) -> None:
    global _limiter
    _limiter = limiter


def opaque(value: str) -> str:
    """Counter keys never hold an e-mail address or a token in clear (the store may be shared)."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


async def rate_limit(key: str, limit: RateLimitItem | str) -> None:
    """Count one request for `key` (e.g. `f"open311:{api_key_id}"`) against `limit`
    (a `limits` item or a string such as "60/minute"); raises RateLimited when over."""
    if not get_settings().rate_limits:
        return
    item = parse(limit) if isinstance(limit, str) else limit
    await get_limiter().hit(item, opaque(key))


async def count_failure_first(key: str, limit: RateLimitItem) -> None:
    """Take a slot before work that only counts when it fails; `forgive` gives it back."""
    if get_settings().rate_limits:
        await get_limiter().hit(limit, opaque(key))


async def forgive(key: str, limit: RateLimitItem) -> None:
    if get_settings().rate_limits:
        await get_limiter().refund(limit, opaque(key))
