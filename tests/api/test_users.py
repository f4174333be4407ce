"""/users: admins manage accounts; managers read them; passwords never leave; emails are unique platform-wide."""

import pytest
from sqlalchemy import select

from src.models.team import Team
from src.models.user import User, UserRole
from tests.api.admin_helpers import API, MISSING, NON_ADMINS, NON_READERS, assert_error, headers, send_raw

FIELDS = {
    "id",
    "email",
    "full_name",
    "role",
    "ward_id",
    "team_id",
    "phone",
    "preferred_language",
    "is_active",
    "created_at",
}


def user_json(u: User) -> dict:
    return {
        "id": str(u.id),
        "email": u.email,
        "full_name": u.full_name,
        "role": u.role,
        "ward_id": str(u.ward_id) if u.ward_id else None,
        "team_id": str(u.team_id) if u.team_id else None,
        "phone": u.phone,
        "preferred_language": u.preferred_language,
        "is_active": u.is_active,
        "created_at": u.created_at.isoformat().replace("+00:00", "Z"),
    }


async def stored(db, user_id) -> User:
    async with db.system_session() as s:
        return await s.scalar(select(User).where(User.id == user_id))


async def sign_in(client, email: str, password: str):
    return await client.post(f"{API}/auth/token", data={"username": email, "password": password})


NEW = {
    "email": "Thandi.Nkosi@Example.COM",
    "password": "Strong-Pass-1",
    "full_name": "Thandi Nkosi",
    "role": "field_worker",
}


# ---- who may call -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "method,path", [("GET", "/users"), ("POST", "/users"), ("GET", "/users/{id}"), ("PATCH", "/users/{id}")]
)
async def test_anonymous_gets_401(client, world, method, path):
    r = await client.request(method, API + path.format(id=world.citizen.id), json=NEW)
    assert_error(r, 401, "invalid_token")


@pytest.mark.parametrize("role", NON_READERS)
async def test_roles_other_than_admin_and_manager_may_not_read(client, world, role):
    assert_error(await client.get(f"{API}/users", headers=headers(world, role)), 403, "forbidden")
    assert_error(
        await client.get(f"{API}/users/{world.actors[role].id}", headers=headers(world, role)), 403, "forbidden"
    )


@pytest.mark.parametrize("role", NON_ADMINS)
async def test_only_admins_may_create_or_change(client, db, world, role):
    assert_error(await client.post(f"{API}/users", headers=headers(world, role), json=NEW), 403, "forbidden")
    r = await client.patch(f"{API}/users/{world.actors[role].id}", headers=headers(world, role), json={"role": "admin"})
    assert_error(r, 403, "forbidden")
    assert (await stored(db, world.actors[role].id)).role == role.value
    async with db.system_session() as s:
        assert await s.scalar(select(User).where(User.email == "thandi.nkosi@example.com")) is None


async def test_a_user_of_another_municipality_is_not_found(client, db, world, other):
    foreign = other.manager.id
    for hdrs in (world.admin.headers, world.manager.headers):
        assert_error(await client.get(f"{API}/users/{foreign}", headers=hdrs), 404, "not_found")
    r = await client.patch(f"{API}/users/{foreign}", headers=world.admin.headers, json={"is_active": False})
    assert_error(r, 404, "not_found")
    assert (await stored(db, foreign)).is_active is True
    assert_error(await client.get(f"{API}/users/{MISSING}", headers=world.admin.headers), 404, "not_found")


@pytest.mark.parametrize("bad", ["me", "42", "00000000-0000-0000-0000-00000000000g", "z" * 400])
async def test_bad_ids_in_the_path_are_refused_not_500(client, world, bad):
    for method in ("GET", "PATCH"):
        r = await client.request(method, f"{API}/users/{bad}", headers=world.admin.headers, json={})
        assert r.status_code in (404, 422)


# ---- reading ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [UserRole.ADMIN, UserRole.MANAGER])
async def test_list_returns_exactly_this_municipalitys_users_without_secrets(client, world, other, role):
    r = await client.get(f"{API}/users", headers=headers(world, role))
    assert r.status_code == 200
    users = sorted((a.user for a in world.actors.values()), key=lambda u: (u.full_name, str(u.id)))
    assert r.json() == [user_json(u) for u in users]
    assert all(set(u) == FIELDS for u in r.json())
    assert "argon2" not in r.text and "password" not in r.text


