"""Sign-in, the signed-in user, token validation and citizen registration."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import delete, select, text, update

from src.api.deps import SESSION_COOKIE
from src.core.config import get_settings
from src.core.security import ALGORITHM, secret_key
from src.models.municipality import Municipality
from src.models.user import Consent, User, UserRole
from src.services.consent_service import CONSENT_VERSION
from tests.factories import PASSWORD

API = "/api/v1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mint(claims: dict, key: str | None = None, algorithm: str = ALGORITHM) -> str:
    now = datetime.now(UTC)
    payload = {
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "typ": "access",
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key or secret_key(), algorithm=algorithm)


def claims_of(actor) -> dict:
    sid = jwt.decode(actor.token, secret_key(), algorithms=[ALGORITHM])["sid"]  # the actor's live session
    return {"sub": str(actor.id), "mun": str(actor.user.municipality_id), "role": actor.user.role, "sid": sid}


async def sign_in(client, username: str, password: str):
    return await client.post(f"{API}/auth/token", data={"username": username, "password": password})


async def set_user(db, user_id, **values) -> None:
    async with db.system_session() as s:
        await s.execute(update(User).where(User.id == user_id).values(**values))


# ---- POST /auth/token -------------------------------------------------------------------


async def test_sign_in_returns_a_bearer_token_carrying_the_users_identity(client, world):
    before = int(datetime.now(UTC).timestamp())
    r = await sign_in(client, world.manager.user.email, PASSWORD)
    assert r.status_code == 200
    body = r.json()
    minutes = get_settings().access_token_minutes
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", minutes * 60)
    claims = jwt.decode(body["access_token"], secret_key(), algorithms=[ALGORITHM])
    assert (claims["sub"], claims["mun"], claims["role"]) == (
        str(world.manager.id),
        str(world.municipality.id),
        "manager",
    )
    assert before + minutes * 60 <= claims["exp"] <= int(datetime.now(UTC).timestamp()) + minutes * 60
    me = await client.get(f"{API}/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == str(world.manager.id)


@pytest.mark.parametrize("transform", [str.upper, str.title, lambda e: f"  {e} "])
async def test_the_email_is_case_insensitive(client, world, transform):
    r = await sign_in(client, transform(world.citizen.user.email), PASSWORD)
    assert r.status_code == 200
    assert jwt.decode(r.json()["access_token"], secret_key(), algorithms=[ALGORITHM])["sub"] == str(world.citizen.id)


async def test_wrong_password_and_unknown_email_answer_alike(client, world):
    wrong = await sign_in(client, world.manager.user.email, PASSWORD + "x")
    unknown = await sign_in(client, "nobody@example.com", PASSWORD)
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert r.json() == {"detail": "Incorrect email or password.", "code": "invalid_credentials"}
        assert r.headers["www-authenticate"] == "Bearer"
        assert "access_token" not in r.text


async def test_an_inactive_user_or_municipality_cannot_sign_in(client, db, factory, world):
    inactive = await factory.user(world.municipality, UserRole.MANAGER, is_active=False)
    r = await sign_in(client, inactive.user.email, PASSWORD)
    assert r.status_code == 401 and "access_token" not in r.text
    async with db.system_session() as s:
        await s.execute(update(Municipality).where(Municipality.id == world.municipality.id).values(is_active=False))
    r = await sign_in(client, world.admin.user.email, PASSWORD)
    assert r.status_code == 401 and "access_token" not in r.text


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"username": "a@example.com"},
        {"password": PASSWORD},
        {"username": "x", "password": PASSWORD, "grant_type": "client_credentials"},
    ],
)
async def test_incomplete_forms_are_422(client, data):
    assert (await client.post(f"{API}/auth/token", data=data)).status_code == 422


async def test_a_json_body_is_not_a_form(client, world):
    r = await client.post(f"{API}/auth/token", json={"username": world.manager.user.email, "password": PASSWORD})
    assert r.status_code == 422


@pytest.mark.parametrize(
    "username,password",
    [("x" * 10_000, PASSWORD), ("a@example.com", "p" * 10_000), ("%' OR 1=1 --", "x"), ("é@ü.example", "ñ")],
)
async def test_odd_credentials_are_a_plain_401(client, world, username, password):
    assert (await sign_in(client, username, password)).status_code == 401


# ---- GET /auth/me -----------------------------------------------------------------------


async def test_me_describes_the_signed_in_user_exactly(client, world):
    for actor, ward, team in [
        (world.ward_councillor, str(world.ward.id), None),
        (world.field_worker, None, str(world.teams["water"].id)),
        (world.admin, None, None),
    ]:
        r = await client.get(f"{API}/auth/me", headers=actor.headers)
        assert r.status_code == 200
        assert r.json() == {
            "id": str(actor.id),
            "email": actor.user.email,
            "full_name": actor.user.full_name,
            "role": actor.user.role,
            "municipality_id": str(world.municipality.id),
            "municipality_code": world.municipality.code,
            "ward_id": ward,
            "team_id": team,
        }


async def test_the_session_cookie_authenticates_like_the_header(client, world):
    r = await client.get(f"{API}/auth/me", headers={"Cookie": f"{SESSION_COOKIE}={world.manager.token}"})
    assert r.status_code == 200 and r.json()["id"] == str(world.manager.id)


# ---- token validation -------------------------------------------------------------------


async def test_no_token_is_401(client):
    r = await client.get(f"{API}/auth/me")
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "auth", ["Bearer garbage", "Bearer ", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 10_000, "garbage"]
)
async def test_garbage_tokens_are_401(client, world, auth):
    r = await client.get(f"{API}/auth/me", headers={"Authorization": auth})
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"


async def test_tokens_not_signed_by_the_service_are_401(client, world):
    forged = [
        mint(claims_of(world.admin), key="another-secret-that-is-at-least-32-bytes-long"),
        mint({**claims_of(world.citizen), "role": "admin"}, key="x" * 40),
        jwt.encode(
            {**claims_of(world.admin), "exp": int(datetime.now(UTC).timestamp()) + 600, "typ": "access"},
            None,
            algorithm="none",
        ),
        mint(claims_of(world.admin), key=secret_key(), algorithm="HS512"),
    ]
    for token in forged:
        assert (await client.get(f"{API}/auth/me", headers=bearer(token))).status_code == 401
    # The same claims signed properly are accepted: the refusals above are about the signature.
    assert (await client.get(f"{API}/auth/me", headers=bearer(mint(claims_of(world.admin))))).status_code == 200


async def test_an_expired_token_is_401(client, world):
    past = datetime.now(UTC) - timedelta(minutes=5)
    token = mint(
        {**claims_of(world.manager), "iat": int((past - timedelta(hours=1)).timestamp()), "exp": int(past.timestamp())}
    )
    r = await client.get(f"{API}/auth/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"


async def test_a_token_accepted_before_is_refused_once_it_expires(client, world):
    """A verified token is remembered, with its expiry: its next use is refused when that passes."""
    token = mint({**claims_of(world.manager), "exp": int(datetime.now(UTC).timestamp()) + 2})
    assert (await client.get(f"{API}/auth/me", headers=bearer(token))).status_code == 200
    await asyncio.sleep(2.1)
    r = await client.get(f"{API}/auth/me", headers=bearer(token))
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"


async def test_a_token_signed_with_another_key_is_refused_even_when_its_twin_was_accepted(client, world):
    claims = {**claims_of(world.manager), "exp": int(datetime.now(UTC).timestamp()) + 600}
    assert (await client.get(f"{API}/auth/me", headers=bearer(mint(claims)))).status_code == 200
    forged = mint(claims, key="another-key-of-at-least-thirty-two-bytes!")
    assert (await client.get(f"{API}/auth/me", headers=bearer(forged))).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {"sub": None},
        {"mun": None},
        {"role": None},
        {"exp": None},
        {"sub": "not-a-uuid"},
        {"mun": 12},
        {"role": ["admin"]},
        {"typ": "refresh"},
        {"typ": None},
    ],
)
async def test_tokens_with_missing_or_malformed_claims_are_401(client, world, change):
    r = await client.get(f"{API}/auth/me", headers=bearer(mint({**claims_of(world.manager), **change})))
    assert r.status_code == 401


async def test_a_token_naming_another_municipality_is_401(client, world, other):
    token = mint({**claims_of(world.admin), "mun": str(other.municipality.id)})
    assert (await client.get(f"{API}/wards", headers=bearer(token))).status_code == 401
    token = mint({**claims_of(world.admin), "sub": str(uuid.uuid4())})
    assert (await client.get(f"{API}/wards", headers=bearer(token))).status_code == 401


async def test_a_token_for_a_deleted_user_is_401(client, db, factory, world):
    gone = await factory.user(world.municipality, UserRole.MANAGER)
    assert (await client.get(f"{API}/auth/me", headers=gone.headers)).status_code == 200
    async with db.system_session() as s:
        await s.execute(delete(User).where(User.id == gone.id))
    assert (await client.get(f"{API}/auth/me", headers=gone.headers)).status_code == 401


async def test_deactivation_applies_to_tokens_already_issued(client, db, world):
    assert (await client.get(f"{API}/wards", headers=world.manager.headers)).status_code == 200
    await set_user(db, world.manager.id, is_active=False)
    r = await client.get(f"{API}/wards", headers=world.manager.headers)
    assert r.status_code == 401 and r.json()["code"] == "invalid_token"


async def test_a_deactivated_municipality_signs_everyone_out(client, db, world):
    async with db.system_session() as s:
        await s.execute(update(Municipality).where(Municipality.id == world.municipality.id).values(is_active=False))
    assert (await client.get(f"{API}/auth/me", headers=world.admin.headers)).status_code == 401


async def test_a_role_change_applies_to_tokens_already_issued(client, db, world):
    assert (await client.get(f"{API}/wards", headers=world.manager.headers)).status_code == 200
    await set_user(db, world.manager.id, role="citizen")
    r = await client.get(f"{API}/wards", headers=world.manager.headers)
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    assert (await client.get(f"{API}/auth/me", headers=world.manager.headers)).json()["role"] == "citizen"
    # And upwards: a citizen made admin may administer at once, under the admin's database context.
    await set_user(db, world.citizen.id, role="admin")
    r = await client.post(
        f"{API}/wards", headers=world.citizen.headers, json={"code": "PROMOTED", "name": "Made by a new admin"}
    )
    assert r.status_code == 201


# ---- POST /auth/register ----------------------------------------------------------------

REGISTRATION = {
    "municipality_code": "",
    "email": "Lerato.Mokoena@Example.org",
    "password": "Citizen-Pass-1",
    "full_name": "Lerato Mokoena",
    "phone": "+27 71 000 1234",
    "preferred_language": "zu",
    "consent": True,
}


def registration(world, **changes) -> dict:
    return {**REGISTRATION, "municipality_code": world.municipality.code, **changes}


async def test_a_citizen_registers_with_consent_and_can_sign_in(client, db, world):
    before = datetime.now(UTC)
    r = await client.post(
        f"{API}/auth/register", json=registration(world, municipality_code=world.municipality.code.lower())
    )
    after = datetime.now(UTC)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body == {
        "email": "lerato.mokoena@example.org",
        "full_name": "Lerato Mokoena",
        "phone": "+27 71 000 1234",
        "role": "citizen",
        "municipality_id": str(world.municipality.id),
        "preferred_language": "zu",
        "is_active": True,
        "email_verified": False,
    }
    assert "password" not in r.text and "argon2" not in r.text
    async with db.system_session() as s:
        user = await s.scalar(select(User).where(User.email == "lerato.mokoena@example.org"))
        consents = list(await s.scalars(select(Consent).where(Consent.user_id == user.id)))
    assert (user.role, user.municipality_id, user.email) == (
        "citizen",
        world.municipality.id,
        "lerato.mokoena@example.org",
    )
    assert user.password_hash.startswith("$argon2id$")
    assert user.email_verified_at is None  # until the link of the verification e-mail is opened
    # Two records: the terms, and the processing of special personal information (a GBV report).
    assert sorted((c.municipality_id, c.purpose, c.version, c.withdrawn_at) for c in consents) == [
        (world.municipality.id, "special_information", CONSENT_VERSION, None),
        (world.municipality.id, "terms", CONSENT_VERSION, None),
    ]
    for consent in consents:
        assert before - timedelta(seconds=5) <= consent.given_at <= after + timedelta(seconds=5)
        assert consent.given_at.tzinfo is not None
    token = await sign_in(client, "LERATO.MOKOENA@example.org", "Citizen-Pass-1")
    assert token.status_code == 200
    me = await client.get(f"{API}/auth/me", headers=bearer(token.json()["access_token"]))
    assert (me.json()["id"], me.json()["role"]) == (str(user.id), "citizen")


async def test_optional_fields_default(client, world):
    body = registration(world)
    del body["phone"], body["preferred_language"]
    r = await client.post(f"{API}/auth/register", json=body)
    assert r.status_code == 201
    assert (r.json()["phone"], r.json()["preferred_language"]) == (None, "en")


async def test_consent_must_be_given(client, db, world):
    r = await client.post(f"{API}/auth/register", json=registration(world, consent=False))
    assert r.status_code == 422 and r.json()["code"] == "consent_required"
    body = registration(world)
    del body["consent"]
    assert (await client.post(f"{API}/auth/register", json=body)).status_code == 422
    for loose in ("yes", "true", 1, None, "on"):
        r = await client.post(f"{API}/auth/register", json=registration(world, consent=loose))
        assert r.status_code == 422, loose
    async with db.system_session() as s:
        assert await s.scalar(select(User).where(User.email == "lerato.mokoena@example.org")) is None
        assert list(await s.scalars(select(Consent))) == []


async def test_an_unknown_or_inactive_municipality_is_404(client, db, factory, world):
    r = await client.post(f"{API}/auth/register", json=registration(world, municipality_code="NOPE"))
    assert r.status_code == 404 and r.json()["code"] == "municipality_not_found"
    closed = await factory.municipality()
    async with db.system_session() as s:
        await s.execute(update(Municipality).where(Municipality.id == closed.id).values(is_active=False))
    r = await client.post(f"{API}/auth/register", json=registration(world, municipality_code=closed.code))
    assert r.status_code == 404


async def test_an_email_registered_in_another_municipality_answers_like_a_new_one(client, db, factory, world, other):
    """Registration reveals no account: the taken address gets the same answer (its owner is told
    by e-mail, tests/api/test_accounts_by_email.py), and no second account exists."""
    owner = await factory.user(other.municipality, UserRole.MANAGER, email="lerato.mokoena@example.org")
    taken = await client.post(f"{API}/auth/register", json=registration(world))
    fresh = await client.post(f"{API}/auth/register", json=registration(world, email="thabo@example.org"))
    assert taken.status_code == fresh.status_code == 201
    assert taken.json() == {**fresh.json(), "email": "lerato.mokoena@example.org"}
    async with db.system_session() as s:
        users = list(await s.scalars(select(User).where(User.email == "lerato.mokoena@example.org")))
    assert [u.id for u in users] == [owner.id]


async def test_concurrent_registrations_of_one_email_give_one_account(client, db, world):
    responses = await asyncio.gather(*(client.post(f"{API}/auth/register", json=registration(world)) for _ in range(3)))
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert responses[0].content == responses[1].content == responses[2].content
    async with db.system_session() as s:
        assert len(list(await s.scalars(select(User).where(User.email == "lerato.mokoena@example.org")))) == 1


async def test_a_registration_that_loses_the_race_on_the_unique_index_answers_like_a_new_one(client, db, world):
    """The email check passes (the other account is not committed yet); the insert then waits on
    the unique index and fails once the other transaction commits: the same 201, not a 500."""
    async with db.system_session() as s:
        s.add(
            User(
                municipality_id=world.municipality.id,
                email="lerato.mokoena@example.org",
                full_name="First",
                role="citizen",
                password_hash="x",
            )
        )
        await s.flush()
        request = asyncio.create_task(client.post(f"{API}/auth/register", json=registration(world)))
        while not request.done():  # wait until the registration is blocked behind this transaction
            waiting = await s.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                )
            )
            if waiting:
                break
            await asyncio.sleep(0.01)
    r = await request
    assert r.status_code == 201 and r.json()["email"] == "lerato.mokoena@example.org" and "id" not in r.json()
    async with db.system_session() as s:
        names = list(await s.scalars(select(User.full_name).where(User.email == "lerato.mokoena@example.org")))
    assert names == ["First"]


@pytest.mark.parametrize(
    "change",
    [
        {"role": "admin"},
        {"municipality_id": "00000000-0000-0000-0000-000000000000"},
        {"is_active": False},
        {"email": "not-an-email"},
        {"email": "a" * 250 + "@example.org"},
        {"password": "short"},
        {"password": "p" * 129},
        {"full_name": ""},
        {"full_name": "N" * 201},
        {"phone": "ring me"},
        {"preferred_language": "fr"},
        {"municipality_code": "X" * 11},
        {"municipality_code": None},
    ],
)
async def test_invalid_registrations_are_422(client, db, world, change):
    r = await client.post(f"{API}/auth/register", json=registration(world, **change))
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    async with db.system_session() as s:
        assert await s.scalar(select(User).where(User.role == "citizen", User.full_name == "Lerato Mokoena")) is None


@pytest.mark.parametrize("content", [b"{", b"", b"[]", b'{"consent": true,}'])
async def test_malformed_registration_json_is_422(client, content):
    r = await client.post(f"{API}/auth/register", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
