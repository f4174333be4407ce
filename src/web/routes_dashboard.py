"""The operations dashboard page over DashboardService."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from src.api.deps import parse_uuid
from src.core.errors import Invalid
from src.models.enums import SERVICE_CATEGORIES
from src.models.user import UserRole
from src.services import access
from src.services.dashboard_service import DashboardService
from src.services.principal import Principal
from src.web import charts, lookups
from src.web.formatting import CATEGORY_LABELS
from src.web.pages import PageReader, PageReadSession, PageRoute, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TREND_DAYS = 30
METRICS = (
    ("total_open", "Open tickets", ""),
    ("total_resolved", "Resolved tickets", ""),
    ("sla_compliance_percent", "SLA compliance", "%"),
    ("avg_response_hours", "Average first response", "hours"),
    ("sla_breaches", "Overdue now", ""),
)


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="python")
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass
class Figures:
    metrics: dict[str, Any]
    volume: list[dict[str, Any]]
    sla: dict[str, Any]
    workload: list[dict[str, Any]]
    trend: list[dict[str, Any]]

    def charts(self) -> dict[str, Any]:
        vol_labels = [CATEGORY_LABELS[c] for c in SERVICE_CATEGORIES]
        by_cat = {row["category"]: row for row in self.volume}
        volume = charts.paired_bars(
            "chart-volume",
            "Tickets by category",
            vol_labels,
            charts.Series("Open", "s-open", [by_cat.get(c.value, {}).get("open", 0) for c in SERVICE_CATEGORIES]),
            charts.Series(
                "Resolved", "s-resolved", [by_cat.get(c.value, {}).get("resolved", 0) for c in SERVICE_CATEGORIES]
            ),
        )
        sla = charts.sla_meters(
            "chart-sla",
            "SLA compliance",
            [
                ("First response", self.sla.get("response_compliance_percent")),
                ("Resolution", self.sla.get("resolution_compliance_percent")),
            ],
        )
        workload = charts.load_bars(
            "chart-workload",
            "Team workload",
            [row["team_name"] for row in self.workload],
            charts.Series("Open tickets", "s-open", [row["open_count"] for row in self.workload]),
            [row["total_count"] for row in self.workload],
        )
        days = [
            row["date"] if isinstance(row["date"], date) else date.fromisoformat(str(row["date"])) for row in self.trend
        ]
        trend = charts.trend_lines(
            "chart-trend",
            f"Last {TREND_DAYS} days",
            days,
            [
                charts.Series("Reported", "s-created", [row["created"] for row in self.trend]),
                charts.Series("Resolved", "s-resolved", [row["resolved"] for row in self.trend]),
            ],
        )
        return {"volume": volume, "sla": sla, "workload": workload, "trend": trend, "days": days}


@dataclass(frozen=True)
class Period:
    """Reported from `first` to `last`, both whole days of the municipality (either may be open)."""

    first: date | None = None
    last: date | None = None

    @property
    def created_from(self) -> datetime | None:
        """Local midnight starting `first`: the services read a value without an offset as local time."""
        return None if self.first is None else datetime.combine(self.first, time())

    @property
    def created_to(self) -> datetime | None:
        """Local midnight after `last` (exclusive)."""
        return None if self.last is None else datetime.combine(self.last + timedelta(days=1), time())

    def query(self) -> dict[str, str]:
        return {k: v.isoformat() for k, v in (("created_from", self.first), ("created_to", self.last)) if v is not None}


def _day(raw: str | None, label: str) -> date | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        day = None
    if day is None or len(raw) != 10 or not date(1900, 1, 1) <= day <= date(9998, 12, 31):
        raise Invalid(f"The {label} date is not a date (use YYYY-MM-DD).", "invalid_date")
    return day


def _period(raw_from: str | None, raw_to: str | None) -> Period:
    period = Period(_day(raw_from, "From"), _day(raw_to, "To"))
    if period.first and period.last and period.first > period.last:
        raise Invalid("The period ends before it starts.", "invalid_period")
    return period


async def load_figures(
    session: AsyncSession, principal: Principal, ward_id: uuid.UUID | None, period: Period = Period()
) -> Figures:
    """Every figure comes from DashboardService, the same code behind /api/v1/dashboard/*.
    The period narrows the four figure sets to tickets reported in it; the trend is always the last 30 days."""
    service = DashboardService(session, principal)
    scope = (ward_id, period.created_from, period.created_to)
    return Figures(
        metrics=_plain(await service.get_metrics(*scope)),
        volume=_plain(await service.get_volume_by_category(*scope)),
        sla=_plain(await service.get_sla_compliance(*scope)),
        workload=_plain(await service.get_team_workload(*scope)),
        trend=_plain(await service.get_trends(TREND_DAYS, ward_id)),
    )


def _ward_param(raw: str | None) -> uuid.UUID | None:
    if not raw:
        return None
    ward_id = parse_uuid(raw)
    if ward_id is None:
        raise Invalid("That ward is not valid.", "invalid_ward")
    return ward_id


def _with_query(path: str, values: dict[str, str]) -> str:
    return path + (f"?{urlencode(values)}" if values else "")


async def _context(
    session: AsyncSession, principal: Principal, raw_ward: str | None, raw_from: str | None, raw_to: str | None
) -> dict[str, Any]:
    access.require_role(principal, access.DASHBOARD_ROLES)
    ward_id = access.effective_ward(principal, _ward_param(raw_ward))
    period = _period(raw_from, raw_to)
    wards = await lookups.wards(session, principal)
    if ward_id is not None and ward_id not in {w.id for w in wards}:
        raise access.not_found("Ward")
    figures = await load_figures(session, principal, ward_id, period)
    ward_query = {"ward_id": str(ward_id)} if ward_id else {}
    return {
        "figures": figures,
        "charts": figures.charts(),
        "metric_cards": METRICS,
        "wards": wards,
        "ward_id": ward_id,
        "ward": next((w for w in wards if w.id == ward_id), None),
        "ward_fixed": principal.role is UserRole.WARD_COUNCILLOR,
        "period": period,
        "events_url": _with_query("/api/v1/dashboard/events", ward_query),  # events are per ward, never per period
        "fragment_url": _with_query("/fragments/dashboard", {**ward_query, **period.query()}),
    }


@router.get("/dashboard")
async def dashboard(
    request: Request,
    principal: PageReader,
    session: PageReadSession,
    ward_id: str | None = None,
    created_from: str | None = None,
    created_to: str | None = None,
) -> Response:
    context = await _context(session, principal, ward_id, created_from, created_to)
    return render(request, "dashboard.html", context, principal=principal)


@router.get("/fragments/dashboard")
async def dashboard_figures(
    request: Request,
    principal: PageReader,
    session: PageReadSession,
    ward_id: str | None = None,
    created_from: str | None = None,
    created_to: str | None = None,
) -> Response:
    """The figures and charts alone: what the page fetches again when a ticket changes."""
    context = await _context(session, principal, ward_id, created_from, created_to)
    return render(request, "_dashboard_figures.html", context, principal=principal)
