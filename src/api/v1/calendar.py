"""A municipality's working calendar: the hours and days its business-hours SLAs count."""

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from src.api.deps import SessionDep, require_role
from src.schemas.calendar import HolidayCreate, HolidayResponse, WorkingDay, WorkingWeek
from src.schemas.citizen import RadiusItem, RadiusSet
from src.services import access, business_hours_service, citizen_service
from src.services.principal import Principal

router = APIRouter(tags=["administration"])

Admin = Annotated[Principal, Depends(require_role(*access.ADMINISTRATORS), scope="function")]
Reader = Annotated[Principal, Depends(require_role(*access.ADMIN_READERS), scope="function")]


@router.get("/business-hours", response_model=list[WorkingDay])
async def get_business_hours(p: Reader, session: SessionDep) -> object:
    return await business_hours_service.working_week(session, p)


@router.put("/business-hours", response_model=list[WorkingDay])
async def put_business_hours(body: WorkingWeek, p: Admin, session: SessionDep) -> object:
    return await business_hours_service.replace_working_week(session, p, body)


@router.get("/holidays", response_model=list[HolidayResponse])
async def list_holidays(p: Reader, session: SessionDep) -> object:
    return await business_hours_service.declared_holidays(session, p)


@router.post("/holidays", response_model=HolidayResponse, status_code=status.HTTP_201_CREATED)
async def declare_holiday(body: HolidayCreate, p: Admin, session: SessionDep) -> object:
    return await business_hours_service.declare_holiday(session, p, body)


@router.delete("/holidays/{day}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_holiday(day: dt.date, p: Admin, session: SessionDep) -> Response:
    await business_hours_service.remove_holiday(session, p, day)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/nearby-radius", response_model=list[RadiusItem])
async def get_nearby_radius(p: Reader, session: SessionDep) -> object:
    return await citizen_service.radii(session, p)


@router.put("/nearby-radius", response_model=list[RadiusItem])
async def put_nearby_radius(body: RadiusSet, p: Admin, session: SessionDep) -> object:
    return await citizen_service.replace_radii(session, p, body)