async def test_list_filters_and_pages(client, factory, world):
    extra = await factory.user(world.municipality, UserRole.MANAGER, is_active=False)
    r = await client.get(f"{API}/users", headers=world.admin.headers, params={"role": "manager"})
    assert sorted(u["id"] for u in r.json()) == sorted([str(world.manager.id), str(extra.id)])
    r = await client.get(f"{API}/users", headers=world.admin.headers, params={"role": "manager", "is_active": "false"})
    assert [u["id"] for u in r.json()] == [str(extra.id)]
    everyone = (await client.get(f"{API}/users", headers=world.admin.headers)).json()
    assert len(everyone) == 7
    first = (await client.get(f"{API}/users", headers=world.admin.headers, params={"limit": 3})).json()
    rest = (await client.get(f"{API}/users", headers=world.admin.headers, params={"limit": 10, "offset": 3})).json()
    assert first + rest == everyone


@pytest.mark.parametrize(
    "params",
    [{"role": "superuser"}, {"limit": 0}, {"limit": 1001}, {"offset": -1}, {"is_active": "sometimes"}, {"limit": "x"}],
)
async def test_list_rejects_bad_query_parameters(client, world, params):
    assert (await client.get(f"{API}/users", headers=world.admin.headers, params=params)).status_code == 422


async def test_detail_returns_the_user_without_secrets(client, world):
    r = await client.get(f"{API}/users/{world.ward_councillor.id}", headers=world.manager.headers)
    assert r.status_code == 200
    assert r.json() == user_json(world.ward_councillor.user)
    assert r.json()["ward_id"] == str(world.ward.id)


# ---- creating ---------------------------------------------------------------------------


async def test_admin_creates_a_field_worker_who_can_then_sign_in(client, db, world):
    body = {**NEW, "team_id": str(world.teams["roads"].id), "phone": "+27 82 555 0101", "preferred_language": "zu"}
    r = await client.post(f"{API}/users", headers=world.admin.headers, json=body)
    assert r.status_code == 201, r.text
    user = await stored(db, r.json()["id"])
    assert r.json() == user_json(user)
    assert (
        user.municipality_id,
        user.email,
        user.full_name,
        user.role,
        user.team_id,
        user.phone,
        user.preferred_language,
        user.is_active,
    ) == (
        world.municipality.id,
        "thandi.nkosi@example.com",
        "Thandi Nkosi",
        "field_worker",
        world.teams["roads"].id,
        "+27 82 555 0101",
        "zu",
        True,
    )
    assert user.password_hash.startswith("$argon2id$") and "Strong-Pass-1" not in user.password_hash
    assert "password" not in r.text and "argon2" not in r.text
    token = await sign_in(client, "THANDI.NKOSI@example.com", "Strong-Pass-1")
    assert token.status_code == 200
    me = await client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert (me.json()["id"], me.json()["role"], me.json()["team_id"]) == (
        r.json()["id"],
        "field_worker",
        str(world.teams["roads"].id),
    )


async def test_defaults(client, world):
    r = await client.post(f"{API}/users", headers=world.admin.headers, json={**NEW, "role": "citizen"})
    assert r.status_code == 201
    body = r.json()
    assert {k: body[k] for k in ("role", "ward_id", "team_id", "phone", "preferred_language", "is_active")} == {
        "role": "citizen",
        "ward_id": None,
        "team_id": None,
        "phone": None,
        "preferred_language": "en",
        "is_active": True,
    }


async def test_email_is_unique_across_the_platform(client, factory, world, other):
    await factory.user(other.municipality, UserRole.CITIZEN, email="taken@example.org")
    r = await client.post(f"{API}/users", headers=world.admin.headers, json={**NEW, "email": "Taken@Example.org"})
    assert_error(r, 409, "email_taken")
    assert (await client.post(f"{API}/users", headers=world.admin.headers, json=NEW)).status_code == 201
    r = await client.post(f"{API}/users", headers=world.admin.headers, json={**NEW, "email": NEW["email"].upper()})
    assert_error(r, 409, "email_taken")


