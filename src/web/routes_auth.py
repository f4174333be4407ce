"""Signing in and out of the pages; the session is the API's own access token, in a cookie."""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from src.api.deps import SESSION_COOKIE, SessionDep, load_principal, request_client
from src.core.config import get_settings
from src.core.errors import Unauthorized
from src.core.i18n import N_
from src.core.rate_limit import RateLimited
from src.core.security import decode_access_token
from src.services import auth_service, session_service
from src.web.pages import PageRoute, finish, landing_path, render, require_csrf, safe_next

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_EMAIL = 254
MAX_PASSWORD = 128


async def _signed_in_role(request: Request, session: SessionDep) -> str | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return (await load_principal(session, token)).role.value
    except Unauthorized:
        return None


@router.get("/")
async def home(request: Request, session: SessionDep) -> Response:
    role = await _signed_in_role(request, session)
    return RedirectResponse(landing_path(role) if role else "/login", status_code=303)


@router.get("/login")
async def login_page(request: Request, session: SessionDep, next: str | None = None) -> Response:
    role = await _signed_in_role(request, session)
    if role:
        return RedirectResponse(safe_next(next) or landing_path(role), status_code=303)
    return render(request, "login.html", {"next": safe_next(next) or "", "email": ""})


@router.post("/login", dependencies=[Depends(require_csrf)])
async def login(
    request: Request,
    email: Annotated[str, Form(max_length=MAX_EMAIL)] = "",
    password: Annotated[str, Form(max_length=MAX_PASSWORD)] = "",
    totp: Annotated[str, Form(max_length=16)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        if not email.strip() or not password:
            raise Unauthorized(N_("Enter your email and password."), "missing_credentials")
        token, expires_in = await auth_service.authenticate(email, password, request_client(request), totp or None)
    except Unauthorized as exc:
        context = {"next": safe_next(next) or "", "email": email.strip(), "error": exc.detail}
        return render(request, "login.html", context, status_code=401)
    except RateLimited as exc:
        context = {"next": safe_next(next) or "", "email": email.strip(), "error": exc.detail}
        page = render(request, "login.html", context, status_code=429)
        page.headers.update(exc.headers)
        return page
    claims = decode_access_token(token)
    assert claims is not None
    response = RedirectResponse(safe_next(next) or landing_path(claims.role), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=expires_in,
        httponly=True,
        samesite="lax",
        secure=get_settings().secure_cookies,
        path="/",
    )
    return finish(request, response)


def _signed_out() -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/logout", dependencies=[Depends(require_csrf)])
async def logout(request: Request, session: SessionDep) -> Response:
    """End the server-side session, not just the cookie: a copied cookie is refused afterwards."""
    try:
        principal = await load_principal(session, request.cookies.get(SESSION_COOKIE))
    except Unauthorized:
        return _signed_out()
    await session_service.end_current(session, principal)
    return _signed_out()


@router.get("/logout")
async def logout_page(request: Request, session: SessionDep) -> Response:
    """A link to /logout shows the sign-out button: ending a session takes a CSRF-checked POST."""
    try:
        principal = await load_principal(session, request.cookies.get(SESSION_COOKIE))
    except Unauthorized:
        return _signed_out()
    return render(request, "logout.html", {}, principal=principal)
