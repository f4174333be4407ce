"""The operations dashboard: every figure is computed here, in SQL.

Figures never include sensitive tickets nor SAPS teams, whoever asks; the scope (municipality,
sensitivity, ward, with a councillor's ward enforced) comes from the access policy.

Where the figures come from, so that none grows with the history:
* counts and sums: the tallies kept by the database (src/services/read_model/tallies.py), summed over the
  few rows of the scope;
* what depends on the clock (a deadline passing while a ticket waits): the tallies hold how many
  waiting tickets have a deadline; those whose deadline is still ahead are counted at query time
  through the partial backlog indexes, and the breached ones are the difference. An unresolved
  ticket is always in the open set (the `resolved_has_time` constraint), so one scan of the open
  backlog serves both the overdue count and the unresolved resolution breaches;
* a created range cannot be answered by the tallies: the same figures are then counted directly
  from the tickets of that range, by the definitions as written in the specification.
Statements are built once per shape (src/services/read_model/shapes.py); values travel as parameters.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, DateTime, String, Table, Uuid, and_, bindparam, func, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import OPEN_SET, RESOLVED_SET, SERVICE_CATEGORIES, EventKind
from src.models.team import Team
from src.models.ticket import TicketEvent
from src.schemas.dashboard import CategoryVolume, DashboardMetrics, SlaCompliance, TeamWorkload, TrendDay
from src.services import access, sla
from src.services.principal import Principal
from src.services.read_model import shapes, tallies
from src.services.read_model.ticket_query import aware, known

# Written into the SQL, not bound: a generic plan can then match the partial indexes on the open set.
OPEN_VALUES: list[ColumnElement[str]] = [literal_column(f"'{s.value}'") for s in sorted(OPEN_SET)]
RESOLVED_VALUES: list[ColumnElement[str]] = [literal_column(f"'{s.value}'") for s in sorted(RESOLVED_SET)]
T = tallies.TICKETS
NOW = func.current_timestamp()
_HOUR_START = func.date_trunc(literal_column("'hour'"), NOW, literal_column("'UTC'"))
_HOUR_END = _HOUR_START + literal_column("interval '1 hour'")
_START = bindparam("start", type_=DateTime(timezone=True))
_END = bindparam("end", type_=DateTime(timezone=True))


@dataclass(frozen=True)
class _Source:
    """Where figures are counted: a tally (sum of `n`) or the tickets themselves (count rows)."""

    table: Table
    conds: list[ColumnElement[bool]]
    ticket_conds: list[ColumnElement[bool]]

    @classmethod
    def of(cls, conds: list[ColumnElement[bool]], grouped_by: tuple[str, ...] = ()) -> "_Source":
        found = tallies.tally_for(conds, grouped_by)
        return cls(T, conds, conds) if found is None else cls(found[0], found[1], conds)

    @property
    def is_tally(self) -> bool:
        return self.table is not T

    def count(self, *where: ColumnElement[bool]) -> Any:
        measure = func.sum(self.table.c.n) if self.is_tally else func.count()
        return func.coalesce(measure.filter(and_(*where)) if where else measure, 0)

    def total(self, measure: str) -> Any:
        return func.coalesce(func.sum(self.table.c[measure]), 0)


def _percent(total: int, breaches: int) -> float | None:
    if total == 0:
        return None
    return float((Decimal(100 * (total - breaches)) / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _figures(src: _Source, wanted: tuple[str, ...]) -> Any:
    """One row with the `wanted` components of the figures, by the dashboard's definitions."""
    c, is_open = T.c, T.c.status.in_(OPEN_VALUES)
    if not src.is_tally:
        both = and_(c.sla_response_deadline.is_not(None), c.sla_resolution_deadline.is_not(None))
        parts = {
            "total_open": src.count(is_open),
            "total_resolved": src.count(c.status.in_(RESOLVED_VALUES)),
            "sla_total": src.count(both),
            "response_breaches": src.count(both, sla.breached(c.first_responded_at, c.sla_response_deadline, NOW)),
            "resolution_breaches": src.count(both, sla.breached(c.resolved_at, c.sla_resolution_deadline, NOW)),
            "overdue_open": src.count(is_open, c.sla_resolution_deadline < NOW),
            "responded": src.count(c.first_responded_at.is_not(None)),
            "response_seconds": func.coalesce(func.sum(func.extract("epoch", c.first_responded_at - c.created_at)), 0),
        }
        return select(*(parts[k].label(k) for k in wanted)).where(*src.conds)
    t = src.table.c
    sums = {
        "total_open": src.count(t.status.in_(OPEN_VALUES)),
        "total_resolved": src.count(t.status.in_(RESOLVED_VALUES)),
        "open_with_deadline": func.coalesce(func.sum(t.with_resolution_deadline).filter(t.status.in_(OPEN_VALUES)), 0),
        **{
            m: src.total(m)
            for m in (
                "sla_total",
                "sla_response_late",
                "sla_resolution_late",
                "sla_unresponded",
                "sla_unresolved",
                "responded",
                "response_seconds",
            )
        },
    }
    tally = select(*(v.label(k) for k, v in sums.items())).where(*src.conds).subquery("tally")
    ahead = _ahead(src.ticket_conds)
    s, a = tally.c, ahead.c
    parts = {
        "total_open": s.total_open,
        "total_resolved": s.total_resolved,
        "sla_total": s.sla_total,
        "response_breaches": s.sla_response_late + s.sla_unresponded - a.unresponded_ahead,
        "resolution_breaches": s.sla_resolution_late + s.sla_unresolved - a.unresolved_ahead,
        "overdue_open": s.open_with_deadline - a.open_ahead,
        "responded": s.responded,
        "response_seconds": s.response_seconds,
    }
    return select(*(parts[k].label(k) for k in wanted)).select_from(tally).join(ahead, true())


