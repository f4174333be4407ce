"""Consents as records: listing one's own, and withdrawing one no open report needs."""

from datetime import UTC, datetime, timedelta

from src.models.user import UserRole
from tests.api.admin_helpers import assert_error, headers
from tests.api.privacy_helpers import API, ME, consents_of, give_consents, snapshot
from tests.api.ticket_helpers import report, set_status

STAFF = (UserRole.FIELD_WORKER, UserRole.MANAGER, UserRole.WARD_COUNCILLOR, UserRole.ADMIN, UserRole.SAPS_LIAISON)


def withdraw_url(purpose: str) -> str:
    return f"{ME}/consents/{purpose}/withdraw"


async def test_registration_records_two_consents_the_resident_can_read(client, world):
    body = {
        "municipality_code": world.municipality.code,
        "email": "thandi@example.org",
        "password": "Thandi-Pass-2026",
        "full_name": "Thandi Nkosi",
        "consent": True,
    }
    assert (await client.post(f"{API}/auth/register", json=body)).status_code == 201
    token = await client.post(
        f"{API}/auth/token", data={"username": "thandi@example.org", "password": body["password"]}
    )
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    r = await client.get(f"{ME}/consents", headers=auth)
    assert r.status_code == 200, r.text
    assert [(c["purpose"], c["version"], c["withdrawn_at"], c["in_force"]) for c in r.json()] == [
        ("special_information", "2026-01", None, True),
        ("terms", "2026-01", None, True),
    ]
    given = datetime.fromisoformat(r.json()[0]["given_at"])
    assert abs(given - datetime.now(UTC)) < timedelta(minutes=1)


async def test_consents_need_a_signed_in_caller_and_staff_have_none(client, world):
    assert_error(await client.get(f"{ME}/consents"), 401, "invalid_token")
    assert_error(await client.post(withdraw_url("terms")), 401, "invalid_token")
    assert (await client.get(f"{ME}/consents", headers=world.manager.headers)).json() == []


async def test_staff_may_not_withdraw(client, world):
    for role in STAFF:
        assert_error(await client.post(withdraw_url("terms"), headers=headers(world, role)), 403, "forbidden")


async def test_a_resident_without_open_reports_withdraws_and_the_record_stays(client, db, world):
    await give_consents(db, world.citizen)
    closed = await report(client, world.citizen)
    await set_status(client, world.manager, closed["id"], "closed")
    before = datetime.now(UTC)
    r = await client.post(withdraw_url("terms"), headers=world.citizen.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["purpose"], body["version"], body["in_force"]) == ("terms", "2026-01", False)
    assert before - timedelta(seconds=5) <= datetime.fromisoformat(body["withdrawn_at"]) <= datetime.now(UTC)
    assert await consents_of(db, world.citizen) == [("special_information", True), ("terms", False)]
    listed = (await client.get(f"{ME}/consents", headers=world.citizen.headers)).json()
    assert [(c["purpose"], c["in_force"]) for c in listed] == [("special_information", True), ("terms", False)]
    # Withdrawn once: there is no consent in force left to withdraw.
    assert_error(await client.post(withdraw_url("terms"), headers=world.citizen.headers), 404, "consent_not_found")


async def test_an_open_report_keeps_the_terms(client, db, world):
    await give_consents(db, world.citizen)
    await report(client, world.citizen)
    r = await client.post(withdraw_url("terms"), headers=world.citizen.headers)
    assert_error(r, 409, "consent_required_by_open_report")
    # The special-information consent is needed only by an open GBV report.
    assert (await client.post(withdraw_url("special_information"), headers=world.citizen.headers)).status_code == 200
    assert await consents_of(db, world.citizen) == [("special_information", False), ("terms", True)]


