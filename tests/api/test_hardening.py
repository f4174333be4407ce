"""Hardened responses: security headers everywhere, CSP on HTML, Secure cookies and HSTS behind
HTTPS, 413 before a large body is parsed, the API documentation switch."""

import httpx
from sqlalchemy import func, select

from src.core.config import Settings
from src.models.ticket import Ticket
from tests.api.security_helpers import API
from tests.factories import PASSWORD
from tests.web.helpers import sign_in as page_sign_in

MIB = 1024 * 1024


async def test_every_response_carries_nosniff_and_a_referrer_policy(client, world):
    page_sign_in(client, world.manager)
    for method, path in [
        ("GET", "/health"),
        ("GET", f"{API}/auth/me"),
        ("GET", f"{API}/no-such-route"),
        ("GET", "/static/app.css"),
        ("GET", "/openapi.json"),
        ("GET", "/login"),
        ("GET", "/dashboard"),
        ("POST", f"{API}/auth/token"),
    ]:
        r = await client.request(method, path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["referrer-policy"] == "same-origin", path
        assert "strict-transport-security" not in r.headers  # plain http in these tests


async def test_html_carries_a_strict_content_security_policy(client, world):
    r = await client.get("/login")
    policy = r.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy
    r = await client.get("/docs")
    assert r.status_code == 200 and "frame-ancestors 'none'" in r.headers["content-security-policy"]


async def test_secure_cookies_and_hsts_when_cookie_secure(client, world, configure):
    configure(COOKIE_SECURE="true")
    r = await client.get("/login")
    assert r.headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert "Secure" in r.headers["set-cookie"]
    token = r.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.cookies.set("khanyisa_csrf", token)  # a browser returns a Secure cookie over HTTPS
    r = await client.post("/login", data={"email": world.manager.user.email, "password": PASSWORD, "csrf_token": token})
    session_cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("khanyisa_session="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    assert (await client.get(f"{API}/auth/me")).headers["strict-transport-security"].startswith("max-age=")


def test_cookie_secure_defaults_to_true_with_a_database_url(monkeypatch):
    monkeypatch.delenv("COOKIE_SECURE", raising=False)
    assert Settings(database_url="postgresql://db.example.org/k", _env_file=None).secure_cookies is True
    assert Settings(database_url=None, _env_file=None).secure_cookies is False
    assert (
        Settings(database_url="postgresql://db.example.org/k", cookie_secure=False, _env_file=None).secure_cookies
        is False
    )


async def _ticket_count(db) -> int:
    async with db.system_session() as s:
        return await s.scalar(select(func.count()).select_from(Ticket))


async def test_a_declared_body_over_one_mebibyte_is_413_and_nothing_is_created(client, db, world):
    body = {"category": "water", "description": "x" * (MIB + 10)}
    r = await client.post(f"{API}/tickets", headers=world.citizen.headers, json=body)
    assert r.status_code == 413
    assert r.json() == {"detail": "The request body is larger than 1 MiB.", "code": "body_too_large"}
    assert r.headers["x-content-type-options"] == "nosniff"
    assert await _ticket_count(db) == 0


async def test_a_chunked_body_over_one_mebibyte_is_413(client, db, world):
    async def chunks():
        for _ in range(20):
            yield b"y" * (64 * 1024)

    r = await client.post(
        f"{API}/tickets", headers={**world.citizen.headers, "Content-Type": "application/json"}, content=chunks()
    )
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert await _ticket_count(db) == 0


async def test_a_chunked_body_within_the_limit_is_read_normally(client, db, world):
    import json

    payload = json.dumps({"category": "water", "description": "Burst pipe on the corner"}).encode()

    async def chunks():
        yield payload[:10]
        yield payload[10:]

    r = await client.post(
        f"{API}/tickets", headers={**world.citizen.headers, "Content-Type": "application/json"}, content=chunks()
    )
    assert r.status_code == 201, r.text
    assert r.json()["description"] == "Burst pipe on the corner"


async def test_a_page_form_over_the_limit_is_413_as_a_page(client, world):
    r = await client.post("/login", data={"email": "a@example.org", "password": "p" * (MIB + 1)})
    assert r.status_code == 413 and r.headers["content-type"].startswith("text/html")


async def test_an_open311_body_over_the_limit_is_413_in_the_requested_format(client, world):
    big = {"Content-Length": str(MIB + 1), "Content-Type": "application/x-www-form-urlencoded"}
    for _ in range(2):  # the second answer is the remembered rendering: the same bytes
        xml = await client.post("/open311/v2/requests.xml", headers=big, content=b"")
        assert xml.status_code == 413 and xml.headers["content-type"] == "text/xml; charset=utf-8"
        assert xml.text == (
            "<errors><error><code>413</code><description>The request body is larger than 1 MiB."
            "</description></error></errors>"
        )
        js = await client.post("/open311/v2/requests.json", headers=big, content=b"")
        assert js.status_code == 413
        assert js.json() == [{"code": 413, "description": "The request body is larger than 1 MiB."}]


async def test_api_docs_are_served_unless_turned_off(client, db, configure):
    assert (await client.get("/openapi.json")).status_code == 200
    assert (await client.get("/docs")).status_code == 200
    configure(API_DOCS="false")
    from src.main import create_app

    quiet = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=quiet), base_url="http://test") as c:
        for path in ("/docs", "/openapi.json", "/redoc"):
            assert (await c.get(path)).status_code == 404
        assert (await c.get("/health")).status_code == 200
