"""Public transparency figures (docs/public.md): anonymous, aggregate, at most 60 s old.

No personal data ever leaves here: only counts, rates, medians, grid cells of at least five
tickets and ward outlines. Sensitive (GBV) tickets are excluded from every figure by the access
policy's public conditions and by row-level security (each municipality's figures are read in a
transaction pinned to it with the public role); they appear only as one platform-wide count.

What each figure costs (bench/public_bench.py measures it):
* the platform summary reads `ticket_status_tallies` (a handful of rows per municipality);
* monthly created/resolved read `ticket_hours` (one row per hour with activity);
* the window figures (medians, rates by category, heatmap, wards) cannot be kept as counts —
  medians and grid cells need the values — so they read the municipality's tickets of the
  window (at most 24 months) through `ix_tickets_public_window`, an index-only scan that never
  touches older history; the 60 s cache makes that at most once a minute per process and shape.
"""

from datetime import UTC, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, String, and_, bindparam, func, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.database import Database
from src.models.enums import OPEN_SET, RESOLVED_SET, SERVICE_CATEGORIES
from src.models.municipality import Municipality
from src.models.ticket import Ticket
from src.models.ward import Ward
from src.schemas.public import (
    CategoryCount,
    HeatCell,
    MonthCount,
    PublicMunicipality,
    PublicStats,
    PublicSummary,
    WardCollection,
    WardFeature,
)
from src.services import access
from src.services.jurisdiction import Jurisdiction, enter_municipality, normal_code
from src.services.public_cache import cached
from src.services.read_model import tallies

OPEN_VALUES: list[ColumnElement[str]] = [literal_column(f"'{s.value}'") for s in sorted(OPEN_SET)]
RESOLVED_VALUES: list[ColumnElement[str]] = [literal_column(f"'{s.value}'") for s in sorted(RESOLVED_SET)]
HEAT_MONTHS = 12
# ~500 m cells around South African latitudes: 0.0045° of latitude, 0.005° of longitude.
CELL_LAT = 0.0045
CELL_LNG = 0.005
MIN_CELL = 5


