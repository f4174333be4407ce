"""The pages behind the links of e-mails, opened without signing in: unsubscribing (also the
one-click POST of RFC 8058 that mail programs send), confirming an address, and choosing a new
password. Each answers in the language of the account the link belongs to."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from src.api.deps import SessionDep
from src.core.i18n import translations
from src.core.passwords import MAX_LENGTH, password_problem
from src.services import account_service
from src.services.account_service import InvalidLink
from src.services.notifications import messages
from src.services.notifications.unsubscribe import unsubscribe
from src.web.pages import PageRoute, render, require_csrf

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _page(
    request: Request, language: str | None, message: str, *, status_code: int = 200, **context: object
) -> HTMLResponse:
    gettext = translations(language).gettext
    ctx = {"message": gettext(message), "say": gettext, "language": language or "en", **context}
    return render(request, "account_message.html", ctx, status_code=status_code)


def _invalid(request: Request) -> HTMLResponse:
    return _page(request, None, messages.LINK_INVALID, status_code=400)


async def _unsubscribe(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    language = await unsubscribe(session, token)
    if language is None:
        return _invalid(request)
    return _page(request, language, messages.UNSUBSCRIBED)


@router.get("/unsubscribe/{token}")
async def unsubscribe_page(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    return await _unsubscribe(request, session, token)


@router.post("/unsubscribe/{token}")
async def unsubscribe_one_click(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """`List-Unsubscribe-Post`: the signed link is the authority, so no form token is asked for."""
    return await _unsubscribe(request, session, token)


@router.get("/verify-email/{token}")
async def verify_email(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    try:
        user = await account_service.verify_email(session, token)
    except InvalidLink:
        return _invalid(request)
    return _page(request, user.preferred_language, messages.EMAIL_CONFIRMED)


def _form(request: Request, language: str | None, token: str, error: str | None = None, status: int = 200) -> Response:
    gettext = translations(language).gettext
    context = {"say": gettext, "language": language or "en", "token": token, "error": error, "max": MAX_LENGTH}
    return render(request, "password_reset.html", {**context, "messages": messages}, status_code=status)


@router.get("/password-reset/{token}")
async def password_reset_form(request: Request, session: SessionDep, token: str) -> Response:
    try:
        user = await account_service.reset_link_owner(session, token)
    except InvalidLink:
        return _invalid(request)
    return _form(request, user.preferred_language, token)


@router.post("/password-reset/{token}", dependencies=[Depends(require_csrf)])
async def password_reset_save(
    request: Request,
    session: SessionDep,
    token: str,
    password: Annotated[str, Form(max_length=MAX_LENGTH)] = "",
) -> Response:
    try:
        user = await account_service.reset_link_owner(session, token)
    except InvalidLink:
        return _invalid(request)
    problem = password_problem(password)
    if problem:
        return _form(request, user.preferred_language, token, problem, 422)
    await account_service.confirm_password_reset(session, token, password)
    return _page(request, user.preferred_language, messages.PASSWORD_CHANGED, sign_in=True)
