"""What every page shares: templates, the signed-in principal, friendly errors, security headers.

Pages read the principal exactly as the API does (`deps.load_principal`, from the session
cookie) inside the same one-transaction-per-request session, and every access decision is
made by `src.services.access` through the same services the API calls.
"""

import hashlib
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote, urlsplit

from fastapi import Depends, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from src.api.deps import SESSION_COOKIE, Reading, SessionDep, load_principal, open_reading
from src.core.errors import AppError, Forbidden, Unauthorized
from src.core.i18n import N_
from src.models.user import UserRole
from src.services import access
from src.services.principal import Principal
from src.web import csrf, formatting, language

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

ERROR_TITLES = {
    401: N_("Please sign in"),
    403: N_("Not available to your role"),
    404: N_("Not found"),
    409: N_("That change is not possible"),
    422: N_("Please check what you entered"),
}
UNKNOWN_ERROR_TITLE = N_("Something went wrong")
CSRF_REFUSED = N_("This form has expired or did not come from this site. Please go back, reload and try again.")
INVALID_VALUES = N_("Some of the values in the address or form are not valid.")


def _static_version() -> str:
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.glob("*")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


templates = Jinja2Templates(directory=str(HERE / "templates"))
env = templates.env
env.add_extension("jinja2.ext.i18n")
# `{% trans %}` blocks join their lines as `make messages` extracts them (babel.cfg: trimmed).
env.policies["ext.i18n.trimmed"] = True
env.install_gettext_callables(language.gettext, language.ngettext, newstyle=True)  # type: ignore[attr-defined]
env.globals.update(
    LANGUAGES=language.LANGUAGE_NAMES,
    static_version=_static_version(),
    CATEGORY_LABELS=formatting.CATEGORY_LABELS,
    STATUS_LABELS=formatting.STATUS_LABELS,
    SEVERITY_LABELS=formatting.SEVERITY_LABELS,
    ROLE_LABELS=formatting.ROLE_LABELS,
    DASHBOARD_ROLES=access.DASHBOARD_ROLES,
)
env.filters.update(
    sa_int=formatting.sa_int,
    sa_decimal=formatting.sa_decimal,
    sa_date=formatting.sa_date,
    digits=formatting.grouped_digits,
    band=formatting.percent_band,
    category_label=lambda v: language.translate(formatting.label(formatting.CATEGORY_LABELS, v)),
    status_label=lambda v: language.translate(formatting.label(formatting.STATUS_LABELS, v)),
    severity_label=lambda v: language.translate(formatting.label(formatting.SEVERITY_LABELS, v)),
    tr=language.translate,
    sla_label=lambda v: formatting.label(formatting.SLA_LABELS, v),
    role_label=lambda v: language.translate(formatting.label(formatting.ROLE_LABELS, v)),
)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    principal: Principal | None = None,
) -> HTMLResponse:
    """A page in the language `language.choose` picks: the signed-in user's, else the browser's."""
    lang = page_language(request, principal)
    ctx = {"me": principal, "csrf_token": csrf.token_for(request), **(context or {})}
    ctx.update(lang=lang, html_lang=language.HTML_LANG[lang], here=_here(request))
    tz = principal.timezone if principal else "Africa/Johannesburg"
    ctx.setdefault("when", lambda value: formatting.time_tag(value, tz, lang))
    ctx.setdefault("when_text", lambda value: formatting.sa_datetime(value, tz, lang))
    with language.speaking(lang):
        response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    return finish(request, response)


def page_language(request: Request, principal: Principal | None = None) -> str:
    """The page's language; a page rendered without its principal (an error met on the way)
    still follows the signed-in user's choice when the request loaded them."""
    return language.choose(request, principal or getattr(request.state, "principal", None))


def _here(request: Request) -> str:
    """Where the language switch brings the reader back to: this page, query included. A page
    answering a form (a refusal shown again) has no address of its own: the page the form was on."""
    if request.method == "GET":
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/"


R = TypeVar("R", bound=Response)


def finish(request: Request, response: R) -> R:
    response.headers.update(SECURITY_HEADERS)
    csrf.set_cookie(request, response)
    return response


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if request.cookies.get(SESSION_COOKIE):
        response.delete_cookie(SESSION_COOKIE, path="/")  # expired or no longer valid
    return response


def error_page(request: Request, status: int, detail: str, code: str = "") -> HTMLResponse:
    title = ERROR_TITLES.get(status, UNKNOWN_ERROR_TITLE)
    context = {"title": title, "detail": detail, "status": status, "code": code}
    return render(request, "error.html", context, status_code=status)


class PageRoute(APIRoute):
    """Page routes answer errors as pages: sign-in for 401, a friendly message otherwise."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Unauthorized:
                return login_redirect(request)
            except AppError as exc:
                return error_page(request, int(exc.status), exc.detail, exc.code)
            except (RequestValidationError, ValidationError):
                return error_page(request, 422, INVALID_VALUES, "invalid")

        return page_handler


async def page_principal(request: Request, session: SessionDep) -> Principal:
    request.state.principal = await load_principal(session, request.cookies.get(SESSION_COOKIE))
    return request.state.principal


PageUser = Annotated[Principal, Depends(page_principal, scope="function")]


async def page_reading(request: Request) -> AsyncIterator[Reading]:
    """The list's and the dashboard's pages read where the API's do (`deps.open_reading`)."""
    async with open_reading(request.cookies.get(SESSION_COOKIE)) as reading:
        yield reading


PageReading = Annotated[Reading, Depends(page_reading, scope="function")]


async def page_reader(reading: PageReading) -> Principal:
    return reading.principal


async def page_read_db(reading: PageReading) -> AsyncSession:
    return reading.session


PageReader = Annotated[Principal, Depends(page_reader, scope="function")]
PageReadSession = Annotated[AsyncSession, Depends(page_read_db, scope="function")]


async def require_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    if not csrf.is_valid(request, csrf_token):
        raise Forbidden(CSRF_REFUSED, "csrf_failed")


def landing_path(role: UserRole | str) -> str:
    """Where each role starts."""
    role = UserRole(role)
    if role in access.DASHBOARD_ROLES:
        return "/dashboard"
    if role is UserRole.CITIZEN:
        return "/reports"
    return "/tickets"


def same_site_path(target: str | None) -> str | None:
    """A path on this site ("/reports?page=2"), never another origin ("//evil", "/\\evil", "https:")."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):  # no control characters
        return None
    return target


def safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after sign-in, never another origin."""
    target = same_site_path(target)
    if target is None or target.startswith(("/login", "/logout")):
        return None
    return target
