"""Live ticket events for dashboards, as Server-Sent Events."""

import uuid
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends
from sse_starlette import EventSourceResponse

from src.api.deps import require_role
from src.services import access, live_events
from src.services.principal import Principal

router = APIRouter(prefix="/dashboard", tags=["live events"])

# scope="function": the request's database session is committed and released as soon as the
# endpoint returns, so an open stream holds no pooled connection, only the shared LISTEN one.
DashboardUser = Annotated[Principal, Depends(require_role(*access.DASHBOARD_ROLES), scope="function")]

KEEPALIVE_SECONDS = 15
SHUTDOWN_GRACE_SECONDS = 1.0


@router.get("/events")
async def events(principal: DashboardUser, ward_id: uuid.UUID | None = None) -> EventSourceResponse:
    stop = anyio.Event()  # set by sse-starlette when the server shuts down: the stream then ends cleanly
    stream = live_events.event_stream(principal, ward_id, stop)
    return EventSourceResponse(
        stream,
        ping=KEEPALIVE_SECONDS,
        headers={"Cache-Control": "no-store"},
        shutdown_event=stop,
        shutdown_grace_period=SHUTDOWN_GRACE_SECONDS,
    )
