"""Working hours per weekday and declared holidays."""

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import Field, RootModel, field_serializer, field_validator, model_validator

from src.schemas.common import ORM, Name, Strict


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"


WEEKDAYS = list(Weekday)


def weekday_name(weekday: int) -> Weekday:
    return WEEKDAYS[weekday]


class WorkingDay(Strict):
    """One working weekday, local time of the municipality, to the minute."""

    day: Weekday
    opens: dt.time
    closes: dt.time

    @field_validator("opens", "closes")
    @classmethod
    def _to_the_minute(cls, value: dt.time) -> dt.time:
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError("give a local time to the minute, as HH:MM")
        return value

    @model_validator(mode="after")
    def _opens_before_closes(self) -> "WorkingDay":
        if self.opens >= self.closes:
            raise ValueError("opens must be before closes")
        return self

    @field_serializer("opens", "closes")
    def _hh_mm(self, value: dt.time) -> str:
        return value.strftime("%H:%M")

    @property
    def weekday(self) -> int:
        return WEEKDAYS.index(self.day)


class WorkingWeek(RootModel[Annotated[list[WorkingDay], Field(min_length=1, max_length=7)]]):
    """The body of PUT: every working day once; a day left out is not worked."""

    @model_validator(mode="after")
    def _each_day_once(self) -> "WorkingWeek":
        days = [d.day for d in self.root]
        if len(set(days)) != len(days):
            raise ValueError("each day may appear once")
        return self


class HolidayCreate(Strict):
    date: dt.date
    name: Name


class HolidayResponse(ORM):
    date: dt.date = Field(validation_alias="day")
    name: str
