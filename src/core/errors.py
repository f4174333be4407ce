"""One error hierarchy; one handler turns it into `{"detail", "code"}`."""

from http import HTTPStatus


class AppError(Exception):
    status: int = HTTPStatus.BAD_REQUEST
    code: str = "bad_request"
    detail: str = "The request could not be processed."

    def __init__(self, detail: str | None = None, code: str | None = None) -> None:
        if detail is not None:
            self.detail = detail
        if code is not None:
            self.code = code
        super().__init__(self.detail)


class Unauthorized(AppError):
    status = HTTPStatus.UNAUTHORIZED
    code = "not_authenticated"
    detail = "Sign in to continue."


class Forbidden(AppError):
    status = HTTPStatus.FORBIDDEN
    code = "forbidden"
    detail = "Your role may not do this."


class NotFound(AppError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"
    detail = "Not found."


class Conflict(AppError):
    status = HTTPStatus.CONFLICT
    code = "conflict"
    detail = "This conflicts with the current state."


class Invalid(AppError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "invalid"
    detail = "The input is not valid."
