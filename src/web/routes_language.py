"""The language switch every page carries (English · isiZulu · Afrikaans)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from src.api.deps import SESSION_COOKIE, SessionDep, load_principal
from src.core.config import get_settings
from src.core.errors import Invalid, Unauthorized
from src.core.i18n import N_
from src.models.enums import Language
from src.services import language_service
from src.web.language import LANG_COOKIE, LANG_COOKIE_MAX_AGE
from src.web.pages import PageRoute, finish, require_csrf, same_site_path

router = APIRouter(route_class=PageRoute, include_in_schema=False)

UNKNOWN_LANGUAGE = N_("Choose English, isiZulu or Afrikaans.")


@router.post("/language", dependencies=[Depends(require_csrf)])
async def switch_language(
    request: Request,
    session: SessionDep,
    lang: Annotated[str, Form(max_length=8)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Remember the choice in a cookie and, for a signed-in user, as their preferred language
    (which their messages follow too); then back to the page it was made on, on this site only."""
    try:
        language = Language(lang)
    except ValueError:
        raise Invalid(UNKNOWN_LANGUAGE, "invalid_language") from None
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        try:
            principal = await load_principal(session, token)
        except Unauthorized:  # an ended session: the cookie alone
            principal = None
        if principal is not None:
            await language_service.set_own_language(session, principal, language)
    response = RedirectResponse(same_site_path(next) or "/", status_code=303)
    response.set_cookie(
        LANG_COOKIE,
        language.value,
        max_age=LANG_COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
        path="/",
    )
    return finish(request, response)
