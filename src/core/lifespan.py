"""Start-up and shut-down: the database pool, the periodic SLA sweep and the daily retention run."""

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from src.core.config import get_settings
from src.core.database import get_database
from src.core.security import secret_key

log = logging.getLogger("khanyisa")


async def _sweep_forever(interval: float) -> None:
    from src.services.escalation_service import run_sweep

    while True:
        await asyncio.sleep(interval)
        try:
            result = await run_sweep(get_database())
            if result.escalated or result.breaches:
                log.info("sla sweep: %s", result)
        except Exception:
            log.exception("sla sweep failed; will retry")


RETENTION_EVERY = 24 * 60 * 60.0  # seconds: retention runs once a day in each process
RETENTION_FIRST_DELAY = 10 * 60.0  # the first run waits until the service has settled after a start


async def _retention_daily(first_delay: float = RETENTION_FIRST_DELAY, every: float = RETENTION_EVERY) -> None:
    """Anonymise residents past retention once a day; a failure is logged (by its kind only, never
    with data) and the next day's run tries again."""
    from src.services.retention import run_retention

    await asyncio.sleep(first_delay)
    while True:
        try:
            await run_retention(get_database())
        except Exception as exc:
            log.error("retention run failed (%s); will retry tomorrow", exc.__class__.__name__)
        await asyncio.sleep(every)


# Objects allocated (net of those freed) before the youngest generation is collected; Python's
# default is 700. Requests in flight hold thousands of objects each (rows, models, coroutines),
# so at 700 the collector ran every few requests and traversed all of them again each time: a
# third of a busy server's CPU went to collections that found nothing to free (what the service
# allocates is freed by reference counting). Cycles are still collected, just in larger batches.
GC_YOUNGEST_THRESHOLD = 20_000


def tune_garbage_collector() -> None:
    """Freeze what start-up allocated (modules, routes, mapped classes: never garbage) so
    that full collections skip it, and collect the young generation in larger batches."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNGEST_THRESHOLD, older, oldest)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    secret_key()  # refuse to start without a usable secret
    db = get_database()
    tune_garbage_collector()
    interval = get_settings().sla_sweep_seconds
    sweeper = asyncio.create_task(_sweep_forever(interval)) if interval > 0 else None
    retention = asyncio.create_task(_retention_daily()) if get_settings().retention_daily else None
    try:
        yield
    finally:
        for task in (sweeper, retention):
            if task:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        from src.services.live_events import hub

        await hub.stop()
        await db.dispose()
