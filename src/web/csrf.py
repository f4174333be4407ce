"""CSRF protection for the pages' forms: a signed double-submit token.

The token is `<nonce>.<hmac>` where the HMAC (SECRET_KEY) covers the nonce and a digest of the
session cookie it was issued for. It travels twice: in an HTTP-only cookie and in a hidden
field of every POST form. A request is accepted only when both copies are equal and the
signature matches the session the request carries, so another site can neither read the
token nor forge one, and a token minted for one session is useless in another.
"""

import hashlib
import hmac
import secrets

from fastapi import Request, Response

from src.api.deps import SESSION_COOKIE
from src.core.config import get_settings
from src.core.security import secret_key

CSRF_COOKIE = "khanyisa_csrf"
CSRF_FIELD = "csrf_token"


def _binding(request: Request) -> str:
    session = request.cookies.get(SESSION_COOKIE, "")
    return hashlib.sha256(session.encode()).hexdigest() if session else "anonymous"


def _sign(nonce: str, binding: str) -> str:
    key = secret_key().encode()
    return hmac.new(key, f"csrf|{nonce}|{binding}".encode(), hashlib.sha256).hexdigest()


def _valid_for(token: str | None, binding: str) -> bool:
    if not token or token.count(".") != 1:
        return False
    nonce, signature = token.split(".")
    return hmac.compare_digest(signature, _sign(nonce, binding))


def token_for(request: Request) -> str:
    """The token to put in this page's forms: the cookie's when still valid, else a new one."""
    cached = getattr(request.state, "csrf_token", None)
    if cached:
        return cached
    current = request.cookies.get(CSRF_COOKIE)
    binding = _binding(request)
    token = current if _valid_for(current, binding) else None
    if token is None:
        nonce = secrets.token_urlsafe(24)
        token = f"{nonce}.{_sign(nonce, binding)}"
    request.state.csrf_token = token
    return token


def set_cookie(request: Request, response: Response) -> None:
    """Send the cookie copy when this page minted a token the browser does not hold yet."""
    token = getattr(request.state, "csrf_token", None)
    if token and token != request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="lax", secure=get_settings().secure_cookies, path="/"
        )


def is_valid(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not submitted or not cookie or not hmac.compare_digest(submitted, cookie):
        return False
    return _valid_for(submitted, _binding(request))