def _reopened(events: list[ColumnElement[bool]], scope: list[ColumnElement[bool]]) -> Any:
    """Distinct tickets with an event matching `events`, among the tickets of `scope`."""
    e = TicketEvent
    scoped = select(T.c.id).where(*scope)
    return select(func.count(func.distinct(e.ticket_id))).where(*events, e.ticket_id.in_(scoped)).scalar_subquery()


def _ahead(conds: list[ColumnElement[bool]]) -> Any:
    """Waiting tickets whose deadline is still ahead: open_ahead (open set, resolution deadline),
    unresolved_ahead (both deadlines, unresolved) and unresponded_ahead (both deadlines, no response).

    The deadline histogram answers the whole hours ahead and the backlog indexes the rest of the
    current hour; for scopes the histogram does not key (a ward), the indexes answer it all.
    Either way the work follows the backlog.
    """
    c, is_open = T.c, T.c.status.in_(OPEN_VALUES)
    unresolved = and_(c.resolved_at.is_(None), c.sla_response_deadline.is_not(None))
    unresponded = and_(c.first_responded_at.is_(None), c.sla_resolution_deadline.is_not(None))
    histogram = tallies.retarget(conds, tallies.DEADLINES)
    until = _HOUR_END if histogram is not None else None

    def within(deadline: Any) -> list[ColumnElement[bool]]:
        return [deadline >= NOW] + ([deadline < until] if until is not None else [])

    resolution = (
        select(func.count().label("open"), func.count().filter(unresolved).label("unresolved"))
        .where(*conds, is_open, *within(c.sla_resolution_deadline))
        .subquery("resolution")
    )
    response = select(func.count()).where(*conds, unresponded, *within(c.sla_response_deadline)).scalar_subquery()
    if histogram is None:
        return select(
            resolution.c.open.label("open_ahead"),
            resolution.c.unresolved.label("unresolved_ahead"),
            response.label("unresponded_ahead"),
        ).subquery("ahead")
    d = tallies.DEADLINES
    later = (
        select(
            *(func.coalesce(func.sum(d.c[m]), 0).label(m) for m in ("open_due", "unresolved_due", "unresponded_due"))
        )
        .where(*histogram, d.c.hour > _HOUR_START)
        .subquery("later")
    )
    return (
        select(
            (resolution.c.open + later.c.open_due).label("open_ahead"),
            (resolution.c.unresolved + later.c.unresolved_due).label("unresolved_ahead"),
            (response + later.c.unresponded_due).label("unresponded_ahead"),
        )
        .select_from(resolution)
        .join(later, true())
        .subquery("ahead")
    )


