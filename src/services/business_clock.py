"""Time measured on a municipality's working clock: its working hours, less South Africa's public
holidays and the days the municipality declares.

Pure computation over a loaded `WorkingCalendar`; the service in business_hours_service.py loads
one from the database. Deadlines are computed once, at creation (or reopening), and stored, so a
later change of hours or holidays moves no deadline already promised.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

# Monday (0) to Friday (4), 07:30-16:00 local time.
DEFAULT_HOURS: dict[int, tuple[time, time]] = {day: (time(7, 30), time(16, 0)) for day in range(5)}
# A deadline further away than this many calendar days is a configuration error, not a promise.
MAX_DAYS = 3 * 366


@lru_cache(maxsize=64)
def _public_holidays(year: int) -> frozenset[date]:
    """The Public Holidays Act's days for `year`, with a Sunday holiday observed on the Monday and
    the days proclaimed for one year (elections, presidential decrees), as the package keeps them."""
    return frozenset(holidays.country_holidays("ZA", years=year).keys())


def public_holiday_name(day: date) -> str | None:
    return holidays.country_holidays("ZA", years=day.year).get(day)


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: str
    hours: dict[int, tuple[time, time]] = field(default_factory=lambda: dict(DEFAULT_HOURS))
    declared: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.hours and day not in self.declared and day not in _public_holidays(day.year)

    def _windows(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals (UTC) from the local day holding `start`, day by day, up to MAX_DAYS."""
        zone = ZoneInfo(self.timezone)
        first = start.astimezone(zone).date()
        for offset in range(MAX_DAYS):
            day = first + timedelta(days=offset)
            if not self.is_working_day(day):
                continue
            opens, closes = self.hours[day.weekday()]
            yield (
                datetime.combine(day, opens, zone).astimezone(UTC),
                datetime.combine(day, closes, zone).astimezone(UTC),
            )

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment `duration` of working time after `start`. A deadline that ends exactly at
        closing time is that closing time, not the next opening."""
        remaining = duration
        for opens, closes in self._windows(start):
            begin = max(start, opens)
            if begin >= closes:
                continue
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        raise ValueError("deadline beyond the working calendar's horizon")

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Working time between `start` and `end` (zero when `end` is not after `start`)."""
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self._windows(start):
            if opens >= end:
                break
            begin, finish = max(start, opens), min(end, closes)
            if finish > begin:
                total += finish - begin
        return total


class WallClock:
    """The `24x7` clock: every minute counts."""

    def add(self, start: datetime, duration: timedelta) -> datetime:
        return start + duration

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))


class WorkingIndex:
    """`WorkingCalendar.add` for many starts over a known span (the demo data's year of reports):
    the working windows listed once with the working time before each, so each deadline is two
    binary searches instead of a walk over the days (about 100 times faster). Times are POSIX
    seconds."""

    def __init__(self, calendar: WorkingCalendar, first: datetime, last: datetime) -> None:
        self.opens: list[float] = []
        self.closes: list[float] = []
        self.worked_before: list[float] = []  # working seconds before each window
        self.worked_after: list[float] = []  # ... up to its end
        total = 0.0
        for opens, closes in calendar._windows(first):
            if opens.timestamp() > last.timestamp():
                break
            self.opens.append(opens.timestamp())
            self.closes.append(closes.timestamp())
            self.worked_before.append(total)
            total += closes.timestamp() - opens.timestamp()
            self.worked_after.append(total)

    def add(self, start: float, seconds: float) -> float:
        i = bisect_right(self.closes, start)  # the first window still open after `start`
        if i == len(self.closes):
            raise ValueError("start beyond the index")
        target = self.worked_before[i] + max(0.0, start - self.opens[i]) + seconds
        j = bisect_left(self.worked_after, target)
        if j == len(self.worked_after):
            raise ValueError("deadline beyond the index")
        return self.opens[j] + (target - self.worked_before[j])
