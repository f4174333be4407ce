"""Open311 GeoReport v2 arguments: parsed here into typed values, or a 400 that changes nothing."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from zoneinfo import ZoneInfo

from src.core.errors import AppError
from src.models.enums import OPEN_SET, RESOLVED_SET, TicketCategory, TicketStatus
from src.services import access

WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
MAX_IDS = 1000
MAX_DESCRIPTION = 4000
TRACKING = re.compile(r"^TKT-[0-9]{8}-[0-9A-F]{6}$")
STATUS_SETS: dict[str, frozenset[TicketStatus]] = {"open": OPEN_SET, "closed": RESOLVED_SET}


class BadArgument(AppError):
    """Open311's 400: a missing or invalid argument."""

    status = HTTPStatus.BAD_REQUEST
    code = "bad_argument"


def comma_list(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def service_codes(value: str | None) -> list[TicketCategory]:
    codes = []
    for code in comma_list(value):
        try:
            codes.append(access.public_service(code))
        except AppError:
            raise BadArgument(f"Unknown service_code: {code[:40]}.") from None
    return codes


def statuses(value: str | None) -> list[TicketStatus]:
    found: set[TicketStatus] = set()
    for name in comma_list(value):
        if name.lower() not in STATUS_SETS:
            raise BadArgument("status must be open or closed.")
        found |= STATUS_SETS[name.lower()]
    return sorted(found)


def tracking_numbers(value: str | None) -> list[str]:
    ids = comma_list(value)
    if len(ids) > MAX_IDS:
        raise BadArgument(f"At most {MAX_IDS} service_request_id values at once.")
    return [i.upper() for i in ids]


def positive_int(value: str | None, name: str, default: int, maximum: int | None = None) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise BadArgument(f"{name} must be a whole number.") from None
    if number < 1:
        raise BadArgument(f"{name} must be at least 1.")
    if maximum is not None and number > maximum:
        raise BadArgument(f"{name} may be at most {maximum}.")
    return number


def moment(value: str | None, name: str, timezone: str) -> datetime | None:
    """W3C date-time; without an offset it is a local time of the municipality."""
    if value is None or value == "":
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace(" ", "+"))
    except ValueError:
        raise BadArgument(f"{name} must be an ISO 8601 date-time, e.g. 2026-01-31T00:00:00Z.") from None
    return parsed.replace(tzinfo=ZoneInfo(timezone)) if parsed.tzinfo is None else parsed.astimezone(UTC)


def window(start_raw: str | None, end_raw: str | None, timezone: str, now: datetime) -> tuple[datetime, datetime]:
    """At most 90 days: both ends as given, one end with 90 days from or up to it, else the last 90 days."""
    start = moment(start_raw, "start_date", timezone)
    end = moment(end_raw, "end_date", timezone)
    if start is not None and end is not None:
        if end < start:
            raise BadArgument("end_date is before start_date.")
        if end - start > WINDOW:
            raise BadArgument("start_date and end_date may span at most 90 days.")
        return start, end
    if start is not None:
        return start, start + WINDOW
    if end is not None:
        return end - WINDOW, end
    return now - WINDOW, now


@dataclass(frozen=True)
class RequestQuery:
    """GET /requests: either some tracking numbers (they override the rest) or a filtered window."""

    ids: list[str]
    codes: list[TicketCategory]
    statuses: list[TicketStatus]
    start: datetime
    end: datetime
    page: int
    page_size: int


@dataclass(frozen=True)
class NewRequest:
    """POST /requests, after validation. Contact details are not kept (see docs/open311.md)."""

    service: TicketCategory
    description: str
    latitude: float | None
    longitude: float | None
    address: str | None


def coordinate(value: str | None, name: str, limit: float) -> float | None:
    if value is None or value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise BadArgument(f"{name} must be a number.") from None
    if not -limit <= number <= limit:  # NaN fails both comparisons
        raise BadArgument(f"{name} must be between -{limit:g} and {limit:g}.")
    return number


def new_request(form: dict[str, str]) -> NewRequest:
    code = form.get("service_code", "").strip()
    if not code:
        raise BadArgument("service_code is required.")
    try:
        service = access.public_service(code)
    except AppError:
        raise BadArgument(f"Unknown service_code: {code[:40]}.") from None
    description = form.get("description", "").strip()
    if not description:
        raise BadArgument("description is required.")
    if len(description) > MAX_DESCRIPTION:
        raise BadArgument(f"description may be at most {MAX_DESCRIPTION} characters.")
    lat = coordinate(form.get("lat"), "lat", 90)
    lng = coordinate(form.get("long"), "long", 180)
    if (lat is None) != (lng is None):
        raise BadArgument("Give both lat and long, or neither.")
    address = form.get("address_string", "").strip() or None
    if address is not None and len(address) > 500:
        raise BadArgument("address_string may be at most 500 characters.")
    if lat is None and address is None:
        raise BadArgument("A location is required: lat and long, or address_string.")
    return NewRequest(service, description, lat, lng, address)
