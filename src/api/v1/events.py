"""Live ticket events for dashboards (SPEC §4.6), as Server-Sent Events."""

import uuid
from typing import Annotated

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


@router.get("/events")
async def events(principal: DashboardUser, ward_id: uuid.UUID | None = None) -> EventSourceResponse:
    stream = live_events.event_stream(principal, ward_id)
    return EventSourceResponse(stream, ping=KEEPALIVE_SECONDS, headers={"Cache-Control": "no-store"})
