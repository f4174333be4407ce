"""Placeholder: the ticket list (filters, search, sort, paging) is built here."""

import math

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.schemas.ticket import PaginatedTicketResponse, TicketResponse
from src.schemas.ticket_query import TicketListParams
from src.services import access
from src.services.principal import Principal


async def list_tickets(session: AsyncSession, principal: Principal, params: TicketListParams) -> PaginatedTicketResponse:
    from src.models.ticket import Ticket

    q = access.visible_tickets(principal)
    total = await session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = (
        await session.scalars(
            q.order_by(Ticket.created_at.desc(), Ticket.id.desc()).offset(params.page * params.page_size).limit(params.page_size)
        )
    ).all()
    return PaginatedTicketResponse(
        tickets=[TicketResponse.model_validate(r) for r in rows],
        total=total,
        page=params.page,
        page_size=params.page_size,
        page_count=math.ceil(total / params.page_size),
    )