async def test_a_councillor_needs_a_ward_of_this_municipality(client, world, other):
    councillor = {**NEW, "role": "ward_councillor"}
    assert_error(await client.post(f"{API}/users", headers=world.admin.headers, json=councillor), 422, "ward_required")
    r = await client.post(
        f"{API}/users", headers=world.admin.headers, json={**councillor, "ward_id": str(other.ward.id)}
    )
    assert_error(r, 422, "unknown_ward")
    r = await client.post(
        f"{API}/users", headers=world.admin.headers, json={**councillor, "ward_id": str(world.wards[1].id)}
    )
    assert r.status_code == 201 and r.json()["ward_id"] == str(world.wards[1].id)


async def test_ward_and_team_must_belong_to_this_municipality(client, world, other):
    for body, code in [
        ({**NEW, "ward_id": str(other.ward.id)}, "unknown_ward"),
        ({**NEW, "ward_id": MISSING}, "unknown_ward"),
        ({**NEW, "team_id": str(other.teams["water"].id)}, "unknown_team"),
        ({**NEW, "team_id": MISSING}, "unknown_team"),
    ]:
        assert_error(await client.post(f"{API}/users", headers=world.admin.headers, json=body), 422, code)


@pytest.mark.parametrize(
    "change",
    [
        {"email": None},
        {"email": "not-an-email"},
        {"email": "a@" + "b" * 250 + ".com"},
        {"email": "x@" + "example.com" * 30},
        {"password": None},
        {"password": "short"},
        {"password": "p" * 129},
        {"full_name": ""},
        {"full_name": "F" * 201},
        {"role": "superuser"},
        {"role": None},
        {"preferred_language": "fr"},
        {"phone": "call me"},
        {"phone": "1" * 40},
        {"is_active": "perhaps"},
        {"ward_id": "ward-1"},
        {"password_hash": "$argon2id$forged"},
        {"municipality_id": MISSING},
        {"id": MISSING},
    ],
)
async def test_invalid_bodies_are_422(client, world, change):
    body = {**NEW, **change}
    assert_error(await client.post(f"{API}/users", headers=world.admin.headers, json=body), 422, "validation_error")


@pytest.mark.parametrize("content", [b"{", b"null", b"{'email': 1}", b'{"email": "a@example.com",'])
async def test_malformed_json_is_422(client, world, content):
    assert (await send_raw(client, "POST", f"{API}/users", world.admin.headers, content)).status_code == 422
    assert (
        await send_raw(client, "PATCH", f"{API}/users/{world.citizen.id}", world.admin.headers, content)
    ).status_code == 422


# ---- changing ---------------------------------------------------------------------------


async def test_admin_changes_an_account_and_only_what_is_sent(client, db, world):
    url = f"{API}/users/{world.citizen.id}"
    r = await client.patch(
        url,
        headers=world.admin.headers,
        json={"full_name": "Sipho Dlamini", "phone": "012 345 6789", "preferred_language": "af"},
    )
    assert r.status_code == 200
    user = await stored(db, world.citizen.id)
    assert r.json() == user_json(user)
    assert (user.full_name, user.phone, user.preferred_language, user.role, user.email) == (
        "Sipho Dlamini",
        "012 345 6789",
        "af",
        "citizen",
        world.citizen.user.email,
    )
    r = await client.patch(url, headers=world.admin.headers, json={"phone": None})
    assert r.json()["phone"] is None and r.json()["full_name"] == "Sipho Dlamini"


async def test_patch_validates_the_resulting_account(client, db, world, other):
    citizen, councillor = world.citizen.id, world.ward_councillor.id
    cases = [
        (citizen, {"role": "ward_councillor"}, "ward_required"),
        (councillor, {"ward_id": None}, "ward_required"),
        (citizen, {"role": "ward_councillor", "ward_id": str(other.ward.id)}, "unknown_ward"),
        (citizen, {"team_id": str(other.teams["water"].id)}, "unknown_team"),
    ]
    for user_id, body, code in cases:
        assert_error(await client.patch(f"{API}/users/{user_id}", headers=world.admin.headers, json=body), 422, code)
    assert (await stored(db, citizen)).role == "citizen"
    assert (await stored(db, councillor)).ward_id == world.ward.id
    r = await client.patch(
        f"{API}/users/{citizen}",
        headers=world.admin.headers,
        json={"role": "ward_councillor", "ward_id": str(world.ward.id)},
    )
    assert r.status_code == 200 and (r.json()["role"], r.json()["ward_id"]) == ("ward_councillor", str(world.ward.id))


