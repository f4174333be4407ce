"""Public transparency (no sign-in): aggregate, privacy-safe figures, at most 60 s old."""

from typing import Annotated

from fastapi import APIRouter, Query

from src.core.database import get_database
from src.schemas.public import HeatCell, PublicMunicipality, PublicStats, PublicSummary, WardCollection
from src.services.public_service import PublicFigures

router = APIRouter(prefix="/public", tags=["public"])


def figures() -> PublicFigures:
    return PublicFigures(get_database())


@router.get("/municipalities", response_model=list[PublicMunicipality])
async def municipalities() -> list[PublicMunicipality]:
    return await figures().municipalities()


@router.get("/summary", response_model=PublicSummary)
async def summary() -> PublicSummary:
    return await figures().summary()


@router.get("/municipalities/{code}/stats", response_model=PublicStats)
async def stats(code: str, months: Annotated[int, Query(ge=1, le=24)] = 6) -> PublicStats:
    return await figures().stats(code, months)


@router.get("/municipalities/{code}/heatmap", response_model=list[HeatCell])
async def heatmap(code: str) -> list[HeatCell]:
    return await figures().heatmap(code)


@router.get("/municipalities/{code}/wards", response_model=WardCollection)
async def wards(code: str) -> WardCollection:
    return await figures().wards(code)
