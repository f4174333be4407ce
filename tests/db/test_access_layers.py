"""The two layers of the visibility rule agree: for every role and every kind of ticket,
what the API answers equals what PostgreSQL lets that role's transaction read with no
application filter at all.

* A ticket's detail answers 200 exactly for the rows `SELECT id FROM tickets` returns under the
  role's transaction settings (the `visibility` policy, i.e. `app_ticket_visible`).
* The list shows exactly the rows the database's own list rule, `app_ticket_listed`, keeps of
  those: the same rule in SQL that access.py writes for lists (admins open a GBV ticket's
  detail but never list one; staff open what they reported but list only their scope).
"""

import uuid

import pytest
from sqlalchemy import text

from src.core.database import TenantContext
from src.models.user import UserRole
from tests.api.ticket_helpers import API

ROLES = list(UserRole)
LISTED = text(
    "SELECT id FROM tickets WHERE app_ticket_listed(municipality_id, is_sensitive, ward_id, reporter_id, "
    "assigned_team_id, assigned_to, app_user_ward_id(), app_user_team_id())"
)


@pytest.fixture
async def kinds(factory, world, other) -> dict[str, uuid.UUID]:
    """One ticket of every kind that decides visibility, named by its kind."""
    own, elsewhere = world.ward.id, world.wards[1].id
    water, roads, saps = world.teams["water"].id, world.teams["roads"].id, world.teams["gbv"].id
    field_worker = world.actors[UserRole.FIELD_WORKER].id
    specs: dict[str, tuple] = {
        "own ward, field worker's team": (world, dict(category="water", ward_id=own, assigned_team_id=water)),
        "own ward, unassigned": (world, dict(category="roads", ward_id=own)),
        "other ward, another team": (world, dict(category="roads", ward_id=elsewhere, assigned_team_id=roads)),
        "other ward, field worker's team": (world, dict(category="water", ward_id=elsewhere, assigned_team_id=water)),
        "other ward, assigned to the field worker": (
            world,
            dict(category="roads", ward_id=elsewhere, assigned_team_id=roads, assigned_to=field_worker),
        ),
        "no ward": (world, dict(category="other")),
        "sensitive, own ward": (world, dict(category="gbv", ward_id=own, assigned_team_id=saps)),
        "sensitive, other ward": (world, dict(category="gbv", ward_id=elsewhere, assigned_team_id=saps)),
        "other municipality": (other, dict(category="water", ward_id=other.ward.id)),
        "other municipality, sensitive": (other, dict(category="gbv", reporter_id=other.citizen.id)),
    }
    for role, actor in world.actors.items():
        specs[f"reported by the {role.value}"] = (
            world,
            dict(category="roads", ward_id=elsewhere, reporter_id=actor.id),
        )
        specs[f"sensitive, reported by the {role.value}"] = (
            world,
            dict(category="gbv", ward_id=elsewhere, reporter_id=actor.id),
        )
    made = {}
    for name, (place, values) in specs.items():
        made[name] = (await factory.ticket(place.municipality, **values)).id
    return made


def named(ids: set, kinds: dict[str, uuid.UUID]) -> set[str]:
    by_id = {str(v): k for k, v in kinds.items()}
    return {by_id[str(i)] for i in ids}


@pytest.mark.parametrize("role", ROLES)
async def test_the_api_shows_what_the_database_lets_the_role_read(client, db, world, kinds, role):
    actor = world.actors[role]
    r = await client.get(API, params={"page_size": 200}, headers=actor.headers)
    assert r.status_code == 200, r.text
    api_listed = named({t["id"] for t in r.json()["tickets"]}, kinds)
    api_opened = set()
    for name, ticket_id in kinds.items():
        r = await client.get(f"{API}/{ticket_id}", headers=actor.headers)
        assert r.status_code in (200, 404), r.text
        if r.status_code == 200:
            api_opened.add(name)

    async with db.tenant_session(TenantContext(world.municipality.id, role.value, actor.id)) as s:
        db_readable = named(set(await s.scalars(text("SELECT id FROM tickets"))), kinds)
        db_listed = named(set(await s.scalars(LISTED)), kinds)

    assert api_opened == db_readable
    assert api_listed == db_listed
    # Neither layer lets a role read everything, nor leaves it nothing: the comparison means something.
    assert db_listed and db_readable < set(kinds)
    assert not any(name.startswith("other municipality") for name in db_readable)
