"""Server-rendered pages over the same services and access policy as the API (SPEC §6)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from src.services import live_events


def install_web(app: FastAPI) -> None:
    from src.web import routes_auth, routes_dashboard, routes_reports, routes_tickets
    from src.web.pages import STATIC_DIR

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    for module in (routes_auth, routes_dashboard, routes_tickets, routes_reports):
        app.include_router(module.router)
    _stop_live_events_on_shutdown(app)


def _stop_live_events_on_shutdown(app: FastAPI) -> None:
    """Close this process's LISTEN connection when the server stops."""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(application: Any) -> AsyncIterator[Any]:
        async with inner(application) as state:
            try:
                yield state
            finally:
                await live_events.hub.stop()

    app.router.lifespan_context = lifespan
