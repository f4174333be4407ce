"""Residents on the web: nearby reports while reporting, following one instead, reopening, and
the GBV report form. Same services and access policy as the API."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from src.api.deps import SessionDep
from src.core.errors import Invalid
from src.core.i18n import N_
from src.schemas.citizen import NearbyQuery, Reopen
from src.services import access, citizen_service, ticket_followups
from src.web.pages import PageRoute, PageUser, render, require_csrf
from src.web.routes_tickets import _change, _ticket_id

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/reports/nearby")
async def nearby_fragment(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    category: str = "",
    latitude: str = "",
    longitude: str = "",
) -> Response:
    """The open reports near the chosen point, with "Follow this instead" (a fragment of the form)."""
    access.require_role(principal, (access.CITIZEN,))
    try:
        q = NearbyQuery.model_validate({"category": category, "latitude": latitude, "longitude": longitude})
    except ValidationError:
        return render(request, "_nearby.html", {"reports": [], "asked": False}, principal=principal)
    reports = await citizen_service.nearby(session, principal, q)
    return render(request, "_nearby.html", {"reports": reports, "asked": True}, principal=principal)


@router.post("/reports/follow", dependencies=[Depends(require_csrf)])
async def follow(
    principal: PageUser,
    session: SessionDep,
    ticket_id: Annotated[str, Form()] = "",
    tracking_number: Annotated[str, Form()] = "",
) -> Response:
    state = await citizen_service.follow(session, principal, _ticket_id(ticket_id))
    ref = tracking_number if tracking_number.startswith("TKT-") and len(tracking_number) <= 22 else ""
    return RedirectResponse(f"/reports?followed={ref or state.id}", status_code=303)


@router.post("/tickets/{ticket_id}/reopen", dependencies=[Depends(require_csrf)])
async def reopen(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    ticket_id: str,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    tid = _ticket_id(ticket_id)

    async def change() -> object:
        try:
            body = Reopen(reason=reason)
        except ValidationError:
            raise Invalid(N_("Say in a few words why the problem is not fixed."), "invalid_reason") from None
        return await ticket_followups.reopen(session, principal, tid, body)

    return await _change(request, session, principal, tid, "reopen", change)


@router.get("/reports/gbv")
async def gbv_form(request: Request, principal: PageUser) -> Response:
    access.require_role(principal, (access.CITIZEN,))
    return render(
        request, "report_gbv.html", {"form": {"description": "", "address": ""}, "errors": {}}, principal=principal
    )
