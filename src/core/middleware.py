"""What every request passes through before any route: rate limits, the body-size limit and the
security headers. Plain ASGI, so a refused request costs no routing, no parsing and no database.

Order (outermost first): headers (so refusals carry them too), rate limits (a refused request is
not even read), body size (nothing parses a body over the limit).
"""

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from typing import Any

from limits import RateLimitItem

from src.api.deps import SESSION_COOKIE
from src.core.client_address import client_address
from src.core.config import get_settings
from src.core.rate_limit import (
    ACCOUNT_REQUESTS_PER_ADDRESS,
    CALLS_PER_CLIENT,
    SIGN_IN_PER_ADDRESS,
    RateLimited,
    get_limiter,
)
from src.core.security import decode_access_token

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY_BYTES = 1024 * 1024
# Routes whose bodies may be larger: a photo upload (the service refuses a file over 10 MB with
# its own `too_large`; the margin is the multipart envelope around it), and the web report form,
# which carries up to 5 such photos with the report's own fields.
PHOTO_BODY_BYTES = 10 * 1024 * 1024 + 64 * 1024
LARGER_BODIES = (
    (re.compile(r"^/api/v1/tickets/[^/]+/photos$"), PHOTO_BODY_BYTES),
    (re.compile(r"^/reports$"), 5 * PHOTO_BODY_BYTES + MAX_BODY_BYTES),
)

SIGN_IN_PATHS = frozenset({"/api/v1/auth/token", "/login"})
ACCOUNT_REQUEST_PATHS = frozenset({"/api/v1/auth/register", "/api/v1/auth/password-reset"})
# The load balancer's probe and the pages' static files are never refused.
UNLIMITED_PATHS = frozenset({"/health"})
UNLIMITED_PREFIXES = ("/static/",)

# A request over its limit is answered after this wait, holding only a sleeping coroutine: a client
# that sends its next request as soon as the last one is answered (a guessing script) then makes
# one request per connection per wait instead of thousands a second. At most MAX_HELD_REFUSALS
# wait at once in a process (a few kilobytes each); past that a refusal is answered at once and
# closes its connection, so the client pays for a new one.
REFUSAL_DELAY_SECONDS = 1.0
MAX_HELD_REFUSALS = 1000

HTML_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# /docs loads Swagger UI from a CDN and starts it with an inline script; only that page gets this.
DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data: https://fastapi.tiangolo.com; "
    "style-src 'self' https://cdn.jsdelivr.net; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return None


def _error_kind(path: str) -> str:
    if path.startswith("/open311/"):
        return "open311-xml" if path.endswith(".xml") else "open311"
    return "api" if path.startswith("/api/") or path == "/openapi.json" else "page"


@lru_cache(maxsize=64)
def _error_body(kind: str, status: int, code: str, detail: str) -> tuple[str, bytes]:
    """The few refusals there are, rendered once each (a flood of them costs no encoding)."""
    if kind == "open311-xml":
        body = f"<errors><error><code>{status}</code><description>{detail}</description></error></errors>"
        return "text/xml; charset=utf-8", body.encode()
    if kind == "open311":
        return "application/json", json.dumps([{"code": status, "description": detail}]).encode()
    if kind == "api":
        return "application/json", json.dumps({"detail": detail, "code": code}).encode()
    page = f"<!doctype html><title>Khanyisa</title><h1>Please wait</h1><p>{detail}</p>"
    return "text/html; charset=utf-8", page.encode()


async def _send_error(send: Send, scope: Scope, status: int, code: str, detail: str, headers: dict[str, str]) -> None:
    """A refusal in the caller's language: JSON for the API, Open311's own shape, a page otherwise."""
    content_type, body = _error_body(_error_kind(scope.get("path", "")), status, code, detail)
    raw = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """nosniff and a referrer policy on every response; a strict CSP on HTML; HSTS behind HTTPS."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hsts = get_settings().secure_cookies
        docs = scope.get("path") == "/docs"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
                content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                if content_type.startswith(b"text/html"):
                    policy = DOCS_POLICY if docs else HTML_POLICY
                    extra += [(b"content-security-policy", policy.encode()), (b"x-frame-options", b"DENY")]
                if hsts:
                    extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
                headers += [(k, v) for k, v in extra if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RequestRateLimits:
    """Counts each request against the one limit its kind falls under, before reading it.

    Sign-in attempts and registration / password-reset requests are counted per client address
    (the per-account sign-in limit needs the submitted e-mail and lives in the sign-in service);
    any other call per signed-in user, or per address when anonymous.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.held = 0

    def _limit_for(self, scope: Scope) -> tuple[RateLimitItem, str] | None:
        path: str = scope["path"]
        if path in UNLIMITED_PATHS or path.startswith(UNLIMITED_PREFIXES):
            return None
        address = client_address(scope)
        if scope["method"] == "POST" and path in SIGN_IN_PATHS:
            return SIGN_IN_PER_ADDRESS, f"sign-in:{address}"
        if scope["method"] == "POST" and path in ACCOUNT_REQUEST_PATHS:
            return ACCOUNT_REQUESTS_PER_ADDRESS, f"account:{address}"
        return CALLS_PER_CLIENT, self._caller(scope, address)

    def _caller(self, scope: Scope, address: str) -> str:
        """The signed-in user when the request carries a valid token, else the address.

        The signature is checked, so nobody can spend another user's allowance by naming them.
        """
        token = None
        authorization = _header(scope, b"authorization")
        if authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
        else:
            cookie = _header(scope, b"cookie") or ""
            for part in cookie.split(";"):
                name, _, value = part.strip().partition("=")
                if name == SESSION_COOKIE:
                    token = value
        claims = decode_access_token(token) if token else None
        return f"user:{claims.user_id}" if claims else f"addr:{address}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not get_settings().rate_limits:
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        if limit is not None:
            try:
                await get_limiter().hit(*limit)
            except RateLimited as exc:
                await self._refuse(scope, send, exc)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send, refusal: RateLimited) -> None:
        """429 after REFUSAL_DELAY_SECONDS, its Retry-After counted from the answer; at once, with the
        connection closed, when MAX_HELD_REFUSALS are already waiting."""
        if self.held >= MAX_HELD_REFUSALS:
            headers = {**refusal.headers, "Connection": "close"}
            await _send_error(send, scope, 429, refusal.code, refusal.detail, headers)
            return
        self.held += 1
        try:
            await asyncio.sleep(REFUSAL_DELAY_SECONDS)
        finally:
            self.held -= 1
        retry_after = max(1, refusal.retry_after - int(REFUSAL_DELAY_SECONDS))
        await _send_error(send, scope, 429, refusal.code, refusal.detail, {"Retry-After": str(retry_after)})


class BodySizeLimit:
    """413 for a body over 1 MiB, declared (Content-Length) or streamed (chunked), before any parser
    sees it: a body without a declared length is read up to the limit here and handed on only
    when it fits (an empty one costs one await)."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _limit(self, scope: Scope) -> int:
        if scope.get("method") == "POST":
            for path, max_bytes in LARGER_BODIES:
                if path.match(scope.get("path", "")):
                    return max_bytes
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.isdigit() or int(declared) > limit:
                await self._refuse(send, scope)
                return
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(send, scope)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, scope: Scope) -> None:
        detail = (
            "The request body is too large."
            if self._limit(scope) != self.max_bytes
            else "The request body is larger than 1 MiB."
        )
        await _send_error(send, scope, 413, "body_too_large", detail, {"Connection": "close"})
