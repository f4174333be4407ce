"""How figures, dates and vocabularies read on the pages: South African conventions.

Numbers group thousands with a space ("1 234"), decimals use a point, dates read
"27 Nov 2026, 14:05" in the municipality's own timezone. The vocabularies' labels are English
message ids, translated where a page shows them (the label filters of src/web/pages.py).
"""

from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel.dates import get_month_names
from markupsafe import Markup, escape

from src.core.i18n import N_
from src.models.enums import SlaStatus, TicketCategory, TicketSeverity, TicketStatus
from src.models.user import UserRole

CATEGORY_LABELS = {
    TicketCategory.WATER: N_("Water"),
    TicketCategory.ROADS: N_("Roads"),
    TicketCategory.ELECTRICITY: N_("Electricity"),
    TicketCategory.WASTE: N_("Waste"),
    TicketCategory.SANITATION: N_("Sanitation"),
    TicketCategory.GBV: N_("Gender-based violence"),
    TicketCategory.OTHER: N_("Other"),
}
STATUS_LABELS = {
    TicketStatus.OPEN: N_("Open"),
    TicketStatus.IN_PROGRESS: N_("In progress"),
    TicketStatus.ESCALATED: N_("Escalated"),
    TicketStatus.RESOLVED: N_("Resolved"),
    TicketStatus.CLOSED: N_("Closed"),
}
SEVERITY_LABELS = {
    TicketSeverity.LOW: N_("Low"),
    TicketSeverity.MEDIUM: N_("Medium"),
    TicketSeverity.HIGH: N_("High"),
    TicketSeverity.CRITICAL: N_("Critical"),
}
SLA_LABELS = {
    SlaStatus.ON_TRACK: "On track",
    SlaStatus.WARNING: "At risk",
    SlaStatus.BREACHED_RESPONSE: "Response overdue",
    SlaStatus.BREACHED_RESOLUTION: "Resolution overdue",
}
ROLE_LABELS = {
    UserRole.CITIZEN: N_("Resident"),
    UserRole.FIELD_WORKER: N_("Field worker"),
    UserRole.MANAGER: N_("Manager"),
    UserRole.WARD_COUNCILLOR: N_("Ward councillor"),
    UserRole.ADMIN: N_("Administrator"),
    UserRole.SAPS_LIAISON: N_("SAPS liaison"),
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

GOOD_PERCENT = 80.0
FAIR_PERCENT = 60.0


def sa_int(value: int | None) -> str:
    """1234567 -> "1 234 567"."""
    if value is None:
        return "–"
    return f"{value:,}".replace(",", " ")


def sa_decimal(value: float | None, places: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{places}f}".replace(",", " ")


def grouped_digits(value: int | float | None) -> Markup:
    """A figure whose text is the plain number ("1234") but which shows its thousands apart.

    Each group after the first is its own span, spaced by CSS: screen readers and text tools
    read the number itself, eyes see "1 234".
    """
    if value is None:
        return Markup('<span aria-label="not available">–</span>')
    text = str(value)
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, fraction = digits.partition(".")
    head = len(whole) % 3 or 3
    groups = [whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)]
    html = escape(sign + groups[0]) + Markup("").join(
        Markup('<span class="grp">{}</span>').format(g) for g in groups[1:]
    )
    return html + (escape(dot + fraction) if dot else Markup(""))


@cache
def month_abbreviations(language: str = "en") -> tuple[str, ...]:
    """ "Jan" … "Dec" in English; the CLDR's short month names for the other languages ("Mas", "Mrt.")."""
    if language == "en":
        return MONTHS
    try:
        return tuple(get_month_names("abbreviated", locale=language).values())
    except ValueError:  # a language the CLDR does not know: English rather than an error
        return MONTHS


def local_time(value: datetime | None, tz: str) -> datetime | None:
    return value.astimezone(ZoneInfo(tz)) if value is not None else None


def sa_datetime(value: datetime | None, tz: str, language: str = "en") -> str:
    """ "27 Nov 2026, 14:05" in the municipality's time ("27 Mrt. 2026, 14:05" in Afrikaans)."""
    local = local_time(value, tz)
    if local is None:
        return "–"
    return f"{local.day} {month_abbreviations(language)[local.month - 1]} {local.year}, {local:%H:%M}"


def sa_date(value: date | datetime | None) -> str:
    if value is None:
        return "–"
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def time_tag(value: datetime | None, tz: str, language: str = "en") -> Markup:
    """A <time> element: machine-readable instant, human-readable local text."""
    if value is None:
        return Markup("–")
    return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), sa_datetime(value, tz, language))


def percent_band(value: float | None) -> str:
    """The colour band of an SLA figure: good >= 80 %, fair >= 60 %, poor below."""
    if value is None:
        return "none"
    if value >= GOOD_PERCENT:
        return "good"
    if value >= FAIR_PERCENT:
        return "fair"
    return "poor"


BAND_LABELS = {"good": "on target", "fair": "below target", "poor": "well below target", "none": "no data"}


def label(mapping: dict, value: object) -> str:
    for key, text in mapping.items():
        if key == value or getattr(key, "value", None) == value:
            return text
    return str(value).replace("_", " ").capitalize() if value is not None else "–"
