"""Every error leaves as `{"detail": "...", "code": "..."}`; nothing answers 500 by accident."""

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from src.core.errors import AppError

log = logging.getLogger("khanyisa")

HTTP_CODES = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}


def error_response(status: int, detail: object, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"detail": jsonable_encoder(detail), "code": code}, status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(request: Request, exc: AppError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else getattr(exc, "headers", None)
        return error_response(exc.status, exc.detail, exc.code, headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{k: v for k, v in e.items() if k in ("loc", "msg", "type")} for e in exc.errors()]
        return error_response(422, errors, "validation_error")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, exc.detail, code, getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # Services check what they can first; a constraint that still fires is a conflict.
        log.info("integrity error: %s", exc.orig.__class__.__name__)
        return error_response(409, "This conflicts with existing data.", "conflict")

    @app.exception_handler(DBAPIError)
    async def db_error(request: Request, exc: DBAPIError) -> JSONResponse:
        sqlstate = getattr(exc.orig, "sqlstate", None) or ""
        if sqlstate.startswith("22"):  # data exception: a value PostgreSQL cannot take
            return error_response(422, "A value is out of range or malformed.", "invalid")
        # The kind of failure only: the message of some errors quotes the values involved.
        log.error("database error: %s (SQLSTATE %s)", exc.orig.__class__.__name__, sqlstate or "none")
        return error_response(503, "The database could not complete the request; try again.", "database_error")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "Something went wrong on our side.", "internal_error")
