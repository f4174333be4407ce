"""Erasure: a resident erases themselves, an administrator erases an account; the reports stay,
unlinked and without their text, the audit trail and every figure unchanged."""

import uuid

from sqlalchemy import text

from src.core import sealing
from src.models.user import UserRole
from src.services.erasure import ERASED_NAME, ERASED_TEXT, UNUSABLE_PASSWORD
from tests.api.admin_helpers import NON_ADMINS, assert_error, headers
from tests.api.privacy_helpers import API, ME, consents_of, erase_me, erase_user, give_consents, snapshot, user_row
from tests.api.ticket_helpers import report, set_status
from tests.factories import PASSWORD

EVENTS = "SELECT id, ticket_id, actor_id, kind, data::text, created_at FROM ticket_events ORDER BY id"
DASHBOARD = ("metrics", "volume", "sla", "workload")


async def _figures(client, world) -> dict:
    return {
        name: (await client.get(f"{API}/dashboard/{name}", headers=world.manager.headers)).json() for name in DASHBOARD
    }


async def _reporter_with_history(client, factory, world):
    """A resident with consents, a water report (resolved), a GBV report, and a follow; two sessions."""
    await give_consents(factory.db, world.citizen)
    water = await report(
        client, world.citizen, description="Leak outside 5 Protea Street", address="5 Protea Street", severity="high"
    )
    await set_status(client, world.manager, water["id"], "resolved", note="Valve replaced")
    gbv = await report(client, world.citizen, category="gbv", description="He follows me home", address="8 Fig Lane")
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    theirs = await report(client, neighbour)
    assert (await client.post(f"{API}/tickets/{theirs['id']}/follow", headers=world.citizen.headers)).status_code == 200
    second_session = await factory.session_token(world.citizen.user)
    return water, gbv, theirs, second_session


async def _assert_erased(client, db, world, water, gbv, theirs, events_before, figures_before, other_tokens=()):
    user = await user_row(db, world.citizen.id)
    assert (user.full_name, user.email, user.phone, user.is_active, user.totp_secret, user.totp_enabled) == (
        ERASED_NAME,
        f"erased-{world.citizen.id}@invalid",
        None,
        False,
        None,
        False,
    )
    assert user.password_hash == UNUSABLE_PASSWORD and user.erased_at is not None
    assert await consents_of(db, world.citizen) == [("special_information", False), ("terms", False)]
    # Every session is over; signing in with the old address is a wrong password.
    for token in (world.citizen.token, *other_tokens):
        me = await client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert_error(me, 401, "invalid_token")
    old_email = world.citizen.user.email
    signin = await client.post(f"{API}/auth/token", data={"username": old_email, "password": PASSWORD})
    assert_error(signin, 401, "invalid_credentials")
    # The reports stay for the record, unlinked, their text replaced; staff see them as before.
    rows = await snapshot(
        db,
        f"SELECT id::text, reporter_id, description, address, status, category FROM tickets "
        f"WHERE id IN ('{water['id']}', '{gbv['id']}', '{theirs['id']}') ORDER BY created_at",
    )
    assert [(r[0], r[1], r[4]) for r in rows] == [
        (water["id"], None, "resolved"),
        (gbv["id"], None, "open"),
        (theirs["id"], theirs["reporter_id"] and uuid.UUID(theirs["reporter_id"]), "open"),
    ]
    assert (rows[0][2], rows[0][3]) == (ERASED_TEXT, ERASED_TEXT)
    assert sealing.is_sealed(rows[1][2]) and sealing.is_sealed(rows[1][3])  # still sealed at rest
    assert (sealing.reveal(rows[1][2]), sealing.reveal(rows[1][3])) == (ERASED_TEXT, ERASED_TEXT)
    seen = (await client.get(f"{API}/tickets/{water['id']}", headers=world.manager.headers)).json()
    assert (seen["description"], seen["reporter_id"], seen["reporter_name"], seen["status"]) == (
        ERASED_TEXT,
        None,
        None,
        "resolved",
    )
    listed = (await client.get(f"{API}/tickets", headers=world.manager.headers)).json()
    assert sorted(t["id"] for t in listed["tickets"]) == sorted([water["id"], theirs["id"]])
    seen = (await client.get(f"{API}/tickets/{gbv['id']}", headers=world.saps_liaison.headers)).json()
    assert (seen["description"], seen["address"], seen["reporter_id"]) == (ERASED_TEXT, ERASED_TEXT, None)
    # Follows removed; the trail (before the SAPS read just above) and every figure unchanged.
    assert await snapshot(db, f"SELECT user_id FROM ticket_followers WHERE user_id = '{world.citizen.id}'") == []
    assert (await snapshot(db, EVENTS))[: len(events_before)] == events_before
    assert await _figures(client, world) == figures_before


