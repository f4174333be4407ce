"""Row-level security is the second layer: queries with no filter at all, run in a
tenant transaction, still see only that municipality, and sensitive tickets only for the roles
allowed to see them. The test database connection is the superuser `postgres`, so these tests
also show that a privileged DATABASE_URL does not bypass the policies.
"""

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from src.core.database import APP_ROLE, TenantContext
from src.models.user import UserRole

TENANT_TABLES = ("wards", "teams", "team_wards", "users", "consents", "sla_policies", "tickets", "ticket_events")


async def count(session, table: str, where: str = "true", **params) -> int:
    # Table names come from the fixed tuple above, never from input.
    return await session.scalar(text(f"SELECT count(*) FROM {table} WHERE {where}"), params)


async def add_event(db, ticket, kind: str = "commented") -> int:
    async with db.system_session() as s:
        return await s.scalar(
            text(
                "INSERT INTO ticket_events (municipality_id, ticket_id, kind, data) "
                "VALUES (:m, :t, :k, '{}'::jsonb) RETURNING id"
            ),
            {"m": ticket.municipality_id, "t": ticket.id, "k": kind},
        )


@pytest.fixture
async def scene(db, factory, world, other):
    """Both municipalities with ordinary and GBV tickets, events, SLA policies and team wards."""
    t = {
        "water": await factory.ticket(world.municipality, category="water", reporter_id=world.citizen.id),
        "roads": await factory.ticket(world.municipality, category="roads"),
        "gbv": await factory.ticket(world.municipality, category="gbv", reporter_id=world.citizen.id),
        "other_water": await factory.ticket(other.municipality, category="water"),
        "other_gbv": await factory.ticket(other.municipality, category="gbv", reporter_id=other.citizen.id),
    }
    for key in t:
        await add_event(db, t[key], "created")
    await add_event(db, t["gbv"], "commented")
    for w in (world, other):
        await factory.sla(w.municipality, None, None, 24, 168)
        await factory.team(w.municipality, "roads", ward_ids=[w.ward.id], name="Roads ward team")
    return t


def ctx(world, role: UserRole, actor=None) -> TenantContext:
    actor = actor or world.actors[role]
    return TenantContext(world.municipality.id, role.value, actor.id)


async def test_the_test_connection_is_a_superuser_yet_tenant_transactions_run_as_the_app_role(db, world):
    async with db.system_session() as s:
        assert await s.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = session_user")) is True
    async with db.tenant_session(ctx(world, UserRole.MANAGER)) as s:
        assert await s.scalar(text("SELECT current_user")) == APP_ROLE
        assert (
            await s.scalar(text("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")) is False
        )
        assert await s.scalar(text("SELECT current_setting('app.municipality_id')")) == str(world.municipality.id)


async def test_unfiltered_queries_return_only_the_tenants_rows(db, world, other, scene):
    async with db.system_session() as s:  # the data really holds both municipalities
        totals = {table: await count(s, table) for table in TENANT_TABLES}
        mine = {
            table: await count(s, table, "municipality_id = :m", m=world.municipality.id) for table in TENANT_TABLES
        }
    assert totals["wards"] == 4 and totals["users"] == 12 and totals["teams"] == 16 and totals["tickets"] == 5
    for role in (UserRole.MANAGER, UserRole.ADMIN):
        async with db.tenant_session(ctx(world, role)) as s:
            seen = {table: await count(s, table) for table in TENANT_TABLES}
            municipalities = {
                table: set(await s.scalars(text(f"SELECT DISTINCT municipality_id FROM {table}")))
                for table in TENANT_TABLES
            }
        assert (
            (seen["wards"], seen["users"], seen["teams"], seen["team_wards"], seen["sla_policies"])
            == (mine["wards"], mine["users"], mine["teams"], mine["team_wards"], mine["sla_policies"])
            == (2, 6, 8, 1, 1)
        )
        assert all(found <= {world.municipality.id} for found in municipalities.values())
        assert seen["tickets"] == (2 if role is UserRole.MANAGER else 3)
        assert seen["ticket_events"] == (2 if role is UserRole.MANAGER else 4)


async def test_another_municipalitys_rows_cannot_be_reached_even_by_id(db, world, other, scene):
    async with db.tenant_session(ctx(world, UserRole.ADMIN)) as s:
        assert await count(s, "wards", "id = :i", i=other.ward.id) == 0
        assert await count(s, "users", "id = :i", i=other.admin.id) == 0
        assert await count(s, "tickets", "id = :i", i=scene["other_water"].id) == 0
        assert await count(s, "ticket_events", "ticket_id = :i", i=scene["other_water"].id) == 0


@pytest.mark.parametrize(
    "role,sees",
    [
        (UserRole.MANAGER, False),
        (UserRole.FIELD_WORKER, False),
        (UserRole.WARD_COUNCILLOR, False),
        (UserRole.ADMIN, True),
        (UserRole.SAPS_LIAISON, True),
    ],
)
async def test_a_sensitive_ticket_and_its_events_show_only_to_admins_saps_and_the_reporter(
    db, world, scene, role, sees
):
    gbv = scene["gbv"].id
    async with db.tenant_session(ctx(world, role)) as s:
        assert await count(s, "tickets", "id = :i", i=gbv) == int(sees)
        assert await count(s, "tickets", "is_sensitive") == int(sees)
        assert await count(s, "ticket_events", "ticket_id = :i", i=gbv) == (2 if sees else 0)
        # Ordinary rows follow each role's own scope (tests/db/test_access_layers.py has every kind):
        # the water ticket is unassigned and has no ward, so only the municipality-wide roles read it.
        water_readers = (UserRole.MANAGER, UserRole.ADMIN)
        assert await count(s, "tickets", "id = :i", i=scene["water"].id) == int(role in water_readers)


