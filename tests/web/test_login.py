"""Signing in and out of the pages: the session cookie, CSRF, where each role lands."""

import pytest

from src.api.deps import SESSION_COOKIE
from src.core.security import decode_access_token
from src.web.csrf import CSRF_COOKIE
from tests.factories import PASSWORD
from tests.web.helpers import csrf_from, form_token, sign_in

LANDING = {
    "manager": "/dashboard",
    "admin": "/dashboard",
    "ward_councillor": "/dashboard",
    "saps_liaison": "/tickets",
    "field_worker": "/tickets",
    "citizen": "/reports",
}


async def test_the_login_page_has_labelled_fields_and_a_csrf_token(client, db):
    r = await client.get("/login")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert '<label for="email">Email</label>' in html
    assert '<label for="password">Password</label>' in html
    assert '<button type="submit" class="button primary">Sign in</button>' in html
    assert 'href="#main"' in html  # skip link
    token = csrf_from(html)
    cookie = r.headers["set-cookie"]
    assert f"{CSRF_COOKIE}={token}" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]


@pytest.mark.parametrize("role", list(LANDING))
async def test_signing_in_sets_a_secure_session_cookie_and_lands_by_role(client, world, role):
    actor = getattr(world, role)
    token = await form_token(client, "/login")
    r = await client.post("/login", data={"email": actor.user.email.upper(), "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 303
    assert r.headers["location"] == LANDING[role]
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    session = client.cookies.get(SESSION_COOKIE)
    claims = decode_access_token(session)
    assert claims is not None and claims.user_id == actor.id and claims.role == role
    landing = await client.get(LANDING[role])
    assert landing.status_code == 200
    assert actor.user.full_name in landing.text


async def test_wrong_password_is_401_with_a_message_and_no_session(client, world):
    token = await form_token(client, "/login")
    r = await client.post(
        "/login", data={"email": world.manager.user.email, "password": "wrong-password", "csrf_token": token}
    )
    assert r.status_code == 401
    assert "Incorrect email or password." in r.text
    assert f'value="{world.manager.user.email}"' in r.text
    assert client.cookies.get(SESSION_COOKIE) is None


async def test_an_inactive_account_cannot_sign_in(client, factory, world):
    from src.models.user import UserRole

    idle = await factory.user(world.municipality, UserRole.MANAGER, is_active=False)
    token = await form_token(client, "/login")
    r = await client.post("/login", data={"email": idle.user.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 401
    assert "not active" in r.text


@pytest.mark.parametrize("csrf", [None, "", "forged.0000", "other"])
async def test_sign_in_without_a_valid_csrf_token_is_refused(client, world, csrf):
    good = await form_token(client, "/login")
    data = {"email": world.manager.user.email, "password": PASSWORD}
    if csrf is not None:
        data["csrf_token"] = good[:-4] + "0000" if csrf == "other" else csrf
    r = await client.post("/login", data=data)
    assert r.status_code == 403
    assert "This form has expired" in r.text
    assert client.cookies.get(SESSION_COOKIE) is None


async def test_a_token_without_its_cookie_is_refused(client, world):
    token = await form_token(client, "/login")
    client.cookies.delete(CSRF_COOKIE)
    r = await client.post("/login", data={"email": world.manager.user.email, "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 403


async def test_a_token_from_another_session_is_refused(client, world):
    sign_in(client, world.manager)
    token = await form_token(client, "/tickets")
    sign_in(client, world.admin)  # same browser, a different session: the old token no longer fits
    r = await client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 403


async def test_next_is_followed_only_within_the_site(client, world):
    token = await form_token(client, "/login")
    for target, expected in (
        ("/tickets?status=open", "/tickets?status=open"),
        ("//evil.example/x", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
    ):
        client.cookies.delete(SESSION_COOKIE)
        r = await client.post(
            "/login",
            data={"email": world.manager.user.email, "password": PASSWORD, "csrf_token": token, "next": target},
        )
        assert r.headers["location"] == expected


async def test_pages_send_anonymous_visitors_to_sign_in_and_back(client, db):
    for path in ("/dashboard", "/tickets", "/reports", "/tickets/00000000-0000-0000-0000-000000000000"):
        r = await client.get(path)
        assert r.status_code == 303
        assert r.headers["location"].startswith("/login?next=")
    r = await client.get("/tickets?status=open")
    assert r.headers["location"] == "/login?next=%2Ftickets%3Fstatus%3Dopen"
    assert (await client.get("/")).headers["location"] == "/login"


async def test_an_invalid_session_cookie_is_cleared(client, db):
    client.cookies.set(SESSION_COOKIE, "not-a-token")
    r = await client.get("/tickets")
    assert r.status_code == 303
    assert any(c.startswith(f'{SESSION_COOKIE}=""') for c in r.headers.get_list("set-cookie"))


async def test_signing_out_clears_the_session(client, world):
    sign_in(client, world.manager)
    token = await form_token(client, "/tickets")
    r = await client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert _clears_session(r)
    r = await client.get("/logout")
    assert r.status_code == 303 and _clears_session(r)


def _clears_session(response) -> bool:
    return any(
        c.startswith(f'{SESSION_COOKIE}=""') and "Max-Age=0" in c for c in response.headers.get_list("set-cookie")
    )


async def test_signed_in_visitors_skip_the_login_page(client, world):
    sign_in(client, world.field_worker)
    r = await client.get("/login")
    assert r.status_code == 303 and r.headers["location"] == "/tickets"
    assert (await client.get("/")).headers["location"] == "/tickets"


async def test_overlong_credentials_are_a_page_not_a_crash(client, world):
    token = await form_token(client, "/login")
    r = await client.post("/login", data={"email": "a" * 5000, "password": "x", "csrf_token": token})
    assert r.status_code == 422
    assert "not valid" in r.text