def rate(part: int, whole: int) -> float | None:
    if whole == 0:
        return None
    return float((Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def rounded(value: float | None, places: int = 2) -> float | None:
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


class PublicFigures:
    """Every public answer, each computed in its own short read transaction on a cache miss."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _read(self, work: Any) -> Any:
        async with self.db.anonymous_read_session() as session:
            return await work(session)

    async def municipalities(self) -> list[PublicMunicipality]:
        async def work(s: AsyncSession) -> list[PublicMunicipality]:
            m = Municipality
            rows = await s.execute(select(m.code, m.name, m.province).where(m.is_active).order_by(m.name, m.code))
            return [PublicMunicipality(code=r.code, name=r.name, province=r.province) for r in rows]

        return await cached(("municipalities",), lambda: self._read(work))

    async def summary(self) -> PublicSummary:
        return await cached(("summary",), lambda: self._read(_summary))

    async def _in(self, code: str, key: tuple[Any, ...], work: Any) -> Any:
        """A figure of one municipality: its own transaction, pinned to it as the public role."""
        wanted = normal_code(code)
        if wanted is None:
            raise access.not_found("Municipality")

        async def run(s: AsyncSession) -> Any:
            j = await enter_municipality(s, wanted)
            return await work(s, j)

        return await cached((*key, wanted), lambda: self._read(run))

    async def stats(self, code: str, months: int) -> PublicStats:
        return await self._in(code, ("stats", months), lambda s, j: _stats(s, j, months))

    async def heatmap(self, code: str) -> list[HeatCell]:
        return await self._in(code, ("heatmap",), _heatmap)

    async def wards(self, code: str) -> WardCollection:
        return await self._in(code, ("wards",), _wards)


def _on_tally(conditions: list[Any], table: Any) -> list[Any]:
    """The access policy's conditions moved onto a tally; never silently drop one."""
    moved = tallies.retarget(conditions, table)
    if moved is None:
        raise RuntimeError(f"the public conditions are not answerable from {table.name}")
    return moved


async def _summary(s: AsyncSession) -> PublicSummary:
    """Platform-wide, across tenants: read as the schema owner (no tenant is pinned), from the
    status tallies only, and only the counts the access policy names for the public."""
    t = tallies.STATUS
    public = _on_tally(access.platform_ticket_conditions(sensitive=False), t)
    gbv = _on_tally(access.platform_ticket_conditions(sensitive=True), t)
    active = select(Municipality.id).where(Municipality.is_active)
    n = t.c.n
    row = (
        await s.execute(
            select(
                func.coalesce(func.sum(n).filter(*public), 0),
                func.coalesce(func.sum(n).filter(*public, t.c.status.in_(RESOLVED_VALUES)), 0),
                func.coalesce(func.sum(n).filter(*gbv), 0),
            ).where(t.c.municipality_id.in_(active))
        )
    ).one()
    municipalities = await s.scalar(select(func.count()).select_from(Municipality).where(Municipality.is_active))
    total, resolved, gbv_total = (int(v) for v in row)
    return PublicSummary(
        municipalities=int(municipalities or 0),
        tickets_total=total,
        tickets_resolved=resolved,
        resolution_rate_percent=rate(resolved, total),
        gbv_reports_total=gbv_total,
    )


def _month_start(now: datetime, tz: ZoneInfo, months_back: int) -> datetime:
    local = now.astimezone(tz)
    index = local.year * 12 + local.month - 1 - months_back
    return datetime.combine(datetime(index // 12, index % 12 + 1, 1).date(), time(), tz)


def _window_start(j: Jurisdiction, months: int) -> datetime:
    return _month_start(datetime.now(UTC), ZoneInfo(j.timezone), months - 1).astimezone(UTC)


async def _stats(s: AsyncSession, j: Jurisdiction, months: int) -> PublicStats:
    t = Ticket
    start = _window_start(j, months)
    conds = [*access.public_ticket_conditions(j.id), t.created_at >= start]
    resolved = t.status.in_(RESOLVED_VALUES)
    both = and_(t.sla_response_deadline.is_not(None), t.sla_resolution_deadline.is_not(None))
    breached = and_(
        both,
        (t.resolved_at > t.sla_resolution_deadline)
        | (t.resolved_at.is_(None) & (func.current_timestamp() > t.sla_resolution_deadline)),
    )
    hours = func.extract("epoch", t.first_responded_at - t.created_at) / 3600.0
    rows = await s.execute(
        select(
            t.category,
            func.count(),
            func.count().filter(resolved),
            func.count().filter(both),
            func.count().filter(breached),
            func.percentile_cont(0.5).within_group(hours),
        )
        .where(*conds)
        .group_by(func.grouping_sets(tuple_(t.category), tuple_()))
    )
    per_category: dict[str, tuple[int, int]] = {}
    overall = (0, 0, 0, 0, None)
    for category, total, done, with_sla, breaches, median in rows:
        if category is None:
            overall = (total, done, with_sla, breaches, median)
        else:
            per_category[category] = (total, done)
    total, done, with_sla, breaches, median = overall
    return PublicStats(
        median_response_hours=rounded(median),
        resolution_rate_percent=rate(done, total),
        sla_compliance_percent=rate(with_sla - breaches, with_sla),
        by_category=[
            CategoryCount(
                category=c, total=per_category.get(c.value, (0, 0))[0], resolved=per_category.get(c.value, (0, 0))[1]
            )
            for c in SERVICE_CATEGORIES
        ],
        monthly=await _monthly(s, j, months, start),
    )


async def _monthly(s: AsyncSession, j: Jurisdiction, months: int, start: datetime) -> list[MonthCount]:
    """Created and resolved per calendar month of the municipality, from the hourly counts."""
    h = tallies.HOURS
    moved = _on_tally(access.public_ticket_conditions(j.id), h)
    month = func.to_char(func.timezone(bindparam("tz", j.timezone, type_=String), h.c.hour), "YYYY-MM")
    rows = await s.execute(
        select(month, func.sum(h.c.created), func.sum(h.c.resolved)).where(*moved, h.c.hour >= start).group_by(month)
    )
    counted = {m: (int(c), int(r)) for m, c, r in rows}
    tz = ZoneInfo(j.timezone)
    now = datetime.now(UTC)
    labels = [_month_start(now, tz, back).strftime("%Y-%m") for back in range(months - 1, -1, -1)]
    return [MonthCount(month=m, created=counted.get(m, (0, 0))[0], resolved=counted.get(m, (0, 0))[1]) for m in labels]


async def _heatmap(s: AsyncSession, j: Jurisdiction) -> list[HeatCell]:
    t = Ticket
    start = _window_start(j, HEAT_MONTHS)
    row_index = func.floor(t.latitude / CELL_LAT)
    col_index = func.floor(t.longitude / CELL_LNG)
    rows = await s.execute(
        select(row_index, col_index, func.count())
        .where(
            *access.public_ticket_conditions(j.id),
            t.created_at >= start,
            t.latitude.is_not(None),
            t.longitude.is_not(None),
        )
        .group_by(row_index, col_index)
        .having(func.count() >= MIN_CELL)
        .order_by(row_index, col_index)
    )
    return [
        HeatCell(lat=round((r + 0.5) * CELL_LAT, 5), lng=round((c + 0.5) * CELL_LNG, 5), count=int(n))
        for r, c, n in rows
    ]


async def _wards(s: AsyncSession, j: Jurisdiction) -> WardCollection:
    t = Ticket
    start = _window_start(j, HEAT_MONTHS)
    days = func.extract("epoch", t.resolved_at - t.created_at) / 86400.0
    counts = (
        select(
            t.ward_id,
            func.count().filter(t.status.in_(OPEN_VALUES)).label("open"),
            func.count().filter(t.status.in_(RESOLVED_VALUES)).label("resolved"),
            func.percentile_cont(0.5).within_group(days).filter(t.status.in_(RESOLVED_VALUES)).label("median"),
        )
        .where(*access.public_ticket_conditions(j.id), t.created_at >= start, t.ward_id.is_not(None))
        .group_by(t.ward_id)
    )
    per_ward = {r.ward_id: r for r in await s.execute(counts)}
    wards = await s.execute(
        select(Ward.id, Ward.code, Ward.name, Ward.boundary).where(Ward.municipality_id == j.id).order_by(Ward.code)
    )
    features = []
    for w in wards:
        c = per_ward.get(w.id)
        median = rounded(float(c.median), 1) if c is not None and c.median is not None else None
        features.append(
            WardFeature(
                geometry=w.boundary,
                properties={
                    "code": w.code,
                    "name": w.name,
                    "open": int(c.open) if c else 0,
                    "resolved": int(c.resolved) if c else 0,
                    "median_resolution_days": median,
                },
            )
        )
    return WardCollection(features=features)
