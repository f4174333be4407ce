"""One definition of an SLA breach (src/db/sql/sla.sql), its in-memory twin, and the ticket
columns typed and ranked by the enums."""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from sqlalchemy import select, text

from src.models.enums import SEVERITY_RANK, STATUS_RANK, TicketSeverity, TicketStatus
from src.models.ticket import Ticket
from src.services import sla

DEADLINE = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
BEFORE, AFTER = DEADLINE - timedelta(minutes=1), DEADLINE + timedelta(minutes=1)
MOMENTS = (None, BEFORE, DEADLINE, AFTER)


async def test_the_sql_definition_and_its_twin_agree_on_every_case(db):
    cases = list(product(MOMENTS, (None, DEADLINE), MOMENTS))  # done_at, deadline, at
    async with db.system_session() as s:
        in_sql = [bool(await s.scalar(select(sla.breached(done, deadline, at)))) for done, deadline, at in cases]
    in_memory = [sla.is_breached(done, deadline, at) for done, deadline, at in cases]
    assert in_sql == in_memory
    # and the definition itself: done late, or not done and past the deadline
    assert sla.is_breached(AFTER, DEADLINE, BEFORE) and not sla.is_breached(BEFORE, DEADLINE, AFTER)
    assert sla.is_breached(None, DEADLINE, AFTER) and not sla.is_breached(None, DEADLINE, DEADLINE)
    assert not sla.is_breached(None, DEADLINE, None) and not sla.is_breached(AFTER, None, AFTER)


async def test_the_tallies_count_late_tickets_by_the_same_definition(db, factory, world):
    now = datetime.now(UTC)
    deadlines = dict(sla_response_deadline=now - timedelta(hours=2), sla_resolution_deadline=now + timedelta(days=1))
    await factory.ticket(world.municipality, first_responded_at=now - timedelta(hours=1), **deadlines)  # late
    await factory.ticket(world.municipality, first_responded_at=now - timedelta(hours=3), **deadlines)  # in time
    await factory.ticket(world.municipality, **deadlines)  # waiting, past: the dashboard's part, not the tally's
    async with db.system_session() as s:
        late = await s.scalar(
            text("SELECT sum(sla_response_late) FROM ticket_status_tallies WHERE municipality_id = :m"),
            {"m": world.municipality.id},
        )
        assert late == 1
        assert (await s.execute(text("SELECT * FROM ticket_tallies_drift()"))).all() == []
        body = await s.scalar(text("SELECT prosrc FROM pg_proc WHERE proname = 'ticket_tallies_on_update'"))
    assert "sla_breached(r.first_responded_at, r.sla_response_deadline, NULL)" in body


@pytest.mark.parametrize("status", list(TicketStatus))
async def test_the_database_ranks_statuses_and_severities_as_the_enums_do(db, factory, world, status):
    now = datetime.now(UTC)
    times = {"resolved_at": now} if status in (TicketStatus.RESOLVED, TicketStatus.CLOSED) else {}
    if status is TicketStatus.CLOSED:
        times["closed_at"] = now
    for severity in TicketSeverity:
        ticket = await factory.ticket(world.municipality, status=status, severity=severity, **times)
        assert (ticket.status_rank, ticket.severity_rank) == (STATUS_RANK[status], SEVERITY_RANK[severity])
        assert isinstance(ticket.status, TicketStatus) and isinstance(ticket.severity, TicketSeverity)
    async with db.system_session() as s:
        assert (
            await s.scalar(select(Ticket.status).where(Ticket.municipality_id == world.municipality.id).limit(1))
            is status
        )