async def test_patch_email_is_lower_cased_and_unique_platform_wide(client, factory, db, world, other):
    await factory.user(other.municipality, UserRole.CITIZEN, email="elsewhere@example.org")
    url = f"{API}/users/{world.citizen.id}"
    assert_error(
        await client.patch(url, headers=world.admin.headers, json={"email": "ELSEWHERE@example.org"}),
        409,
        "email_taken",
    )
    r = await client.patch(url, headers=world.admin.headers, json={"email": "New.Address@Example.org"})
    assert r.status_code == 200 and r.json()["email"] == "new.address@example.org"
    assert (await stored(db, world.citizen.id)).email == "new.address@example.org"


async def test_password_reset_replaces_the_old_password(client, world):
    from tests.factories import PASSWORD

    email = world.field_worker.user.email
    assert (await sign_in(client, email, PASSWORD)).status_code == 200
    r = await client.patch(
        f"{API}/users/{world.field_worker.id}", headers=world.admin.headers, json={"password": "Brand-New-Pass-9"}
    )
    assert r.status_code == 200 and "password" not in r.text
    assert (await sign_in(client, email, PASSWORD)).status_code == 401
    assert (await sign_in(client, email, "Brand-New-Pass-9")).status_code == 200


async def test_deactivation_takes_effect_at_once(client, world):
    assert (await client.get(f"{API}/auth/me", headers=world.manager.headers)).status_code == 200
    r = await client.patch(f"{API}/users/{world.manager.id}", headers=world.admin.headers, json={"is_active": False})
    assert r.status_code == 200 and r.json()["is_active"] is False
    assert_error(await client.get(f"{API}/wards", headers=world.manager.headers), 401, "invalid_token")


async def test_an_admin_cannot_remove_their_own_access(client, db, world):
    url = f"{API}/users/{world.admin.id}"
    for body in ({"role": "manager"}, {"is_active": False}):
        assert_error(await client.patch(url, headers=world.admin.headers, json=body), 409, "self_lockout")
    admin = await stored(db, world.admin.id)
    assert (admin.role, admin.is_active) == ("admin", True)
    r = await client.patch(url, headers=world.admin.headers, json={"full_name": "Still Admin"})
    assert r.status_code == 200 and r.json()["full_name"] == "Still Admin"


async def test_a_demoted_or_deactivated_manager_stops_managing_teams(client, db, world, factory):
    async def managed_by(user_id) -> set:
        async with db.system_session() as s:
            return set(await s.scalars(select(Team.id).where(Team.manager_id == user_id)))

    assert len(await managed_by(world.manager.id)) == 7
    second = await factory.user(world.municipality, UserRole.MANAGER)
    await client.patch(
        f"{API}/teams/{world.teams['water'].id}", headers=world.admin.headers, json={"manager_id": str(second.id)}
    )
    r = await client.patch(f"{API}/users/{world.manager.id}", headers=world.admin.headers, json={"role": "citizen"})
    assert r.status_code == 200
    assert await managed_by(world.manager.id) == set()
    assert await managed_by(second.id) == {world.teams["water"].id}
    await client.patch(f"{API}/users/{second.id}", headers=world.admin.headers, json={"is_active": False})
    assert await managed_by(second.id) == set()


@pytest.mark.parametrize(
    "body",
    [
        {"email": None},
        {"role": None},
        {"is_active": None},
        {"full_name": None},
        {"password": None},
        {"preferred_language": None},
        {"hash": "x"},
    ],
)
async def test_patch_rejects_nulls_and_unknown_fields(client, db, world, body):
    r = await client.patch(f"{API}/users/{world.citizen.id}", headers=world.admin.headers, json=body)
    assert_error(r, 422, "validation_error")
    assert user_json(await stored(db, world.citizen.id)) == user_json(world.citizen.user)