async def test_an_open_gbv_report_keeps_the_special_information_consent(client, db, world):
    await give_consents(db, world.citizen)
    gbv = await report(client, world.citizen, category="gbv", description="Threats at home")
    for status in ("in_progress", "escalated"):
        await set_status(client, world.saps_liaison, gbv["id"], status)
        r = await client.post(withdraw_url("special_information"), headers=world.citizen.headers)
        assert_error(r, 409, "consent_required_by_open_sensitive_report")
    assert await consents_of(db, world.citizen) == [("special_information", True), ("terms", True)]
    await set_status(client, world.saps_liaison, gbv["id"], "resolved")
    assert (await client.post(withdraw_url("special_information"), headers=world.citizen.headers)).status_code == 200


async def test_bad_purposes_and_other_peoples_consents(client, db, factory, world, other):
    await give_consents(db, world.citizen)
    for purpose in ("marketing", "TERMS", "%20"):
        r = await client.post(withdraw_url(purpose), headers=world.citizen.headers)
        assert r.status_code in (404, 422) and "code" in r.json(), r.text
    # Withdrawing acts on the caller's own consents only: a neighbour's and another municipality's stay.
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    await give_consents(db, neighbour)
    await give_consents(db, other.citizen)
    assert (await client.post(withdraw_url("terms"), headers=neighbour.headers)).status_code == 200
    assert await consents_of(db, world.citizen) == [("special_information", True), ("terms", True)]
    assert await consents_of(db, other.citizen) == [("special_information", True), ("terms", True)]
    # A resident with no consent recorded has nothing to withdraw.
    bare = await factory.user(world.municipality, UserRole.CITIZEN)
    assert_error(await client.post(withdraw_url("terms"), headers=bare.headers), 404, "consent_not_found")


def give_url(purpose: str) -> str:
    return f"{ME}/consents/{purpose}"


async def _count_reports(db, actor) -> int:
    rows = await snapshot(db, f"SELECT count(*) FROM tickets WHERE reporter_id = '{actor.id}'")
    return rows[0][0]


async def test_a_withdrawn_consent_is_given_again_before_reporting_what_needs_it(client, db, world):
    await give_consents(db, world.citizen)
    for purpose in ("terms", "special_information"):
        assert (await client.post(withdraw_url(purpose), headers=world.citizen.headers)).status_code == 200
    # Every report needs the terms; nothing is created while they are withdrawn.
    water = {"category": "water", "description": "Burst pipe", "latitude": -25.75, "longitude": 28.19}
    refused = await client.post(f"{API}/tickets", json=water, headers=world.citizen.headers)
    assert_error(refused, 409, "consent_withdrawn")
    assert "POST /api/v1/me/consents/terms" in refused.json()["detail"]
    assert await _count_reports(db, world.citizen) == 0
    # Given again: a new record (201), the withdrawn one kept; a second call answers the same record (200).
    given = await client.post(give_url("terms"), headers=world.citizen.headers)
    assert given.status_code == 201, given.text
    assert (given.json()["purpose"], given.json()["version"], given.json()["in_force"]) == ("terms", "2026-01", True)
    again = await client.post(give_url("terms"), headers=world.citizen.headers)
    assert (again.status_code, again.json()) == (200, given.json())
    assert sorted(await consents_of(db, world.citizen)) == [
        ("special_information", False),
        ("terms", False),
        ("terms", True),
    ]
    assert (await client.post(f"{API}/tickets", json=water, headers=world.citizen.headers)).status_code == 201
    # A GBV report also needs the special-information consent.
    gbv = {**water, "category": "gbv", "description": "Threatened at home"}
    assert_error(await client.post(f"{API}/tickets", json=gbv, headers=world.citizen.headers), 409, "consent_withdrawn")
    assert (await client.post(give_url("special_information"), headers=world.citizen.headers)).status_code == 201
    assert (await client.post(f"{API}/tickets", json=gbv, headers=world.citizen.headers)).status_code == 201
    assert await _count_reports(db, world.citizen) == 2


async def test_giving_a_consent_refusals(client, world):
    assert_error(await client.post(give_url("terms")), 401, "invalid_token")
    for role in STAFF:
        assert_error(await client.post(give_url("terms"), headers=headers(world, role)), 403, "forbidden")
    r = await client.post(give_url("marketing"), headers=world.citizen.headers)
    assert r.status_code == 422 and "code" in r.json(), r.text
