"""CSV and Excel exports of the ticket list."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from src.api.deps import require_role
from src.schemas.ticket_query import TicketListParams
from src.services import access, export_service
from src.services.principal import Principal

router = APIRouter(prefix="/export", tags=["export"])

# scope="function": the request's session is released before streaming; the export reads in its own.
Exporter = Annotated[Principal, Depends(require_role(*access.DASHBOARD_ROLES), scope="function")]


def _response(export: export_service.Export) -> StreamingResponse:
    return StreamingResponse(
        export.body,
        media_type=export.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get("/tickets.csv", response_class=StreamingResponse)
async def export_csv(principal: Exporter, params: Annotated[TicketListParams, Query()]) -> StreamingResponse:
    return _response(export_service.csv_export(principal, params))


@router.get("/tickets.xlsx", response_class=StreamingResponse)
async def export_xlsx(principal: Exporter, params: Annotated[TicketListParams, Query()]) -> StreamingResponse:
    return _response(export_service.xlsx_export(principal, params))
