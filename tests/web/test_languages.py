"""Residents' pages in English, isiZulu and Afrikaans: how the language is chosen, and the switch."""

import uuid

import pytest
from sqlalchemy import select, update

from src.api.deps import SESSION_COOKIE
from src.models.user import User, UserRole
from src.web.language import LANG_COOKIE, from_accept_language
from tests.web.helpers import form_token, sign_in


async def _set_language(db, actor, language: str) -> None:
    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == actor.id).values(preferred_language=language))


async def _language_of(db, actor) -> str:
    async with db.system_session() as s:
        return await s.scalar(select(User.preferred_language).where(User.id == actor.id))


async def _resolved_report(client, world) -> str:
    """A water report made on the page by the world's citizen, then resolved by the manager."""
    token = await form_token(client, "/reports")
    r = await client.post("/reports", data={"category": "water", "description": "Burst pipe", "csrf_token": token})
    assert r.status_code == 303
    [t] = (await client.get("/api/v1/tickets", headers=world.citizen.headers)).json()["tickets"]
    r = await client.patch(
        f"/api/v1/tickets/{t['id']}/status", json={"status": "resolved"}, headers=world.manager.headers
    )
    assert r.status_code == 200
    return t["id"]


async def test_a_resident_who_prefers_isizulu_reads_their_pages_in_isizulu(client, db, world):
    await _set_language(db, world.citizen, "zu")
    sign_in(client, world.citizen)
    ticket_id = await _resolved_report(client, world)
    page = (await client.get("/reports")).text
    assert '<html lang="zu-ZA">' in page
    assert "<h1>Imibiko yami</h1>" in page and '<h2 id="report-heading">Bika inkinga</h2>' in page
    assert '<label for="r-category">Uhlobo</label>' in page and ">Amanzi</option>" in page
    assert '<span class="status status-resolved">Kuxazululiwe</span>' in page
    assert "My reports" not in page and "Report a problem" not in page
    assert 'data-finding="Kufunwa lapho ukhona…"' in page  # the words the page's script shows
    # the switch marks the language in use
    assert 'value="zu" lang="zu" class="link-button" aria-pressed="true">isiZulu</button>' in page
    assert 'value="en" lang="en" class="link-button" aria-pressed="false">English</button>' in page
    detail = (await client.get(f"/tickets/{ticket_id}")).text
    assert "Kubikwe ngohlobo: Amanzi." in detail  # the timeline's words for residents
    assert "Isimo: Kuvuliwe → Kuxazululiwe." in detail
    assert ">Vula kabusha umbiko wami</button>" in detail and '<h2 id="history-heading">Umlando</h2>' in detail
    gbv = (await client.get("/reports/gbv")).text
    assert "Yizikhulu zokuxhumana zamaphoyisa (SAPS) zikamasipala wakho kuphela, nawe." in gbv
    assert 'data-testid="quick-exit">Phuma ngokushesha</a>' in gbv


async def test_a_resident_who_prefers_afrikaans_reads_their_pages_in_afrikaans(client, db, factory, world):
    await _set_language(db, world.citizen, "af")
    sign_in(client, world.citizen)
    ticket_id = await _resolved_report(client, world)
    detail = (await client.get(f"/tickets/{ticket_id}")).text
    assert '<html lang="af-ZA">' in detail
    assert "Aangemeld as Water." in detail and "Van Oop na Opgelos." in detail
    assert ">Heropen my verslag</button>" in detail and "<dt>Ligging</dt>" in detail
    token = await form_token(client, f"/tickets/{ticket_id}")
    r = await client.post(f"/tickets/{ticket_id}/reopen", data={"reason": "", "csrf_token": token})
    assert r.status_code == 422 and "Sê in &#39;n paar woorde waarom die probleem nie reggemaak is nie." in r.text
    r = await client.post(f"/tickets/{ticket_id}/reopen", data={"reason": "Lek steeds", "csrf_token": token})
    page = (await client.get(r.headers["location"])).text
    assert "Jou verslag is weer oop; die span het nuwe sperdatums om dit reg te maak." in page
    assert "Heropen: Lek steeds" in page
    # the nearby partial and its "Follow this instead"
    other = await factory.user(world.municipality, UserRole.CITIZEN)
    await factory.ticket(world.municipality, reporter_id=other.id, latitude=-25.949, longitude=28.05, status="open")
    near = await client.get("/reports/nearby", params={"category": "water", "latitude": -25.95, "longitude": 28.05})
    assert "Reeds naby aangemeld" in near.text and ">Volg eerder hierdie een</button>" in near.text
    assert "111 m ver · aangemeld" in near.text and "Follow this instead" not in near.text
    # an error page, in the same language
    missing = await client.get(f"/tickets/{uuid.uuid4()}")
    assert missing.status_code == 404 and "<h1>Nie gevind nie</h1>" in missing.text


async def test_the_lang_cookie_chooses_the_language_of_an_anonymous_visitor(client, db):
    client.cookies.set(LANG_COOKIE, "af")
    page = (await client.get("/login")).text
    assert '<label for="email">E-pos</label>' in page and '<label for="password">Wagwoord</label>' in page
    assert '<button type="submit" class="button primary">Meld aan</button>' in page
    client.cookies.set(LANG_COOKIE, "zu")
    page = (await client.get("/login", headers={"Accept-Language": "af"})).text  # the cookie wins
    assert '<button type="submit" class="button primary">Ngena</button>' in page


