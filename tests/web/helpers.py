"""Shared steps for the page tests: signing in through the cookie and reading forms."""

import re

from src.api.deps import SESSION_COOKIE
from src.web.csrf import CSRF_COOKIE

TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def sign_in(client, actor) -> None:
    """The session cookie the sign-in page sets (the page itself is tested in test_login)."""
    client.cookies.set(SESSION_COOKIE, actor.token)


def csrf_from(html: str) -> str:
    match = TOKEN_FIELD.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def form_token(client, path: str) -> str:
    """Load a page as the browser would and return the CSRF token its forms carry."""
    r = await client.get(path)
    assert r.status_code == 200, r.text
    token = csrf_from(r.text)
    assert client.cookies.get(CSRF_COOKIE) == token
    return token


def rows_of(html: str) -> list[str]:
    """The <tr> elements of the page's <tbody>."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr\b.*?</tr>", body, flags=re.S)