class DashboardService:
    """Figures for one principal. Methods take the optional scope: ward_id, created_from, created_to.

    Raises Forbidden for roles without a dashboard, and for a councillor naming another ward
    (`ward_forbidden`) or without one (`no_ward`).
    """

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        access.require_role(principal, access.DASHBOARD_ROLES)
        self.session = session
        self.principal = principal

    def _conditions(
        self, ward_id: uuid.UUID | None, created_from: datetime | None, created_to: datetime | None
    ) -> list[ColumnElement[bool]]:
        conds = list(access.aggregate_conditions(self.principal, ward_id))
        if created_from is not None:
            conds.append(T.c.created_at >= aware(created_from, self.principal.timezone))
        if created_to is not None:
            conds.append(T.c.created_at < aware(created_to, self.principal.timezone))
        return conds

    async def _row(
        self,
        tag: str,
        conds: list[ColumnElement[bool]],
        wanted: tuple[str, ...],
        reopened: tuple[list[ColumnElement[bool]], list[ColumnElement[bool]]] | None = None,
    ) -> dict[str, int]:
        """The `wanted` figures over `conds`, and with `reopened` (the reopening events' conditions
        and the tickets' scope) the count of reopened tickets too: one statement, one round trip."""
        if reopened is None:
            stmt, params = shapes.statement((tag, wanted), conds, lambda c: _figures(_Source.of(c), wanted))
        else:
            events, scope = reopened
            k, j = len(conds), len(conds) + len(events)

            def build(c: list[ColumnElement[bool]]) -> Any:
                return _figures(_Source.of(c[:k]), wanted).add_columns(_reopened(c[k:j], c[j:]).label("reopened"))

            stmt, params = shapes.statement((tag, wanted, k, j), [*conds, *events, *scope], build)
        row = (await shapes.execute(self.session, stmt, params)).one()
        return {k: int(v) if k != "response_seconds" else v for k, v in row._mapping.items()}

    async def get_metrics(
        self, ward_id: uuid.UUID | None = None, created_from: datetime | None = None, created_to: datetime | None = None
    ) -> DashboardMetrics:
        wanted = (
            "total_open",
            "total_resolved",
            "sla_total",
            "resolution_breaches",
            "overdue_open",
            "responded",
            "response_seconds",
        )
        # The period bounds the reopening, not the report; the tickets' scope is the access policy's.
        e = TicketEvent
        events = [e.municipality_id == self.principal.municipality_id, e.kind == known(EventKind.REOPENED)]
        if created_from is not None:
            events.append(e.created_at >= aware(created_from, self.principal.timezone))
        if created_to is not None:
            events.append(e.created_at < aware(created_to, self.principal.timezone))
        scope = list(access.aggregate_conditions(self.principal, ward_id))
        conds = self._conditions(ward_id, created_from, created_to)
        v = await self._row("metrics", conds, wanted, reopened=(events, scope))
        avg = None
        if v["responded"]:
            hours = Decimal(v["response_seconds"]) / Decimal(v["responded"]) / Decimal(3600)
            avg = float(hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        return DashboardMetrics(
            total_open=v["total_open"],
            total_resolved=v["total_resolved"],
            sla_compliance_percent=_percent(v["sla_total"], v["resolution_breaches"]),
            avg_response_hours=avg,
            sla_breaches=v["overdue_open"],
            reopened=v["reopened"],
        )

    async def get_sla_compliance(
        self, ward_id: uuid.UUID | None = None, created_from: datetime | None = None, created_to: datetime | None = None
    ) -> SlaCompliance:
        wanted = ("sla_total", "response_breaches", "resolution_breaches")
        v = await self._row("sla", self._conditions(ward_id, created_from, created_to), wanted)
        return SlaCompliance(
            response_compliance_percent=_percent(v["sla_total"], v["response_breaches"]),
            resolution_compliance_percent=_percent(v["sla_total"], v["resolution_breaches"]),
            total_with_sla=v["sla_total"],
            response_breaches=v["response_breaches"],
            resolution_breaches=v["resolution_breaches"],
        )

    async def get_volume_by_category(
        self, ward_id: uuid.UUID | None = None, created_from: datetime | None = None, created_to: datetime | None = None
    ) -> list[CategoryVolume]:
        def build(conds: list[ColumnElement[bool]]) -> Any:
            src = _Source.of(conds, ("category",))
            c = src.table.c
            return (
                select(c.category, src.count(c.status.in_(OPEN_VALUES)), src.count(c.status.in_(RESOLVED_VALUES)))
                .where(*src.conds)
                .group_by(c.category)
            )

        stmt, params = shapes.statement("volume", self._conditions(ward_id, created_from, created_to), build)
        found = {category: (int(o), int(r)) for category, o, r in await shapes.execute(self.session, stmt, params)}
        return [
            CategoryVolume(category=cat, open=found.get(cat.value, (0, 0))[0], resolved=found.get(cat.value, (0, 0))[1])
            for cat in SERVICE_CATEGORIES
        ]

    async def get_team_workload(
        self, ward_id: uuid.UUID | None = None, created_from: datetime | None = None, created_to: datetime | None = None
    ) -> list[TeamWorkload]:
        def build(conds: list[ColumnElement[bool]]) -> Any:
            src = _Source.of(conds, ("assigned_team_id",))
            c = src.table.c
            counts = (
                select(
                    c.assigned_team_id.label("team_id"),
                    src.count(c.status.in_(OPEN_VALUES)).label("open_count"),
                    src.count().label("total_count"),
                )
                .where(*src.conds, c.assigned_team_id.is_not(None))
                .group_by(c.assigned_team_id)
                .subquery()
            )
            open_count = func.coalesce(counts.c.open_count, 0)
            return (
                select(Team.id, Team.name, open_count, func.coalesce(counts.c.total_count, 0))
                .outerjoin(counts, counts.c.team_id == Team.id)
                .where(
                    Team.municipality_id == bindparam("team_municipality", type_=Uuid),
                    Team.is_active.is_(True),
                    Team.is_saps.is_(False),
                )
                .order_by(open_count.desc(), Team.name, Team.id)
            )

        stmt, params = shapes.statement("workload", self._conditions(ward_id, created_from, created_to), build)
        rows = await shapes.execute(self.session, stmt, {**params, "team_municipality": self.principal.municipality_id})
        return [TeamWorkload(team_id=i, team_name=n, open_count=int(o), total_count=int(t)) for i, n, o, t in rows]

    async def get_trends(self, days: int = 30, ward_id: uuid.UUID | None = None) -> list[TrendDay]:
        """Tickets created and resolved per day of the municipality's calendar, the last `days` days."""
        tz = ZoneInfo(self.principal.timezone)
        today = datetime.now(UTC).astimezone(tz).date()
        first = today - timedelta(days=days - 1)
        window = {
            "tz": self.principal.timezone,
            "start": datetime.combine(first, time(), tz).astimezone(UTC),
            "end": datetime.combine(today + timedelta(days=1), time(), tz).astimezone(UTC),
        }
        conds = self._conditions(ward_id, None, None)
        counted: dict[date, list[int]] = {}
        if tallies.answers(conds, tallies.HOURS) and _whole_hour_offsets(tz, first, today):
            stmt, params = shapes.statement("trends-hours", conds, _trend_from_hours)
            for d, created, resolved in await shapes.execute(self.session, stmt, {**params, **window}):
                counted[d] = [int(created), int(resolved)]
        else:
            for index, column in enumerate(("created_at", "resolved_at")):
                stmt, params = shapes.statement(("trends", column), conds, partial(_trend_from_tickets, column=column))
                for d, n in await shapes.execute(self.session, stmt, {**params, **window}):
                    counted.setdefault(d, [0, 0])[index] = int(n)
        return [
            TrendDay(date=d, created=counted.get(d, [0, 0])[0], resolved=counted.get(d, [0, 0])[1])
            for d in (first + timedelta(days=i) for i in range(days))
        ]


def _trend_from_hours(conds: list[ColumnElement[bool]]) -> Any:
    h = tallies.HOURS
    moved = tallies.retarget(conds, h)
    if moved is None:  # the caller checked; never drop a condition
        raise RuntimeError("trend conditions are not answerable from ticket_hours")
    day = func.date(func.timezone(bindparam("tz", type_=String), h.c.hour))
    return (
        select(day, func.sum(h.c.created), func.sum(h.c.resolved))
        .where(*moved, h.c.hour >= _START, h.c.hour < _END)
        .group_by(day)
    )


def _trend_from_tickets(conds: list[ColumnElement[bool]], column: str) -> Any:
    at = T.c[column]
    day = func.date(func.timezone(bindparam("tz", type_=String), at))
    return select(day, func.count()).where(*conds, at >= _START, at < _END).group_by(day)


def _whole_hour_offsets(tz: ZoneInfo, first: date, last: date) -> bool:
    """Hour buckets map onto local days exactly when every local midnight falls on a UTC hour."""
    day = first
    while day <= last + timedelta(days=1):
        offset = datetime.combine(day, time(), tz).utcoffset() or timedelta()
        if offset.total_seconds() % 3600:
            return False
        day += timedelta(days=1)
    return True