async def test_the_users_preference_wins_over_the_cookie(client, db, world):
    await _set_language(db, world.citizen, "af")
    sign_in(client, world.citizen)
    client.cookies.set(LANG_COOKIE, "zu")
    page = (await client.get("/reports", headers={"Accept-Language": "zu"})).text
    assert "<h1>My verslae</h1>" in page


async def test_accept_language_chooses_when_there_is_no_cookie(client, db, world):
    page = (await client.get("/login", headers={"Accept-Language": "fr-FR, zu;q=0.8, af;q=0.5"})).text
    assert '<html lang="zu-ZA">' in page and "<h1>Ngena</h1>" in page
    public = (await client.get("/public", headers={"Accept-Language": "af-ZA,af;q=0.9"})).text
    assert "<h1>Hoe ons munisipaliteite vaar</h1>" in public
    assert f"Verslae per maand in {world.municipality.name}" in public


@pytest.mark.parametrize("cookie", ["xx", "", "EN", "zu-ZA"])
async def test_an_unknown_language_falls_back_to_english(client, db, cookie):
    client.cookies.set(LANG_COOKIE, cookie)
    page = (await client.get("/login", headers={"Accept-Language": "fr, de;q=0.9"})).text
    assert '<html lang="en-ZA">' in page and "<h1>Sign in</h1>" in page


def test_accept_language_is_read_by_quality_and_order():
    assert from_accept_language("af;q=0.4, zu;q=0.9") == "zu"
    assert from_accept_language("zu-ZA, af") == "zu"
    assert from_accept_language("en-GB,en;q=0.9,af;q=0.8") == "en"
    assert from_accept_language("af;q=0, fr") is None  # q=0 means "not this one"
    assert from_accept_language("af;q=abc") is None
    assert from_accept_language("*") is None and from_accept_language("") is None
    assert from_accept_language("zu," + "x" * 600) is None  # not a browser's header


async def test_the_switch_sets_the_cookie_and_the_signed_in_users_preference(client, db, world):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports?page=0")
    r = await client.post("/language", data={"lang": "zu", "next": "/reports?page=0", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/reports?page=0"
    cookie = r.headers["set-cookie"]
    assert f"{LANG_COOKIE}=zu" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert await _language_of(db, world.citizen) == "zu"
    client.cookies.delete(LANG_COOKIE)  # the preference alone carries it now
    assert "<h1>Imibiko yami</h1>" in (await client.get("/reports")).text
    # another user of the municipality keeps their own language
    assert await _language_of(db, world.manager) == "en"


async def test_the_switch_works_for_an_anonymous_visitor(client, db):
    token = await form_token(client, "/login")
    r = await client.post("/language", data={"lang": "af", "next": "/login?next=%2Freports", "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/login?next=%2Freports"
    page = (await client.get(r.headers["location"])).text
    assert "<h1>Meld aan</h1>" in page and 'name="next" value="/reports"' in page
    # a session that has ended only sets the cookie
    client.cookies.set(SESSION_COOKIE, "not-a-token")
    token = await form_token(client, "/login")
    r = await client.post("/language", data={"lang": "zu", "next": "/login", "csrf_token": token})
    assert r.status_code == 303 and f"{LANG_COOKIE}=zu" in r.headers["set-cookie"]


async def test_a_page_answering_a_form_switches_back_to_the_page_the_form_was_on(client, db, world):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    refused = await client.post(
        "/reports", data={"category": "", "csrf_token": token}, headers={"Referer": "http://test/reports?page=0"}
    )
    assert refused.status_code == 422 and 'name="next" value="/reports?page=0"' in refused.text
    elsewhere = await client.post(
        "/reports", data={"category": "", "csrf_token": token}, headers={"Referer": "https://evil.example/reports"}
    )
    assert elsewhere.status_code == 422 and 'name="next" value="/"' in elsewhere.text


async def test_the_switch_refuses_a_form_without_its_csrf_token(client, db, world):
    sign_in(client, world.citizen)
    await form_token(client, "/reports")
    r = await client.post("/language", data={"lang": "af", "next": "/reports"})
    assert r.status_code == 403 and "csrf_failed" in r.text
    r = await client.post("/language", data={"lang": "af", "next": "/reports", "csrf_token": "forged.token"})
    assert r.status_code == 403
    assert f"{LANG_COOKIE}=" not in r.headers.get("set-cookie", "")
    assert await _language_of(db, world.citizen) == "en"


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/x", "//evil.example/x", "/\\evil.example", "evil.example", "/\tevil", "", "javascript:x"],
)
async def test_the_switch_never_sends_anyone_off_site(client, db, target):
    token = await form_token(client, "/login")
    r = await client.post("/language", data={"lang": "af", "next": target, "csrf_token": token})
    assert r.status_code == 303 and r.headers["location"] == "/"


async def test_the_switch_refuses_a_language_it_does_not_have(client, db, world):
    sign_in(client, world.citizen)
    token = await form_token(client, "/reports")
    for lang in ("fr", "", "EN", "zu-ZA"):
        r = await client.post("/language", data={"lang": lang, "next": "/reports", "csrf_token": token})
        assert r.status_code == 422 and "Choose English, isiZulu or Afrikaans." in r.text
        assert f"{LANG_COOKIE}=" not in r.headers.get("set-cookie", "")
    assert await _language_of(db, world.citizen) == "en"


async def test_every_citizen_page_carries_the_labelled_switch(client, db, world):
    sign_in(client, world.citizen)
    for path in ("/reports", "/reports/gbv", "/logout", "/public"):
        page = (await client.get(path)).text
        assert 'action="/language"' in page, path
        assert '<legend class="visually-hidden">Language</legend>' in page, path
        assert page.count('name="lang"') == 3, path
