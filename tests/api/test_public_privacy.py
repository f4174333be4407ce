"""No public or Open311 answer, in JSON or XML, carries a reporter's name, e-mail or phone, a
staff member's name or note, or anything of a sensitive (GBV) ticket."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from src.models import Ticket, User
from tests.api.open311_helpers import O311, _fresh_public_cache, make_key, post_request  # noqa: F401
from tests.api.ticket_helpers import assign, report, set_status

API = "/api/v1/public"
SECRETS = [
    "Thandiwe Secret-Reporter",
    "thandiwe.private@example.org",
    "0821234567",
    "082 123 4567",
    "+27 82 123 4567",
    "Staff Note Zebra",
    "GBV-WORDS-NEVER-SHOWN",
    "Sensitive Lane 9",
    "Jane Open311",
    "jane311@example.org",
    "0839998888",
]


async def test_no_answer_carries_personal_or_sensitive_data(client, world, db):
    mun = world.municipality
    async with db.system_session() as s:
        await s.execute(
            update(User)
            .where(User.id == world.citizen.id)
            .values(full_name="Thandiwe Secret-Reporter", email="thandiwe.private@example.org", phone="0821234567")
        )
    # Non-sensitive tickets whose descriptions carry contact details, with staff notes on them.
    public = await report(
        client,
        world.citizen,
        description="Leak. Mail thandiwe.private@example.org or 082 123 4567",
        latitude=-25.95,
        longitude=28.05,
        address="1 Main St",
    )
    await report(client, world.citizen, description="Pothole, phone +27 82 123 4567", category="roads")
    for i in range(5):
        await report(
            client,
            world.citizen,
            description=f"Streetlight {i}",
            category="electricity",
            latitude=-25.951,
            longitude=28.051,
        )
    await set_status(client, world.manager, public["id"], "in_progress", note="Staff Note Zebra")
    await assign(
        client,
        world.manager,
        public["id"],
        team_id=world.teams["water"].id,
        assigned_to=world.field_worker.id,
        reason="Staff Note Zebra",
    )
    await set_status(client, world.manager, public["id"], "resolved", note="Staff Note Zebra")
    # A sensitive ticket, with a location, a note and an escalation.
    for _ in range(6):
        gbv = await report(
            client,
            world.citizen,
            category="gbv",
            description="GBV-WORDS-NEVER-SHOWN",
            address="Sensitive Lane 9",
            latitude=-25.9502,
            longitude=28.0502,
        )
    await set_status(client, world.saps_liaison, gbv["id"], "in_progress", note="Staff Note Zebra")
    async with db.system_session() as s:
        await s.execute(
            update(Ticket)
            .where(Ticket.id == gbv["id"])
            .values(sla_resolution_deadline=datetime.now(UTC) - timedelta(hours=1))
        )
    # An Open311 report carrying contact details.
    key = await make_key(client, world.admin)
    await post_request(
        client,
        world,
        key["key"],
        description="Please call me back",
        email="jane311@example.org",
        first_name="Jane",
        last_name="Open311",
        phone="0839998888",
    )

    code = mun.code
    j = {"jurisdiction_id": code}
    gbv_number = gbv["tracking_number"]
    answers = []
    for path, params in [
        (f"{API}/municipalities", {}),
        (f"{API}/summary", {}),
        (f"{API}/municipalities/{code}/stats", {"months": 24}),
        (f"{API}/municipalities/{code}/heatmap", {}),
        (f"{API}/municipalities/{code}/wards", {}),
        ("/public", {}),
        (f"/public?municipality={code}", {}),
    ]:
        r = await client.get(path, params=params)
        assert r.status_code == 200, (path, r.text)
        answers.append((path, r.text))
    for fmt in ("json", "xml"):
        for path, params in [
            (f"discovery.{fmt}", {}),
            (f"services.{fmt}", j),
            (f"services/water.{fmt}", j),
            (f"requests.{fmt}", j),
            (f"requests.{fmt}", {**j, "service_request_id": f"{public['tracking_number']},{gbv_number}"}),
            (f"requests/{public['tracking_number']}.{fmt}", j),
            (f"tokens/{public['tracking_number']}.{fmt}", j),
            (f"servicerequestupdates.{fmt}", j),
        ]:
            r = await client.get(f"{O311}/{path}", params=params)
            assert r.status_code == 200, (path, r.text)
            answers.append((path, r.text))
        for path in (f"requests/{gbv_number}.{fmt}", f"tokens/{gbv_number}.{fmt}"):
            r = await client.get(f"{O311}/{path}", params=j)
            assert r.status_code == 404
            answers.append((path, r.text))

    staff_names = [a.user.full_name for a in world.actors.values()]
    for path, text in answers:
        for secret in [*SECRETS, *staff_names, gbv_number, str(world.citizen.id)]:
            assert secret not in text, (path, secret)
    # The masking did its work where the descriptions appear.
    listed = next(t for p, t in answers if p == "requests.json")
    assert "Leak. Mail [email removed] or [phone removed]" in listed
    assert "Pothole, phone [phone removed]" in listed
    # GBV appears only as the platform count.
    summary = next(t for p, t in answers if p.endswith("/summary"))
    assert '"gbv_reports_total":6' in summary
