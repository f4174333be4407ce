"""Start-up and shut-down: the database pool and the periodic SLA sweep."""

import asyncio
import contextlib
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


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    secret_key()  # refuse to start without a usable secret
    db = get_database()
    interval = get_settings().sla_sweep_seconds
    sweeper = asyncio.create_task(_sweep_forever(interval)) if interval > 0 else None
    try:
        yield
    finally:
        if sweeper:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
        from src.services.live_events import hub

        await hub.stop()
        await db.dispose()
