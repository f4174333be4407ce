"""A municipality's working calendar: its working hours per weekday and the days it declares."""

import uuid
from datetime import date, time

from sqlalchemy import Date, SmallInteger, String, Time
from sqlalchemy.orm import Mapped, mapped_column

from src.models.base import Base, municipality_fk


class BusinessHours(Base):
    """One row per working weekday (0 = Monday); a weekday without a row is not worked. A
    municipality without any row works the default hours (business_clock.DEFAULT_HOURS)."""

    __tablename__ = "business_hours"

    municipality_id: Mapped[uuid.UUID] = municipality_fk(primary_key=True)
    weekday: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    opens: Mapped[time] = mapped_column(Time)
    closes: Mapped[time] = mapped_column(Time)


class DeclaredHoliday(Base):
    __tablename__ = "declared_holidays"

    municipality_id: Mapped[uuid.UUID] = municipality_fk(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
