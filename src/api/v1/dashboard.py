"""The operations dashboard: managers, admins and ward councillors."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from src.api.deps import ReadSessionDep, require_role
from src.schemas.dashboard import (
    CategoryVolume,
    DashboardFilters,
    DashboardMetrics,
    SlaCompliance,
    TeamWorkload,
    TrendDay,
    TrendParams,
)
from src.services import access
from src.services.dashboard_service import DashboardService
from src.services.principal import Principal

router = APIRouter(prefix="/dashboard", tags=["dashboard"])

Viewer = Annotated[Principal, Depends(require_role(*access.DASHBOARD_ROLES, reading=True), scope="function")]
Filters = Annotated[DashboardFilters, Query()]


@router.get("/metrics", response_model=DashboardMetrics)
async def metrics(user: Viewer, session: ReadSessionDep, q: Filters) -> DashboardMetrics:
    return await DashboardService(session, user).get_metrics(q.ward_id, q.created_from, q.created_to)


@router.get("/volume", response_model=list[CategoryVolume])
async def volume(user: Viewer, session: ReadSessionDep, q: Filters) -> list[CategoryVolume]:
    return await DashboardService(session, user).get_volume_by_category(q.ward_id, q.created_from, q.created_to)


@router.get("/sla", response_model=SlaCompliance)
async def sla(user: Viewer, session: ReadSessionDep, q: Filters) -> SlaCompliance:
    return await DashboardService(session, user).get_sla_compliance(q.ward_id, q.created_from, q.created_to)


@router.get("/workload", response_model=list[TeamWorkload])
async def workload(user: Viewer, session: ReadSessionDep, q: Filters) -> list[TeamWorkload]:
    return await DashboardService(session, user).get_team_workload(q.ward_id, q.created_from, q.created_to)


@router.get("/trends", response_model=list[TrendDay])
async def trends(user: Viewer, session: ReadSessionDep, q: Annotated[TrendParams, Query()]) -> list[TrendDay]:
    return await DashboardService(session, user).get_trends(q.days, q.ward_id)
