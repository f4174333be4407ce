"""A municipality's working calendar in the database: working hours per weekday, declared
holidays, and the clock an SLA policy runs on."""

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import delete, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.errors import Conflict, NotFound
from src.models.calendar import BusinessHours, DeclaredHoliday
from src.models.enums import SlaClock
from src.schemas.calendar import HolidayCreate, WorkingDay, WorkingWeek, weekday_name
from src.services.business_clock import DEFAULT_HOURS, MAX_DAYS, WallClock, WorkingCalendar
from src.services.principal import Principal

Clock = WallClock | WorkingCalendar


async def working_calendar(
    session: AsyncSession, municipality_id: uuid.UUID, timezone: str, since: datetime
) -> WorkingCalendar:
    """The calendar that counts working time from `since`: declared days from then on only."""
    rows = (
        await session.execute(
            select(BusinessHours.weekday, BusinessHours.opens, BusinessHours.closes).where(
                BusinessHours.municipality_id == municipality_id
            )
        )
    ).all()
    hours = {weekday: (opens, closes) for weekday, opens, closes in rows} or dict(DEFAULT_HOURS)
    first = (since - timedelta(days=1)).date()
    declared = await session.scalars(
        select(DeclaredHoliday.day).where(
            DeclaredHoliday.municipality_id == municipality_id,
            DeclaredHoliday.day >= first,
            DeclaredHoliday.day <= first + timedelta(days=MAX_DAYS + 2),
        )
    )
    return WorkingCalendar(timezone, hours, frozenset(declared))


async def clock_for(
    session: AsyncSession, clock: SlaClock | None, municipality_id: uuid.UUID, timezone: str, since: datetime
) -> Clock:
    """NULL is the clock of deadlines computed before clocks existed: every minute counted."""
    if clock is SlaClock.BUSINESS:
        return await working_calendar(session, municipality_id, timezone, since)
    return WallClock()


async def working_week(session: AsyncSession, p: Principal) -> list[WorkingDay]:
    rows = (
        await session.execute(
            select(BusinessHours.weekday, BusinessHours.opens, BusinessHours.closes)
            .where(BusinessHours.municipality_id == p.municipality_id)
            .order_by(BusinessHours.weekday)
        )
    ).all()
    hours = [(w, o, c) for w, o, c in rows] or [(w, o, c) for w, (o, c) in sorted(DEFAULT_HOURS.items())]
    return [WorkingDay(day=weekday_name(w), opens=o, closes=c) for w, o, c in hours]


async def replace_working_week(session: AsyncSession, p: Principal, body: WorkingWeek) -> list[WorkingDay]:
    """Replaced as a whole, under a per-municipality lock so two replacements do not interleave."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": f"business_hours:{p.municipality_id}"}
    )
    await session.execute(delete(BusinessHours).where(BusinessHours.municipality_id == p.municipality_id))
    await session.execute(
        insert(BusinessHours),
        [
            {"municipality_id": p.municipality_id, "weekday": d.weekday, "opens": d.opens, "closes": d.closes}
            for d in body.root
        ],
    )
    return await working_week(session, p)


async def declared_holidays(session: AsyncSession, p: Principal) -> list[DeclaredHoliday]:
    rows = await session.scalars(
        select(DeclaredHoliday)
        .where(DeclaredHoliday.municipality_id == p.municipality_id)
        .order_by(DeclaredHoliday.day)
    )
    return list(rows)


async def declare_holiday(session: AsyncSession, p: Principal, body: HolidayCreate) -> DeclaredHoliday:
    row = await session.scalar(
        pg_insert(DeclaredHoliday)
        .values(municipality_id=p.municipality_id, day=body.date, name=body.name)
        .on_conflict_do_nothing()
        .returning(DeclaredHoliday)
    )
    if row is None:
        raise Conflict("That day is already declared a holiday.", "holiday_exists")
    return row


async def remove_holiday(session: AsyncSession, p: Principal, day: date) -> None:
    gone = await session.scalar(
        delete(DeclaredHoliday)
        .where(DeclaredHoliday.municipality_id == p.municipality_id, DeclaredHoliday.day == day)
        .returning(DeclaredHoliday.day)
    )
    if gone is None:
        raise NotFound("No holiday is declared on that day.")
