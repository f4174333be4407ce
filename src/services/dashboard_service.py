"""The operations dashboard (SPEC §4.4): every figure is computed here, in SQL.

Figures never include sensitive tickets nor SAPS teams, whoever asks; the scope (municipality,
sensitivity, ward, with a councillor's ward enforced) comes from the access policy.

Where the figures come from, so that none grows with the history:
* counts and sums: the tallies kept by the database (src/services/tallies.py), summed over the
  few rows of the scope;
* what depends on the clock (a deadline passing while a ticket waits): the tallies hold how
  many waiting tickets have a deadline; those whose deadline is still ahead are counted at
  query time through the partial backlog indexes, and the breached ones are the difference;
* a created range cannot be answered by the tallies: the same figures are then counted
  directly from the tickets of that range (the definitions below, written once per source).
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, and_, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.enums import OPEN_SET, RESOLVED_SET, SERVICE_CATEGORIES
from src.models.team import Team
from src.schemas.dashboard import CategoryVolume, DashboardMetrics, SlaCompliance, TeamWorkload, TrendDay
from src.services import access, tallies
from src.services.principal import Principal
from src.services.ticket_query import aware

OPEN_VALUES = sorted(s.value for s in OPEN_SET)
RESOLVED_VALUES = sorted(s.value for s in RESOLVED_SET)
T = tallies.TICKETS


@dataclass(frozen=True)
class _Source:
    """Where a figure is counted: a tally (sum of `n`) or the tickets themselves (count rows)."""

    table: Table
    conds: list[ColumnElement[bool]]
    is_tally: bool
    ticket_conds: list[ColumnElement[bool]]

    def count(self, *where: ColumnElement[bool]) -> Any:
        cond = and_(*where) if where else None
        if self.is_tally:
            total = func.sum(self.table.c.n) if cond is None else func.sum(self.table.c.n).filter(cond)
        else:
            total = func.count() if cond is None else func.count().filter(cond)
        return func.coalesce(total, 0)

    def total(self, measure: str) -> Any:
        return func.coalesce(func.sum(self.table.c[measure]), 0)


def _percent(total: int, breaches: int) -> float | None:
    if total == 0:
        return None
    value = Decimal(100 * (total - breaches)) / Decimal(total)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _both_deadlines() -> ColumnElement[bool]:
    return and_(T.c.sla_response_deadline.is_not(None), T.c.sla_resolution_deadline.is_not(None))


class DashboardService:
    """Figures for one principal. Methods take the optional scope: ward_id, created_from, created_to.

    Raises Forbidden for roles without a dashboard, and for a councillor naming another ward
    (`ward_forbidden`) or without one (`no_ward`).
    """

    def __init__(self, session: AsyncSession, principal: Principal) -> None:
        access.require_role(principal, access.DASHBOARD_ROLES)
        self.session = session
        self.principal = principal

    def _conditions(self, ward_id: uuid.UUID | None, created_from: datetime | None, created_to: datetime | None) -> list[ColumnElement[bool]]:
        conds = list(access.aggregate_conditions(self.principal, ward_id))
        tz = self.principal.timezone
        if created_from is not None:
            conds.append(T.c.created_at >= aware(created_from, tz))
        if created_to is not None:
            conds.append(T.c.created_at < aware(created_to, tz))
        return conds

    def _source(self, conds: list[ColumnElement[bool]]) -> _Source:
        found = tallies.tally_for(conds)
        if found is None:
            return _Source(T, conds, False, conds)
        return _Source(found[0], found[1], True, conds)

    def _sla_parts(self, src: _Source) -> dict[str, Any]:
        """Scalar SQL expressions for the SLA components (SPEC §4.4 definitions), by source."""
        now = func.current_timestamp()
        if not src.is_tally:
            both = _both_deadlines()
            c = T.c
            return {
                "sla_total": src.count(both),
                "response_breaches": src.count(
                    both, or_(c.first_responded_at > c.sla_response_deadline,
                              and_(c.first_responded_at.is_(None), now > c.sla_response_deadline))),
                "resolution_breaches": src.count(
                    both, or_(c.resolved_at > c.sla_resolution_deadline,
                              and_(c.resolved_at.is_(None), now > c.sla_resolution_deadline))),
                "overdue_open": src.count(c.status.in_(OPEN_VALUES), c.sla_resolution_deadline < now),
            }
        ahead = self._backlog_ahead(src.ticket_conds)
        t = src.table
        return {
            "sla_total": src.total("sla_total"),
            "response_breaches": src.total("sla_response_late") + src.total("sla_unresponded") - ahead["unresponded"],
            "resolution_breaches": src.total("sla_resolution_late") + src.total("sla_unresolved") - ahead["unresolved"],
            "overdue_open": func.coalesce(func.sum(t.c.with_resolution_deadline).filter(t.c.status.in_(OPEN_VALUES)), 0)
            - ahead["open"],
        }

    @staticmethod
    def _backlog_ahead(conds: list[ColumnElement[bool]]) -> dict[str, Any]:
        """Waiting tickets whose deadline is still ahead: the open backlog only (partial indexes)."""
        now = func.current_timestamp()
        c = T.c

        def count(*where: ColumnElement[bool]) -> Any:
            return select(func.count()).select_from(T).where(*conds, *where).scalar_subquery()

        return {
            "open": count(c.status.in_(OPEN_VALUES), c.sla_resolution_deadline >= now),
            "unresponded": count(c.first_responded_at.is_(None), c.sla_resolution_deadline.is_not(None),
                                 c.sla_response_deadline >= now),
            "unresolved": count(c.resolved_at.is_(None), c.sla_response_deadline.is_not(None),
                                c.sla_resolution_deadline >= now),
        }

    async def _one(self, src: _Source, parts: dict[str, Any]) -> dict[str, int | Decimal]:
        row = (await self.session.execute(select(*(v.label(k) for k, v in parts.items())).select_from(src.table).where(*src.conds))).one()
        return dict(row._mapping)

    async def get_metrics(self, ward_id: uuid.UUID | None = None, created_from: datetime | None = None,
                          created_to: datetime | None = None) -> DashboardMetrics:
        src = self._source(self._conditions(ward_id, created_from, created_to))
        status = src.table.c.status
        sla = self._sla_parts(src)
        if src.is_tally:
            responded, seconds = src.total("responded"), src.total("response_seconds")
        else:
            responded = src.count(T.c.first_responded_at.is_not(None))
            seconds = func.coalesce(func.sum(func.extract("epoch", T.c.first_responded_at - T.c.created_at)), 0)
        v = await self._one(src, {
            "total_open": src.count(status.in_(OPEN_VALUES)),
            "total_resolved": src.count(status.in_(RESOLVED_VALUES)),
            "sla_total": sla["sla_total"],
            "resolution_breaches": sla["resolution_breaches"],
            "overdue_open": sla["overdue_open"],
            "responded": responded,
            "seconds": seconds,
        })
        avg = None
        if v["responded"]:
            hours = Decimal(v["seconds"]) / Decimal(v["responded"]) / Decimal(3600)
            avg = float(hours.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
        return DashboardMetrics(
            total_open=int(v["total_open"]),
            total_resolved=int(v["total_resolved"]),
            sla_compliance_percent=_percent(int(v["sla_total"]), int(v["resolution_breaches"])),
            avg_response_hours=avg,
            sla_breaches=int(v["overdue_open"]),
        )

    async def get_sla_compliance(self, ward_id: uuid.UUID | None = None, created_from: datetime | None = None,
                                 created_to: datetime | None = None) -> SlaCompliance:
        src = self._source(self._conditions(ward_id, created_from, created_to))
        parts = self._sla_parts(src)
        parts.pop("overdue_open")
        v = {k: int(x) for k, x in (await self._one(src, parts)).items()}
        return SlaCompliance(
            response_compliance_percent=_percent(v["sla_total"], v["response_breaches"]),
            resolution_compliance_percent=_percent(v["sla_total"], v["resolution_breaches"]),
            total_with_sla=v["sla_total"],
            response_breaches=v["response_breaches"],
            resolution_breaches=v["resolution_breaches"],
        )

    async def get_volume_by_category(self, ward_id: uuid.UUID | None = None, created_from: datetime | None = None,
                                     created_to: datetime | None = None) -> list[CategoryVolume]:
        src = self._source(self._conditions(ward_id, created_from, created_to))
        c = src.table.c
        rows = await self.session.execute(
            select(c.category, src.count(c.status.in_(OPEN_VALUES)), src.count(c.status.in_(RESOLVED_VALUES)))
            .where(*src.conds)
            .group_by(c.category)
        )
        found = {category: (int(o), int(r)) for category, o, r in rows}
        return [CategoryVolume(category=cat, open=found.get(cat.value, (0, 0))[0], resolved=found.get(cat.value, (0, 0))[1])
                for cat in SERVICE_CATEGORIES]

    async def get_team_workload(self, ward_id: uuid.UUID | None = None, created_from: datetime | None = None,
                                created_to: datetime | None = None) -> list[TeamWorkload]:
        src = self._source(self._conditions(ward_id, created_from, created_to))
        c = src.table.c
        counts = (
            select(c.assigned_team_id.label("team_id"), src.count(c.status.in_(OPEN_VALUES)).label("open_count"),
                   src.count().label("total_count"))
            .where(*src.conds, c.assigned_team_id.is_not(None))
            .group_by(c.assigned_team_id)
            .subquery()
        )
        open_count = func.coalesce(counts.c.open_count, 0)
        rows = await self.session.execute(
            select(Team.id, Team.name, open_count, func.coalesce(counts.c.total_count, 0))
            .outerjoin(counts, counts.c.team_id == Team.id)
            .where(Team.municipality_id == self.principal.municipality_id, Team.is_active.is_(True), Team.is_saps.is_(False))
            .order_by(open_count.desc(), Team.name, Team.id)
        )
        return [TeamWorkload(team_id=i, team_name=n, open_count=int(o), total_count=int(t)) for i, n, o, t in rows]

    async def get_trends(self, days: int = 30, ward_id: uuid.UUID | None = None) -> list[TrendDay]:
        """Tickets created and resolved per day of the municipality's calendar, the last `days` days."""
        tz = ZoneInfo(self.principal.timezone)
        today = datetime.now(UTC).astimezone(tz).date()
        first = today - timedelta(days=days - 1)
        start = datetime.combine(first, time(), tz).astimezone(UTC)
        end = datetime.combine(today + timedelta(days=1), time(), tz).astimezone(UTC)
        conds = self._conditions(ward_id, None, None)
        moved = tallies.retarget(conds, tallies.HOURS)
        if moved is not None and _whole_hour_offsets(tz, first, today):
            h = tallies.HOURS
            day = func.date(func.timezone(literal(self.principal.timezone), h.c.hour))
            query = (
                select(day, func.sum(h.c.created), func.sum(h.c.resolved))
                .where(*moved, h.c.hour >= start, h.c.hour < end)
                .group_by(day)
            )
            counted = {d: (int(cr), int(rs)) for d, cr, rs in await self.session.execute(query)}
        else:
            counted = await self._trends_from_tickets(conds, start, end)
        return [TrendDay(date=d, created=counted.get(d, (0, 0))[0], resolved=counted.get(d, (0, 0))[1])
                for d in (first + timedelta(days=i) for i in range(days))]

    async def _trends_from_tickets(self, conds: list[ColumnElement[bool]], start: datetime, end: datetime) -> dict[date, tuple[int, int]]:
        tz = literal(self.principal.timezone)
        out: dict[date, list[int]] = {}
        for index, column in enumerate((T.c.created_at, T.c.resolved_at)):
            day = func.date(func.timezone(tz, column))
            rows = await self.session.execute(
                select(day, func.count()).where(*conds, column >= start, column < end).group_by(day)
            )
            for d, n in rows:
                out.setdefault(d, [0, 0])[index] = int(n)
        return {d: (v[0], v[1]) for d, v in out.items()}


def _whole_hour_offsets(tz: ZoneInfo, first: date, last: date) -> bool:
    """Hour buckets map onto local days exactly when every local midnight falls on a UTC hour."""
    day = first
    while day <= last + timedelta(days=1):
        offset = datetime.combine(day, time(), tz).utcoffset() or timedelta()
        if offset.total_seconds() % 3600:
            return False
        day += timedelta(days=1)
    return True

