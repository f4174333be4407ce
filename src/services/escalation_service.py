"""The SLA sweep: run every minute by each service process and by the CLI.

Several processes may sweep at the same moment. Each takes the ticket it works on with
`FOR UPDATE SKIP LOCKED`, and a ticket remembers when each breach was logged, so every
`escalated` and `sla_breached` event is written exactly once.

Each ticket is swept in a transaction of its own with a single UPDATE of `tickets`: the tally
triggers lock their rows in key order within one statement, so a sweep holding locks from
several statements could deadlock with a request or another sweep; one statement cannot.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.database import Database
from src.models.enums import OPEN_SET, EventKind, TicketStatus
from src.models.team import Team
from src.models.ticket import Ticket
from src.services import sla
from src.services.live_publish import TICKET_ESCALATED, publish_ticket_event
from src.services.ticket_events import record_event

OPEN_VALUES = [s.value for s in OPEN_SET]


@dataclass
class SweepResult:
    escalated: int = 0
    breaches: int = 0
    tickets: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"escalated {self.escalated} ticket(s), logged {self.breaches} SLA breach(es)"


def _candidates(now: datetime):
    """The next overdue ticket, locked, with whether each deadline is breached (`sla.breached`).

    The conditions pick candidates through the sweep indexes (a deadline passed); whether a
    deadline is breached is then the one definition's answer, not restated here.
    """
    t = Ticket
    resolution_due = t.sla_resolution_deadline < now
    response_due = t.sla_response_deadline < now
    return (
        select(
            t,
            sla.breached(t.first_responded_at, t.sla_response_deadline, now).label("response_late"),
            sla.breached(t.resolved_at, t.sla_resolution_deadline, now).label("resolution_late"),
        )
        .where(
            t.status.in_(OPEN_VALUES),
            # Always true (both deadlines are set when a ticket is reported); it lets the ordered
            # walk use the sweep's index, whose predicate says so to keep list queries off it.
            t.sla_resolution_deadline.is_not(None),
            or_(
                and_(
                    t.status != TicketStatus.ESCALATED.value,
                    or_(resolution_due, and_(t.status == "open", response_due)),
                ),
                and_(resolution_due, t.resolution_breach_logged_at.is_(None)),
                and_(response_due, t.first_responded_at.is_(None), t.response_breach_logged_at.is_(None)),
            ),
        )
        .order_by(t.sla_resolution_deadline)
        .limit(1)
        .with_for_update(of=t, skip_locked=True)
    )


async def _sweep_ticket(
    session: AsyncSession,
    ticket: Ticket,
    response_late: bool,
    resolution_late: bool,
    now: datetime,
    result: SweepResult,
) -> None:
    must_escalate = ticket.status != TicketStatus.ESCALATED.value and (
        resolution_late
        or (
            ticket.status == TicketStatus.OPEN.value
            and ticket.sla_response_deadline is not None
            and ticket.sla_response_deadline < now
        )
    )
    log_response = response_late and ticket.response_breach_logged_at is None
    log_resolution = resolution_late and ticket.resolution_breach_logged_at is None
    previous = ticket.status
    reason = "Resolution deadline passed" if resolution_late else "No response before the response deadline"
    if must_escalate:
        ticket.status = TicketStatus.ESCALATED
        ticket.escalated_at = now
        ticket.escalation_reason = reason
        ticket.updated_at = now
        if ticket.assigned_team_id is not None:
            manager = await session.scalar(
                select(Team.manager_id).where(
                    Team.municipality_id == ticket.municipality_id, Team.id == ticket.assigned_team_id
                )
            )
            if manager is not None:
                ticket.assigned_to = manager
    if log_response:
        ticket.response_breach_logged_at = now
    if log_resolution:
        ticket.resolution_breach_logged_at = now
    await session.flush()  # the one UPDATE of this ticket
    if must_escalate:
        await record_event(
            session,
            ticket,
            EventKind.ESCALATED,
            None,
            **{"from": previous, "reason": reason, "assigned_to": ticket.assigned_to},
        )
        result.escalated += 1
        result.tickets.append(ticket.tracking_number)
        await publish_ticket_event(session, TICKET_ESCALATED, ticket)
    if log_response:
        await record_event(
            session, ticket, EventKind.SLA_BREACHED, None, deadline="response", due=ticket.sla_response_deadline
        )
        result.breaches += 1
    if log_resolution:
        await record_event(
            session, ticket, EventKind.SLA_BREACHED, None, deadline="resolution", due=ticket.sla_resolution_deadline
        )
        result.breaches += 1


async def run_sweep(db: Database, now: datetime | None = None) -> SweepResult:
    """One pass over the overdue open backlog, a ticket per transaction, until none is left."""
    result = SweepResult()
    while True:
        moment = now or datetime.now(UTC)
        async with db.system_session() as session:
            row = (await session.execute(_candidates(moment))).first()
            if row is None:
                return result
            ticket, response_late, resolution_late = row
            await _sweep_ticket(session, ticket, bool(response_late), bool(resolution_late), moment, result)
