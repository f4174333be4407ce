"""Residents: their own reports and the form to report a problem."""

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from src.api.deps import SessionDep
from src.core.errors import AppError
from src.core.i18n import N_
from src.models.enums import TicketCategory, TicketSeverity
from src.models.user import ConsentPurpose
from src.schemas.ticket import TicketCreate
from src.schemas.ticket_query import TicketListParams
from src.services import access, consent_service, photo_service, ticket_service
from src.services.principal import Principal
from src.services.read_model import ticket_query
from src.web.pages import PageReader, PageReadSession, PageRoute, PageUser, render, require_csrf
from src.web.report_map import ward_map

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TRACKING = re.compile(r"^TKT-\d{8}-[0-9A-F]{6}$")
PAGE_SIZE = 50
FIELD_MESSAGES = {
    "category": N_("Choose what the problem is about."),
    "description": N_("Describe the problem in 1 to 5 000 characters."),
    "severity": N_("Choose how serious it is."),
    "address": N_("Keep the address under 500 characters."),
    "latitude": N_("The location is not valid."),
    "longitude": N_("The location is not valid."),
}
NOT_VALID = N_("This value is not valid.")
CONSENT_AGAIN = N_(
    "You withdrew a consent this report needs. Tick the box to give it again, then send the report: "
    "the consent is recorded with the time you gave it."
)
CONSENT_LABELS = {
    ConsentPurpose.TERMS: N_("I agree again that Khanyisa processes my information to handle my reports."),
    ConsentPurpose.SPECIAL_INFORMATION: N_(
        "I agree again to the processing of the sensitive information this report contains."
    ),
}
PHOTO_AGAIN = "Nothing was sent: choose your photos again (up to 5 JPEG, PNG or WebP photos, 10 MB each)."


async def _context(session: AsyncSession, principal: Principal, page: int) -> dict[str, Any]:
    access.require_role(principal, (access.CITIZEN,))
    result = await ticket_query.list_tickets(session, principal, TicketListParams(page=page, page_size=PAGE_SIZE))
    return {
        "result": result,
        "categories": list(TicketCategory),
        "severities": list(TicketSeverity),
        "form": {"category": "", "description": "", "address": "", "severity": TicketSeverity.MEDIUM.value},
        "errors": {},
        "consents_needed": [],
        "ward_map": await ward_map(session, principal),
    }


@router.get("/reports")
async def my_reports(
    request: Request,
    principal: PageReader,
    session: PageReadSession,
    page: int = 0,
    created: str | None = None,
    followed: str | None = None,
) -> Response:
    context = await _context(session, principal, max(page, 0))
    context["created"] = created if created and TRACKING.match(created) else None
    context["followed"] = followed if followed and TRACKING.match(followed) else None
    return render(request, "reports.html", context, principal=principal)


@router.post("/reports", dependencies=[Depends(require_csrf)])
async def report_problem(
    request: Request,
    principal: PageUser,
    session: SessionDep,
    category: Annotated[str, Form()] = "",
    description: Annotated[str, Form(max_length=6000)] = "",
    address: Annotated[str, Form(max_length=600)] = "",
    severity: Annotated[str, Form()] = TicketSeverity.MEDIUM.value,
    latitude: Annotated[str, Form()] = "",
    longitude: Annotated[str, Form()] = "",
    consent_again: Annotated[list[str] | None, Form()] = None,
    source: Annotated[str, Form()] = "",
) -> Response:
    """The report and its optional photos: every photo is checked before the ticket is created, so a
    bad one re-renders the form with what was typed and keeps nothing.

    A resident who withdrew a consent the report needs gets the form back (409) with a box to tick
    per consent; ticked and sent again, the consent is given again and the report made."""
    access.require_role(principal, (access.CITIZEN,))
    form = {"category": category, "description": description, "address": address, "severity": severity}
    data: dict[str, Any] = {"category": category, "description": description, "severity": severity or "medium"}
    if address.strip():
        data["address"] = address
    if latitude.strip() and longitude.strip():
        data["latitude"], data["longitude"] = latitude, longitude
    errors: dict[str, str] = {}
    try:
        body = TicketCreate.model_validate(data)
    except ValidationError as exc:
        errors = {str(e["loc"][0]): FIELD_MESSAGES.get(str(e["loc"][0]), NOT_VALID) for e in exc.errors()}
    # Read from the parsed form, not as a typed parameter: a file field left empty still sends a
    # part without a file name, and a crafted text value named "photos" is simply not a photo.
    chosen = [f for f in (await request.form()).getlist("photos") if isinstance(f, UploadFile) and f.filename]
    try:
        encoded = await photo_service.encode_all([await f.read(photo_service.MAX_BYTES + 1) for f in chosen])
    except AppError as exc:
        errors["photos"] = f"{exc.detail} {PHOTO_AGAIN}"
    status = 422
    missing: list[ConsentPurpose] = []
    if not errors:
        ticked = set(consent_again or ())
        for purpose in await consent_service.withdrawn_for(session, principal, body.category):
            if purpose.value in ticked:
                await consent_service.give(session, principal, purpose)
            else:
                missing.append(purpose)
        if missing:
            errors["consent"], status = CONSENT_AGAIN, 409
    if not errors:
        # In a savepoint: photos the service refuses for this ticket (a GBV report's) take the
        # report back with them, and the form comes back as it was typed.
        savepoint = await session.begin_nested()
        ticket = await ticket_service.create_ticket(session, principal, body)
        try:
            await photo_service.add_photos(session, principal, ticket.id, encoded)
        except AppError as exc:
            await savepoint.rollback()
            errors["photos"], status = f"{exc.detail} {PHOTO_AGAIN}", int(exc.status)
        else:
            await savepoint.commit()
            return RedirectResponse(f"/reports?created={ticket.tracking_number}", status_code=303)
    needed = [(p.value, CONSENT_LABELS[p]) for p in missing]
    if source == "private" and category == TicketCategory.GBV.value:  # back to the private form, with its quick exit
        context = {"form": form, "errors": errors, "consents_needed": needed}
        return render(request, "report_gbv.html", context, status_code=status, principal=principal)
    context = await _context(session, principal, 0)
    context.update(form=form, errors=errors, consents_needed=needed)
    return render(request, "reports.html", context, status_code=status, principal=principal)
