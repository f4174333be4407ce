"""The ticket list and a ticket's page, with its status and assignment forms."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from src.api.deps import SessionDep, parse_uuid
from src.core import timesource
from src.core.errors import AppError, Forbidden, Invalid
from src.core.i18n import N_
from src.models.enums import (
    ALLOWED_TRANSITIONS,
    SERVICE_CATEGORIES,
    SlaClock,
    TicketCategory,
    TicketSeverity,
    TicketStatus,
)
from src.models.team import Team
from src.models.ticket import Ticket
from src.models.user import UserRole
from src.models.ward import Ward
from src.schemas.ticket import (
    AssignRequest,
    PaginatedTicketResponse,
    StatusChange,
    TicketDetailResponse,
    TicketResponse,
)
from src.services import access, photo_service, ticket_actions, ticket_followups, ticket_service
from src.services.business_hours_service import working_calendar
from src.services.principal import Principal
from src.services.read_model import ticket_query
from src.services.sla import sla_status
from src.web import listing, lookups
from src.web.pages import PageReader, PageReadSession, PageRoute, PageUser, render, require_csrf
from src.web.timeline import Timeline

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LIST_REFUSALS = ("search_too_short", "page_too_deep")
DONE_MESSAGES = {
    "status": N_("The status was updated."),
    "assign": N_("The assignment was saved."),
    "reopen": N_("Your report is open again; the team has new deadlines to fix it."),
}


async def _list_context(session: AsyncSession, principal: Principal, request: Request) -> dict[str, Any]:
    state = listing.view_state(request.query_params)
    params = listing.parse(state)
    refusal = None
    try:
        result = await ticket_query.list_tickets(session, principal, params)
    except Invalid as exc:  # a search too short or a page too deep: the page stays, with the reason
        if exc.code not in LIST_REFUSALS:
            raise
        refusal = exc.detail
        result = PaginatedTicketResponse(
            tickets=[], total=0, page=params.page, page_size=params.page_size, page_count=0
        )
    ward_names = await lookups.names(session, principal, Ward)
    team_names = await lookups.names(session, principal, Team)
    wards = await lookups.wards(session, principal)
    if principal.role is UserRole.WARD_COUNCILLOR:
        wards = [w for w in wards if w.id == principal.ward_id]
    now = timesource.current_time()
    if principal.role is UserRole.SAPS_LIAISON:
        categories = [TicketCategory.GBV]
    elif principal.role is UserRole.CITIZEN:
        categories = list(TicketCategory)
    else:
        categories = list(SERVICE_CATEGORIES)
    return {
        "result": result,
        "refusal": refusal,
        "rows": await _rows_with_sla(session, principal, result.tickets, now),
        "state": state,
        "link": lambda **changes: listing.link(state, **changes),
        "sort_link": lambda column: listing.sort_link(state, column),
        "export_query": listing.export_query(state),
        "can_export": principal.role in access.DASHBOARD_ROLES,
        "ward_names": ward_names,
        "team_names": team_names,
        "wards": wards,
        "teams": await lookups.teams(session, principal, include_inactive=True),
        "statuses": list(TicketStatus),
        "categories": categories,
        "severities": list(TicketSeverity),
        "live": principal.role in access.DASHBOARD_ROLES,
        "fragment_url": "/fragments/tickets" + (f"?{request.url.query}" if request.url.query else ""),
    }


@router.get("/tickets")
async def ticket_list(request: Request, principal: PageReader, session: PageReadSession) -> Response:
    context = await _list_context(session, principal, request)
    return render(request, "tickets.html", context, principal=principal, status_code=422 if context["refusal"] else 200)


@router.get("/fragments/tickets")
async def ticket_results(request: Request, principal: PageReader, session: PageReadSession) -> Response:
    """The results alone (total, table, paging, export links): fetched again on filters and live events."""
    context = await _list_context(session, principal, request)
    return render(
        request, "_ticket_results.html", context, principal=principal, status_code=422 if context["refusal"] else 200
    )


def _ticket_id(raw: str) -> uuid.UUID:
    ticket_id = parse_uuid(raw)
    if ticket_id is None:
        raise access.not_found()
    return ticket_id


async def _may_change(session: AsyncSession, principal: Principal, ticket_id: uuid.UUID) -> bool:
    query = (
        access.visible_tickets(principal, access.Purpose.CHANGE)
        .with_only_columns(Ticket.id)
        .where(Ticket.id == ticket_id)
    )
    return await session.scalar(query) is not None


def _status_options(principal: Principal, ticket: TicketDetailResponse) -> list[TicketStatus]:
    """The lifecycle's next steps that this role may take (the policy decides, not the page)."""
    options = []
    for target in sorted(ALLOWED_TRANSITIONS[TicketStatus(ticket.status)], key=list(TicketStatus).index):
        try:
            access.ensure_can_change_status(principal, ticket, target)  # type: ignore[arg-type]
        except Forbidden:
            continue
        options.append(target)
    return options