async def test_a_resident_erases_themselves(client, db, factory, world):
    water, gbv, theirs, second = await _reporter_with_history(client, factory, world)
    events_before, figures_before = await snapshot(db, EVENTS), await _figures(client, world)
    r = await erase_me(client, world.citizen)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body == {
        "user_id": str(world.citizen.id),
        "erased_at": body["erased_at"],
        "reports_unlinked": 2,
        "consents_withdrawn": 2,
        "sessions_ended": 2,
        "follows_removed": 1,
    }
    await _assert_erased(client, db, world, water, gbv, theirs, events_before, figures_before, (second,))
    assert (await client.get(f"{API}/tickets/{theirs['id']}", headers=world.manager.headers)).json()["followers"] == 0


async def test_erasing_oneself_needs_the_current_password_and_a_resident(client, db, world):
    await give_consents(db, world.citizen)
    assert_error(await client.post(f"{ME}/erase", json={"password": PASSWORD}), 401, "invalid_token")
    for role in (
        UserRole.FIELD_WORKER,
        UserRole.MANAGER,
        UserRole.WARD_COUNCILLOR,
        UserRole.ADMIN,
        UserRole.SAPS_LIAISON,
    ):
        assert_error(await erase_me(client, world.actors[role]), 403, "forbidden")
    assert_error(await erase_me(client, world.citizen, "not-my-password"), 422, "wrong_current_password")
    for bad in ({}, {"password": ""}, {"password": PASSWORD, "extra": 1}, {"password": 5}):
        r = await client.post(f"{ME}/erase", json=bad, headers=world.citizen.headers)
        assert r.status_code == 422 and "code" in r.json(), r.text
    user = await user_row(db, world.citizen.id)
    assert (user.full_name, user.email, user.is_active, user.erased_at) == (
        world.citizen.user.full_name,
        world.citizen.user.email,
        True,
        None,
    )
    assert await consents_of(db, world.citizen) == [("special_information", True), ("terms", True)]
    assert (await client.get(f"{API}/auth/me", headers=world.citizen.headers)).status_code == 200


async def test_an_administrator_erases_an_account(client, db, factory, world):
    water, gbv, theirs, second = await _reporter_with_history(client, factory, world)
    events_before, figures_before = await snapshot(db, EVENTS), await _figures(client, world)
    r = await erase_user(client, world.admin, world.citizen.id)
    assert r.status_code == 200, r.text
    assert {k: v for k, v in r.json().items() if k != "erased_at"} == {
        "user_id": str(world.citizen.id),
        "reports_unlinked": 2,
        "consents_withdrawn": 2,
        "sessions_ended": 2,
        "follows_removed": 1,
    }
    await _assert_erased(client, db, world, water, gbv, theirs, events_before, figures_before, (second,))
    # Erasing twice is refused: there is nothing left to erase.
    assert_error(await erase_user(client, world.admin, world.citizen.id), 409, "already_erased")
    listed = (await client.get(f"{API}/users/{world.citizen.id}", headers=world.admin.headers)).json()
    assert (listed["full_name"], listed["email"], listed["is_active"]) == (
        ERASED_NAME,
        f"erased-{world.citizen.id}@invalid",
        False,
    )


async def test_an_erased_manager_no_longer_manages_teams(client, db, world):
    r = await erase_user(client, world.admin, world.manager.id)
    assert r.status_code == 200, r.text
    assert await snapshot(db, f"SELECT id FROM teams WHERE manager_id = '{world.manager.id}'") == []


async def test_erasing_an_account_refusals(client, db, world, other):
    target = world.citizen.id
    assert_error(await client.post(f"{API}/users/{target}/erase"), 401, "invalid_token")
    for role in NON_ADMINS:
        assert_error(await erase_user(client, world.actors[role], target), 403, "forbidden")
    assert_error(await erase_user(client, other.admin, target), 404, "not_found")  # another municipality's
    assert_error(await erase_user(client, world.admin, uuid.uuid4()), 404, "not_found")
    assert_error(await erase_user(client, world.admin, world.admin.id), 409, "self_lockout")
    r = await client.post(f"{API}/users/not-a-uuid/erase", headers=headers(world, UserRole.ADMIN))
    assert r.status_code == 422 and "code" in r.json()
    for actor in (world.citizen, world.admin):
        user = await user_row(db, actor.id)
        assert (user.full_name, user.is_active, user.erased_at) == (actor.user.full_name, True, None)
    assert (await client.get(f"{API}/auth/me", headers=world.citizen.headers)).status_code == 200


async def test_a_report_without_its_reporter_is_handled_as_before(client, db, world):
    t = await report(client, world.citizen)
    assert (await erase_user(client, world.admin, world.citizen.id)).status_code == 200
    done = await set_status(client, world.manager, t["id"], "in_progress")
    assert (done["status"], done["reporter_id"]) == ("in_progress", None)
    assert (await client.get(f"{API}/tickets/{t['id']}", headers=world.field_worker.headers)).status_code == 200
    async with db.system_session() as s:
        assert (await s.execute(text("SELECT count(*) FROM tickets WHERE reporter_id IS NULL"))).scalar() == 1
