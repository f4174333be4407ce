"""Routing (ward team, municipal team, unassigned, SAPS) and SLA deadlines by policy specificity."""

from datetime import datetime, timedelta

from tests.api.ticket_helpers import report


def hours(t: dict, field: str) -> float:
    return (datetime.fromisoformat(t[field]) - datetime.fromisoformat(t["created_at"])) / timedelta(hours=1)


async def test_a_team_serving_the_ward_wins_over_a_municipal_team(client, world, factory):
    ward_team = await factory.team(world.municipality, "water", ward_ids=[world.ward.id])
    in_ward = await report(client, world.citizen, ward_id=str(world.ward.id))
    assert in_ward["assigned_team_id"] == str(ward_team.id)
    elsewhere = await report(client, world.citizen, ward_id=str(world.wards[1].id))
    assert elsewhere["assigned_team_id"] == str(world.teams["water"].id)


async def test_inactive_and_other_category_teams_are_skipped_and_none_means_unassigned(client, factory):
    w = await factory.world()
    mun = w.municipality
    await factory.team(mun, "roads", is_active=False)
    from sqlalchemy import update

    from src.models import Team

    async with factory.db.system_session() as s:
        await s.execute(update(Team).where(Team.id == w.teams["roads"].id).values(is_active=False))
    t = await report(client, w.citizen, category="roads")
    assert t["assigned_team_id"] is None


async def test_a_ward_team_of_another_ward_is_not_used(client, world, factory):
    async with factory.db.system_session() as s:
        from sqlalchemy import update

        from src.models import Team

        await s.execute(update(Team).where(Team.id == world.teams["waste"].id).values(is_active=False))
    await factory.team(world.municipality, "waste", ward_ids=[world.wards[1].id])
    t = await report(client, world.citizen, category="waste", ward_id=str(world.ward.id))
    assert t["assigned_team_id"] is None


async def test_gbv_goes_only_to_saps_and_nothing_else_goes_to_saps(client, factory):
    w = await factory.world()
    from sqlalchemy import update

    from src.models import Team

    async with factory.db.system_session() as s:
        await s.execute(update(Team).where(Team.id == w.teams["gbv"].id).values(is_active=False))
    g = await report(client, w.citizen, category="gbv", description="help")
    assert g["assigned_team_id"] is None
    other = await report(client, w.citizen, category="other")
    assert other["assigned_team_id"] == str(w.teams["other"].id)


async def test_deadlines_follow_the_most_specific_policy(client, world, factory):
    mun = world.municipality
    await factory.sla(mun, None, None, 10, 100)
    await factory.sla(mun, None, "critical", 1, 10)
    await factory.sla(mun, "water", None, 4, 48)
    await factory.sla(mun, "water", "critical", 0.5, 6.25)
    cases = [
        ("water", "critical", 0.5, 6.25),
        ("water", "low", 4, 48),
        ("roads", "critical", 1, 10),
        ("roads", "low", 10, 100),
    ]
    for category, severity, response, resolution in cases:
        t = await report(client, world.citizen, category=category, severity=severity)
        assert hours(t, "sla_response_deadline") == response, (category, severity)
        assert hours(t, "sla_resolution_deadline") == resolution, (category, severity)


async def test_without_policies_the_defaults_apply(client, world):
    """24 h and 168 h; a critical ticket runs on the wall clock (business hours: test_business_hours)."""
    t = await report(client, world.citizen, category="electricity", severity="critical")
    assert hours(t, "sla_response_deadline") == 24
    assert hours(t, "sla_resolution_deadline") == 168


async def test_policies_of_another_municipality_do_not_apply(client, world, other, factory):
    await factory.sla(other.municipality, None, None, 1, 2)
    t = await report(client, world.citizen, severity="critical")
    assert hours(t, "sla_response_deadline") == 24