async def _rows_with_sla(
    session: AsyncSession, principal: Principal, tickets: list[TicketResponse], now: datetime
) -> list:
    """Each row's SLA status, its warning measured on the row's clock (one working calendar a page)."""
    business = [t for t in tickets if t.sla_clock is SlaClock.BUSINESS]
    calendar = (
        await working_calendar(
            session, principal.municipality_id, principal.timezone, min(t.created_at for t in business)
        )
        if business
        else None
    )
    return [(t, sla_status(t, now, calendar if t.sla_clock is SlaClock.BUSINESS else None)) for t in tickets]


async def _detail_context(session: AsyncSession, principal: Principal, ticket_id: uuid.UUID) -> dict[str, Any]:
    ticket = await ticket_service.get_ticket_detail(session, principal, ticket_id)
    staff = principal.role is not UserRole.CITIZEN
    may_change = staff and await _may_change(session, principal, ticket_id)
    can_status = may_change and principal.role in access.STATUS_CHANGERS
    can_assign = may_change and principal.role in access.ASSIGNERS
    team_names = await lookups.names(session, principal, Team) if staff else {}
    people_ids = {e.actor_id for e in ticket.history if e.actor_id}
    people_ids |= {uuid.UUID(v) for e in ticket.history for k, v in e.data.items() if k.endswith("user_id") and v}
    people = await lookups.people(session, principal, people_ids) if staff else {}
    return {
        "t": ticket,
        "staff": staff,
        "timeline": Timeline(ticket.history, team_names, people, staff),
        "status_options": _status_options(principal, ticket) if can_status else [],
        "can_status": can_status,
        "can_assign": can_assign,
        "can_reopen": ticket_followups.may_reopen(principal, ticket),
        "photos": await photo_service.list_photos(session, principal, ticket_id),
        "teams": await lookups.teams(session, principal, saps=ticket.is_sensitive) if can_assign else [],
        "assignees": await lookups.assignees(session, principal, saps=ticket.is_sensitive) if can_assign else [],
    }


@router.get("/tickets/{ticket_id}")
async def ticket_page(
    request: Request, principal: PageUser, session: SessionDep, ticket_id: str, done: str | None = None
) -> Response:
    context = await _detail_context(session, principal, _ticket_id(ticket_id))
    context["notice"] = DONE_MESSAGES.get(done or "")
    return render(request, "ticket_detail.html", context, principal=principal)


async def _change(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    ticket_id: uuid.UUID,
    action: str,
    change: Callable[[], Awaitable[object]],
) -> Response:
    """Apply a change in a savepoint; a refusal re-renders the page with the reason and its status."""
    try:
        async with session.begin_nested():
            await change()
    except AppError as exc:
        try:
            context = await _detail_context(session, principal, ticket_id)
        except AppError:  # not even readable: the refusal alone
            raise exc from None
        context["error"] = exc.detail
        return render(request, "ticket_detail.html", context, status_code=int(exc.status), principal=principal)
    return RedirectResponse(f"/tickets/{ticket_id}?done={action}", status_code=303)


@router.post("/tickets/{ticket_id}/status", dependencies=[Depends(require_csrf)])
async def change_status(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    ticket_id: str,
    status: Annotated[TicketStatus, Form()],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    tid = _ticket_id(ticket_id)
    body = StatusChange(status=status, note=note.strip() or None)
    return await _change(
        request, session, principal, tid, "status", lambda: ticket_actions.change_status(session, principal, tid, body)
    )


@router.post("/tickets/{ticket_id}/assign", dependencies=[Depends(require_csrf)])
async def assign(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    ticket_id: str,
    team_id: Annotated[str, Form()] = "",
    assigned_to: Annotated[str, Form()] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    tid = _ticket_id(ticket_id)
    body = AssignRequest(
        team_id=_optional_id(team_id), assigned_to=_optional_id(assigned_to), reason=reason.strip() or None
    )
    return await _change(
        request, session, principal, tid, "assign", lambda: ticket_actions.assign_ticket(session, principal, tid, body)
    )


def _optional_id(raw: str) -> uuid.UUID | None:
    if not raw:
        return None
    value = parse_uuid(raw)
    if value is None:
        raise Invalid("Choose a team and a person from the lists.", "invalid_choice")
    return value
