import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from src.api.deps import CurrentUser, Reader, ReadSessionDep, SessionDep
from src.schemas.ticket import (
    AssignRequest,
    PaginatedTicketResponse,
    StatusChange,
    TicketCreate,
    TicketDetailResponse,
    TicketEventResponse,
    TicketResponse,
)
from src.schemas.ticket_query import TicketListParams
from src.services import ticket_actions, ticket_query, ticket_service

router = APIRouter(prefix="/tickets", tags=["tickets"])


@router.post("", response_model=TicketResponse, status_code=status.HTTP_201_CREATED)
async def create_ticket(body: TicketCreate, user: CurrentUser, session: SessionDep) -> TicketResponse:
    return await ticket_service.create_ticket(session, user, body)


@router.get("", response_model=PaginatedTicketResponse)
async def list_tickets(params: Annotated[TicketListParams, Query()], user: Reader, session: ReadSessionDep) -> Response:
    """The busiest endpoint: the page is validated once, by the service, and written straight to
    JSON (FastAPI would validate it again and encode it a second way: about 0.25 ms per page)."""
    page = await ticket_query.list_tickets(session, user, params)
    return Response(page.model_dump_json(), media_type="application/json")


@router.get("/{ticket_id}", response_model=TicketDetailResponse)
async def get_ticket(ticket_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> TicketDetailResponse:
    return await ticket_service.get_ticket_detail(session, user, ticket_id)


@router.get("/{ticket_id}/history", response_model=list[TicketEventResponse])
async def get_history(ticket_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> list[TicketEventResponse]:
    return await ticket_service.get_ticket_history(session, user, ticket_id)


@router.patch("/{ticket_id}/status", response_model=TicketDetailResponse)
async def change_status(
    ticket_id: uuid.UUID, body: StatusChange, user: CurrentUser, session: SessionDep
) -> TicketDetailResponse:
    return await ticket_actions.change_status(session, user, ticket_id, body)


@router.post("/{ticket_id}/assign", response_model=TicketDetailResponse)
async def assign(ticket_id: uuid.UUID, body: AssignRequest, user: CurrentUser, session: SessionDep) -> TicketDetailResponse:
    return await ticket_actions.assign_ticket(session, user, ticket_id, body)
