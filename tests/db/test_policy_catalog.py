"""Row-level security read from the catalog: every table and view that holds tenant data is
covered, and every one that holds data about sensitive tickets carries the GBV rule, by calling
the rule's functions (src/db/sql/access_rules.sql) rather than a copy of them.

The lists are never kept by hand: a table or view added later is checked the day it appears.
"""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from src.core.database import APP_ROLE, TenantContext
from src.models.user import UserRole

TENANT_RULE = "app_municipality_id()"
GBV_RULES = ("app_ticket_visible(", "app_can_see_sensitive(")
# Relations that must hold sensitive data in the scene below, so the manager test proves something.
TICKET_DATA = frozenset(
    {
        "tickets",
        "ticket_events",
        "ticket_tallies",
        "ticket_ward_tallies",
        "ticket_status_tallies",
        "ticket_hours",
        "ticket_deadlines",
    }
)

RELATIONS = text(
    """
    SELECT c.relname::text AS name, c.relkind::text AS kind, c.relrowsecurity AS rls, pg_get_userbyid(c.relowner) AS owner,
           coalesce(c.reloptions, '{}') AS options,
           array(SELECT a.attname::text FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns,
           EXISTS (SELECT 1 FROM pg_constraint f WHERE f.conrelid = c.oid AND f.contype = 'f'
                   AND f.confrelid = 'tickets'::regclass) AS refers_to_tickets
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm')
    ORDER BY c.relname
    """
)
POLICIES = text(
    "SELECT c.relname::text, p.polpermissive, pg_get_expr(p.polqual, p.polrelid) "
    "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
)


async def _catalog(db):
    async with db.system_session() as s:
        relations = [r._asdict() for r in await s.execute(RELATIONS)]
        policies: dict[str, list[tuple[bool, str]]] = {}
        for table, permissive, qual in await s.execute(POLICIES):
            policies.setdefault(table, []).append((permissive, qual or ""))
    return relations, policies


def _holds_sensitive_data(relation: dict) -> bool:
    return "is_sensitive" in relation["columns"] or relation["refers_to_tickets"]


def _defects(relation: dict, policies: list[tuple[bool, str]]) -> list[str]:
    """What is missing for one relation; empty when it is covered."""
    name, kind, columns = relation["name"], relation["kind"], relation["columns"]
    found: list[str] = []
    if kind == "m" and "municipality_id" in columns:
        found.append("a materialized view, which cannot have row-level security")
    elif kind == "v" and "security_invoker=true" not in relation["options"]:
        found.append("view without security_invoker")  # it would read its tables as its owner
    if kind not in ("r", "p") or "municipality_id" not in columns:
        return [f"{name}: {d}" for d in found]
    if not relation["rls"]:
        found.append("row-level security off")
    if relation["owner"] == APP_ROLE:
        found.append("owned by the application role, which bypasses its policies")
    if not any(permissive and TENANT_RULE in qual for permissive, qual in policies):
        found.append("no tenant policy")
    if _holds_sensitive_data(relation) and not any(
        not permissive and any(rule in qual for rule in GBV_RULES) for permissive, qual in policies
    ):
        found.append(f"no restrictive policy calling {' or '.join(GBV_RULES)}")
    return [f"{name}: {d}" for d in found]


async def test_every_tenant_table_and_view_is_covered_by_the_rule(db):
    relations, policies = await _catalog(db)
    names = {r["name"] for r in relations}
    assert names >= TICKET_DATA  # the catalog query sees the tables at all
    defects = [d for r in relations for d in _defects(r, policies.get(r["name"], []))]
    assert defects == []


async def test_the_check_catches_a_tally_without_its_gbv_rule(db):
    """The check itself can fail: the same relation, with its restrictive policy taken away."""
    relations, policies = await _catalog(db)
    tallies = next(r for r in relations if r["name"] == "ticket_status_tallies")
    permissive_only = [p for p in policies["ticket_status_tallies"] if p[0]]
    assert _defects(tallies, permissive_only) == [
        "ticket_status_tallies: no restrictive policy calling app_ticket_visible( or app_can_see_sensitive("
    ]
    view = {**tallies, "kind": "v", "options": ["security_barrier=true"]}
    assert _defects(view, []) == ["ticket_status_tallies: view without security_invoker"]


async def _sensitive_scene(factory, world):
    """GBV tickets in every state the tallies keep (open with deadlines, resolved), with events."""
    now = datetime.now(UTC)
    gbv = dict(
        category="gbv",
        assigned_team_id=world.teams["gbv"].id,
        ward_id=world.ward.id,
        sla_response_deadline=now + timedelta(hours=5),
        sla_resolution_deadline=now + timedelta(days=3),
    )
    open_one = await factory.ticket(world.municipality, **gbv)
    resolved = await factory.ticket(
        world.municipality, **gbv, status="resolved", resolved_at=now, first_responded_at=now - timedelta(hours=1)
    )
    await factory.ticket(
        world.municipality,
        category="water",
        ward_id=world.ward.id,
        sla_response_deadline=now + timedelta(hours=5),
        sla_resolution_deadline=now + timedelta(days=3),
    )
    async with factory.db.system_session() as s:
        for t in (open_one, resolved):
            await s.execute(
                text("INSERT INTO ticket_events (municipality_id, ticket_id, kind) VALUES (:m, :t, 'created')"),
                {"m": t.municipality_id, "t": t.id},
            )
    return {open_one.id, resolved.id}


def _sensitive_where(relation: dict) -> str | None:
    if "is_sensitive" in relation["columns"]:
        return "is_sensitive"
    if "ticket_id" in relation["columns"]:
        return "ticket_id = ANY(:sensitive)"
    return None


@pytest.mark.parametrize("role", [UserRole.MANAGER, UserRole.WARD_COUNCILLOR, UserRole.FIELD_WORKER])
async def test_a_role_without_gbv_access_reads_no_sensitive_row_or_count_anywhere(db, factory, world, role):
    sensitive = list(await _sensitive_scene(factory, world))
    relations, _ = await _catalog(db)
    probes = {r["name"]: w for r in relations if (w := _sensitive_where(r)) is not None}
    # Relation names come from the catalog, never from input.
    async with db.system_session() as s:
        held = {
            name
            for name, where in probes.items()
            if await s.scalar(text(f"SELECT count(*) FROM {name} WHERE {where}"), {"sensitive": sensitive})
        }
    assert held >= TICKET_DATA  # every table of ticket data really holds sensitive rows here
    actor = world.actors[role]
    async with db.tenant_session(TenantContext(world.municipality.id, role.value, actor.id)) as s:
        seen = {}
        for name, where in probes.items():
            sums = [
                c
                for c in ("n", "created", "resolved", "open_due")
                if c in next(r["columns"] for r in relations if r["name"] == name)
            ]
            total = f"count(*){''.join(f' + coalesce(sum({c}), 0)' for c in sums)}"
            seen[name] = await s.scalar(text(f"SELECT {total} FROM {name} WHERE {where}"), {"sensitive": sensitive})
    assert {name: n for name, n in seen.items() if n} == {}