async def test_the_reporter_sees_their_own_sensitive_ticket_and_another_citizen_does_not(db, factory, world, scene):
    gbv = scene["gbv"].id
    async with db.tenant_session(ctx(world, UserRole.CITIZEN)) as s:  # world.citizen reported it
        assert await count(s, "tickets", "id = :i", i=gbv) == 1
        assert await count(s, "ticket_events", "ticket_id = :i", i=gbv) == 2
    neighbour = await factory.user(world.municipality, UserRole.CITIZEN)
    async with db.tenant_session(ctx(world, UserRole.CITIZEN, neighbour)) as s:
        assert await count(s, "tickets", "id = :i", i=gbv) == 0
        assert await count(s, "ticket_events", "ticket_id = :i", i=gbv) == 0
    # The reporter of a GBV ticket elsewhere is no key to this one.
    async with db.tenant_session(TenantContext(world.municipality.id, "citizen", None)) as s:
        assert await count(s, "tickets", "is_sensitive") == 0


async def tenant_tables(db) -> list[str]:
    """Every table with a municipality_id, from the catalog: one added later is checked too."""
    async with db.system_session() as s:
        return list(
            await s.scalars(
                text(
                    "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = 'public' AND c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_attribute a "
                    "WHERE a.attrelid = c.oid AND a.attname = 'municipality_id' AND NOT a.attisdropped) ORDER BY 1"
                )
            )
        )


async def test_without_a_tenant_the_app_role_sees_nothing(db, world, scene):
    tables = await tenant_tables(db)
    assert set(TENANT_TABLES) | {"ticket_tallies", "ticket_status_tallies", "ticket_hours"} <= set(tables)
    async with db.sessionmaker() as s, s.begin():
        await s.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
        for table in tables:
            assert await count(s, table) == 0, table


async def test_a_tenant_cannot_write_rows_into_another_municipality(db, world, other):
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.tenant_session(ctx(world, UserRole.ADMIN)) as s:
            await s.execute(
                text("INSERT INTO wards (municipality_id, code, name) VALUES (:m, 'SMUGGLED', 'Smuggled')"),
                {"m": other.municipality.id},
            )
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.tenant_session(ctx(world, UserRole.ADMIN)) as s:
            await s.execute(text("UPDATE wards SET municipality_id = :m"), {"m": other.municipality.id})


async def test_an_unfiltered_update_or_delete_touches_only_the_tenants_rows(db, world, other):
    async with db.tenant_session(ctx(world, UserRole.ADMIN)) as s:
        changed = (await s.execute(text("UPDATE wards SET name = 'Renamed everywhere?'"))).rowcount
        removed = (await s.execute(text("DELETE FROM sla_policies"))).rowcount
    assert (changed, removed) == (2, 0)
    async with db.system_session() as s:
        assert await count(s, "wards", "name = 'Renamed everywhere?'") == 2
        assert (
            await count(s, "wards", "municipality_id = :m AND name <> 'Renamed everywhere?'", m=other.municipality.id)
            == 2
        )


@pytest.mark.parametrize("statement", ["UPDATE ticket_events SET kind = 'commented'", "DELETE FROM ticket_events"])
async def test_the_app_role_cannot_update_or_delete_ticket_events(db, world, scene, statement):
    event = await add_event(db, scene["water"])
    with pytest.raises(DBAPIError, match="permission denied"):
        async with db.tenant_session(ctx(world, UserRole.ADMIN)) as s:
            await s.execute(text(f"{statement} WHERE id = :i"), {"i": event})
    async with db.system_session() as s:
        assert await s.scalar(text("SELECT kind FROM ticket_events WHERE id = :i"), {"i": event}) == "commented"
        assert await count(s, "ticket_events") == 7


@pytest.mark.parametrize("statement", ["UPDATE ticket_events SET data = '{\"x\": 1}'", "DELETE FROM ticket_events"])
async def test_not_even_the_schema_owner_can_rewrite_the_trail(db, scene, statement):
    with pytest.raises(DBAPIError, match="append-only"):
        async with db.system_session() as s:
            await s.execute(text(statement))
    async with db.system_session() as s:
        assert await count(s, "ticket_events") == 6


async def test_the_app_role_cannot_delete_tickets_or_change_municipalities(db, world, scene):
    with pytest.raises(DBAPIError, match="permission denied"):
        async with db.tenant_session(ctx(world, UserRole.ADMIN)) as s:
            await s.execute(text("DELETE FROM tickets WHERE id = :i"), {"i": scene["water"].id})
    with pytest.raises(DBAPIError, match="permission denied"):
        async with db.tenant_session(ctx(world, UserRole.ADMIN)) as s:
            await s.execute(text("UPDATE municipalities SET is_active = false"))


async def test_a_sensitive_ticket_cannot_be_updated_by_a_role_that_cannot_see_it(db, world, scene):
    async with db.tenant_session(ctx(world, UserRole.MANAGER)) as s:
        touched = (await s.execute(text("UPDATE tickets SET updated_at = :t"), {"t": datetime.now(UTC)})).rowcount
    assert touched == 2  # the two ordinary tickets; the GBV one is out of reach


async def test_an_unknown_tenant_id_sees_nothing(db, scene):
    tables = await tenant_tables(db)
    async with db.tenant_session(TenantContext(uuid.uuid4(), "admin", None)) as s:
        for table in tables:
            assert await count(s, table) == 0, table
