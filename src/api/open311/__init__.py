"""Open311 GeoReport v2, mounted at /open311 as its own application.

Its own application so that every answer under /open311 — an unknown route, a validation
error, a database failure, an unexpected exception — leaves as an Open311 error in the format
the path asks for (JSON unless it ends in `.xml`), never as the JSON API's error shape or an
HTML page. The main application's middleware still wraps it.
"""

import logging

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.api.open311.formats import error, format_of
from src.api.open311.routes import router
from src.core.errors import AppError

log = logging.getLogger("khanyisa")

# Open311 has no 401 or 422: a key problem is 403 and any invalid argument is 400.
STATUS_MAP = {401: 403, 422: 400}


class CatchAll:
    """The last line: an exception nothing else handled becomes an Open311 500, not a bare page."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if started or scope["type"] != "http":
                raise
            log.exception("open311: unhandled error")
            response = error(format_of(scope["path"]), 500, "Something went wrong on our side.")
            await response(scope, receive, send)


def create_open311_app() -> FastAPI:
    sub = FastAPI(title="Khanyisa Open311", docs_url=None, redoc_url=None, openapi_url=None)
    sub.include_router(router)
    sub.add_middleware(CatchAll)

    @sub.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> Response:
        status = STATUS_MAP.get(int(exc.status), int(exc.status))
        return error(format_of(request.url.path), status, exc.detail, getattr(exc, "headers", None))

    @sub.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error(format_of(request.url.path), 400, "An argument is missing or invalid.")

    @sub.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        description = "Not found." if exc.status_code == 404 else str(exc.detail)
        return error(format_of(request.url.path), exc.status_code, description, getattr(exc, "headers", None))

    @sub.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> Response:
        log.info("open311: integrity error: %s", exc.orig.__class__.__name__)
        return error(format_of(request.url.path), 409, "This conflicts with existing data.")

    @sub.exception_handler(DBAPIError)
    async def db_error(request: Request, exc: DBAPIError) -> Response:
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if sqlstate.startswith("22"):
            return error(format_of(request.url.path), 400, "A value is out of range or malformed.")
        log.exception("open311: database error")
        return error(format_of(request.url.path), 503, "The database could not complete the request; try again.")

    return sub
