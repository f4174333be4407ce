"""`GET /api/v1/me/data`: everything held about the caller, and nothing about anyone else."""

from src.models.user import UserRole
from tests.api.admin_helpers import assert_error
from tests.api.privacy_helpers import API, ME, give_consents
from tests.api.ticket_helpers import report, set_status

GBV_TEXT = "My neighbour threatens me at the taxi rank"
GBV_ADDRESS = "9 Baobab Close, Atteridgeville"


async def _scene(client, factory, world):
    """The citizen reports water and GBV, follows a neighbour's report; SAPS opens and lists the GBV one."""
    await give_consents(factory.db, world.citizen)
    water = await report(client, world.citizen, description="Leak by my gate", address="3 Aloe Road")
    gbv = await report(client, world.citizen, category="gbv", description=GBV_TEXT, address=GBV_ADDRESS)
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    theirs = await report(client, neighbour, description="Pothole on Church Street")
    assert (await client.post(f"{API}/tickets/{theirs['id']}/follow", headers=world.citizen.headers)).status_code == 200
    assert (await client.get(f"{API}/tickets/{gbv['id']}", headers=world.saps_liaison.headers)).status_code == 200
    assert (await client.get(f"{API}/tickets", headers=world.saps_liaison.headers)).status_code == 200
    await set_status(client, world.saps_liaison, gbv["id"], "in_progress", note="Case opened at the station")
    return water, gbv, theirs, neighbour


async def test_a_resident_receives_everything_held_about_them(client, factory, world):
    water, gbv, theirs, neighbour = await _scene(client, factory, world)
    r = await client.get(f"{ME}/data", headers=world.citizen.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    user = world.citizen.user
    assert set(body) == {
        "profile",
        "consents",
        "reports",
        "follows",
        "notification_settings",
        "sessions",
        "sensitive_reads",
    }
    assert body["profile"] == {
        "id": str(user.id),
        "email": user.email,
        "full_name": user.full_name,
        "phone": None,
        "role": "citizen",
        "municipality_id": str(world.municipality.id),
        "municipality_code": world.municipality.code,
        "ward_id": None,
        "team_id": None,
        "preferred_language": "en",
        "is_active": True,
        "totp_enabled": False,
        "created_at": body["profile"]["created_at"],
    }
    assert [(c["purpose"], c["version"], c["withdrawn_at"], c["in_force"]) for c in body["consents"]] == [
        ("special_information", "2026-01", None, True),
        ("terms", "2026-01", None, True),
    ]
    # Their two reports, newest first, the GBV text opened for its reporter, in the citizen view.
    reports = body["reports"]
    assert [t["id"] for t in reports] == [gbv["id"], water["id"]]
    assert (reports[0]["description"], reports[0]["address"]) == (GBV_TEXT, GBV_ADDRESS)
    assert (reports[1]["description"], reports[1]["address"]) == ("Leak by my gate", "3 Aloe Road")
    assert [e["kind"] for e in reports[0]["history"]] == ["status_changed", "created"]  # no viewed_sensitive
    assert reports[0]["history"][0]["data"] == {"from": "open", "to": "in_progress"}  # the internal note is left out
    assert reports[0]["history"][0]["actor_id"] is None and reports[0]["assigned_to"] is None
    assert [f["ticket_id"] for f in body["follows"]] == [theirs["id"]]
    assert body["notification_settings"] == {}
    assert [(s["address"], s["user_agent"], s["ended_at"]) for s in body["sessions"]] == [("127.0.0.1", "pytest", None)]
    # Who received the GBV report: roles and times, no names, no ids.
    reads = [(x["ticket_id"], x["tracking_number"], x["role"], x["how"]) for x in body["sensitive_reads"]]
    assert reads == [
        (gbv["id"], gbv["tracking_number"], "saps_liaison", "opened"),
        (gbv["id"], gbv["tracking_number"], "saps_liaison", "list"),
    ]
    assert set(body["sensitive_reads"][0]) == {"ticket_id", "tracking_number", "role", "at", "how"}
    for outsider in (world.saps_liaison.user, neighbour.user):
        assert outsider.full_name not in r.text and str(outsider.id) not in r.text and outsider.email not in r.text
    assert "Pothole on Church Street" not in r.text and "Case opened at the station" not in r.text


async def test_staff_receive_their_own_profile_and_sessions(client, factory, world):
    r = await client.get(f"{ME}/data", headers=world.manager.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["profile"]["id"], body["profile"]["role"]) == (str(world.manager.id), "manager")
    assert (body["consents"], body["reports"], body["follows"], body["sensitive_reads"]) == ([], [], [], [])
    assert len(body["sessions"]) == 1


async def test_another_resident_sees_nothing_of_the_first(client, factory, world, other):
    await _scene(client, factory, world)
    for actor in (await factory.user(world.municipality, UserRole.CITIZEN), other.citizen):
        body = (await client.get(f"{ME}/data", headers=actor.headers)).json()
        assert (body["profile"]["id"], body["reports"], body["follows"], body["sensitive_reads"]) == (
            str(actor.id),
            [],
            [],
            [],
        )


async def test_anonymous_and_ended_sessions_are_refused(client, world):
    assert_error(await client.get(f"{ME}/data"), 401, "invalid_token")
    assert (await client.post(f"{API}/auth/logout", headers=world.citizen.headers)).status_code == 204
    assert_error(await client.get(f"{ME}/data", headers=world.citizen.headers), 401, "invalid_token")


async def test_a_staff_reporter_reading_their_own_gbv_report_is_recorded(client, world):
    gbv = await report(client, world.admin, category="gbv", description="Phoned in from the clinic")
    body = (await client.get(f"{ME}/data", headers=world.admin.headers)).json()
    assert [t["description"] for t in body["reports"]] == ["Phoned in from the clinic"]
    history = (await client.get(f"{API}/tickets/{gbv['id']}/history", headers=world.saps_liaison.headers)).json()
    assert [(e["kind"], e["actor_id"]) for e in history][-2:] == [
        ("viewed_sensitive", str(world.admin.id)),
        ("created", str(world.admin.id)),
    ]
