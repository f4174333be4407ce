"""The access policy: every decision about who may see or change what is made here.

Every query that reads tickets starts from `visible_tickets` (or `ticket_conditions`), and
row-level security in PostgreSQL backs the same rules. Invisible or foreign records are 404s.
"""

import uuid
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, func, null, or_, select, true

from src.core.database import TenantContext
from src.core.errors import Conflict, Forbidden, NotFound
from src.models.enums import SERVICE_CATEGORIES, TicketCategory, TicketStatus
from src.models.session import UserSession
from src.models.ticket import Ticket
from src.models.user import User, UserRole
from src.services.principal import Principal

ADMIN = UserRole.ADMIN
MANAGER = UserRole.MANAGER
COUNCILLOR = UserRole.WARD_COUNCILLOR
SAPS = UserRole.SAPS_LIAISON
FIELD = UserRole.FIELD_WORKER
CITIZEN = UserRole.CITIZEN

ADMINISTRATORS = (ADMIN,)
ADMIN_READERS = (ADMIN, MANAGER)
DASHBOARD_ROLES = (MANAGER, ADMIN, COUNCILLOR)
REPORTER_ROLES = (CITIZEN, FIELD, MANAGER, ADMIN, SAPS)
STATUS_CHANGERS = (FIELD, MANAGER, ADMIN, SAPS)
ASSIGNERS = (MANAGER, ADMIN, SAPS)
FIELD_WORKER_TARGETS = frozenset({TicketStatus.IN_PROGRESS, TicketStatus.RESOLVED})


class Purpose(Enum):
    """LIST: every collection, figure and export. DETAIL: reading one ticket and its history.
    CHANGE: changing one ticket (its reporter reading it gives no right to change it)."""

    LIST = "list"
    DETAIL = "detail"
    CHANGE = "change"


def ticket_conditions(p: Principal, purpose: Purpose = Purpose.LIST) -> list[ColumnElement[bool]]:
    """The filter that makes a ticket visible to `p`; the one place this rule is written.

    Lists show each role its scope; a single ticket is also open to whoever reported it
    (staff record phoned-in reports, GBV ones included, and may follow them up).
    """
    role_conds = _role_conditions(p, purpose)
    if purpose is Purpose.DETAIL and p.role is not CITIZEN:
        return [Ticket.municipality_id == p.municipality_id, or_(and_(true(), *role_conds), Ticket.reporter_id == p.id)]
    return [Ticket.municipality_id == p.municipality_id, *role_conds]


def _role_conditions(p: Principal, purpose: Purpose) -> list[ColumnElement[bool]]:
    t = Ticket
    conds: list[ColumnElement[bool]] = []
    match p.role:
        case UserRole.CITIZEN:
            conds.append(t.reporter_id == p.id)
        case UserRole.FIELD_WORKER:
            mine = t.assigned_to == p.id
            conds.append(or_(mine, t.assigned_team_id == p.team_id) if p.team_id else mine)
            conds.append(t.is_sensitive.is_(False))
        case UserRole.MANAGER:
            conds.append(t.is_sensitive.is_(False))
        case UserRole.WARD_COUNCILLOR:
            conds.append(t.is_sensitive.is_(False))
            conds.append(t.ward_id == p.ward_id if p.ward_id else false())
        case UserRole.ADMIN:
            if purpose is Purpose.LIST:
                conds.append(t.is_sensitive.is_(False))
        case UserRole.SAPS_LIAISON:
            conds.append(t.is_sensitive.is_(True))
        case _:
            conds.append(false())
    return conds


def visible_tickets(p: Principal, purpose: Purpose = Purpose.LIST) -> Select[Ticket]:
    return select(Ticket).where(and_(*ticket_conditions(p, purpose)))


FOLLOWERS = (CITIZEN,)
OPEN_REPORT_COLUMNS = ("id", "tracking_number", "category", "status", "distance_m", "created_at", "followers")


def open_reports_near(
    p: Principal, category: TicketCategory, latitude: float, longitude: float, radius_m: float, limit: int
) -> Select[*tuple[Any, ...]]:
    """What any resident may know of others' open reports near a point: no text, no reporter, no
    position, never a sensitive one. Row-level security would hide them from a citizen, so the
    rule is the SQL function's (src/db/sql/public_tickets.sql), scoped to the transaction's
    municipality; GBV is refused here before asking."""
    if category is TicketCategory.GBV:
        return select(*(null().label(c) for c in OPEN_REPORT_COLUMNS)).where(false())
    rows = func.app_open_reports_near(category.value, latitude, longitude, radius_m, limit).table_valued(
        *OPEN_REPORT_COLUMNS
    )
    return select(*(rows.c[c] for c in OPEN_REPORT_COLUMNS))


def followable_ticket(ticket_id: uuid.UUID) -> Select[Any]:
    """A non-sensitive report of the transaction's municipality, by id: status, reporter, followers."""
    row = func.app_followable_ticket(ticket_id).table_valued("id", "status", "reporter_id", "followers")
    return select(row.c.id, row.c.status, row.c.reporter_id, row.c.followers)


def ensure_reporter(p: Principal, ticket: Ticket) -> None:
    """Only whoever reported a ticket may reopen it."""
    if ticket.reporter_id != p.id:
        raise Forbidden("Only the person who reported it may reopen a ticket.", "not_reporter")


def aggregate_conditions(p: Principal, ward_id: uuid.UUID | None) -> list[ColumnElement[bool]]:
    """Dashboards and public figures: never sensitive tickets, whoever asks; scoped to the ward."""
    conds = [Ticket.municipality_id == p.municipality_id, Ticket.is_sensitive.is_(False)]
    ward = effective_ward(p, ward_id)
    if ward is not None:
        conds.append(Ticket.ward_id == ward)
    return conds


def effective_ward(p: Principal, ward_id: uuid.UUID | None) -> uuid.UUID | None:
    """A councillor's ward comes from their record; any other ward is refused."""
    if p.role is not COUNCILLOR:
        return ward_id
    if p.ward_id is None:
        raise Forbidden("Your account has no ward assigned.", "no_ward")
    if ward_id is not None and ward_id != p.ward_id:
        raise Forbidden("Ward councillors may only see their own ward.", "ward_forbidden")
    return p.ward_id


# ---- anonymous readers: the public figures and Open311 -----------------------------------------

# The tenant-context role of anonymous reads. It is no user role, so the row-level-security
# firewall grants it no sensitive row (it is neither admin nor SAPS, and there is no user id).
PUBLIC_ROLE = "public"


def public_tenant(municipality_id: uuid.UUID) -> TenantContext:
    """The transaction of an anonymous read (or an Open311 write) for one municipality."""
    return TenantContext(municipality_id, PUBLIC_ROLE, None)


def public_ticket_conditions(municipality_id: uuid.UUID) -> list[ColumnElement[bool]]:
    """What anyone outside the municipality may learn about: its non-sensitive tickets, in the
    aggregate (public figures) or one by one without any personal detail (Open311)."""
    return [Ticket.municipality_id == municipality_id, Ticket.is_sensitive.is_(False)]


def public_tickets(municipality_id: uuid.UUID) -> Select[Ticket]:
    return select(Ticket).where(and_(*public_ticket_conditions(municipality_id)))


def platform_ticket_conditions(*, sensitive: bool) -> list[ColumnElement[bool]]:
    """Platform-wide counts: the non-sensitive tickets, or (for the one public GBV figure, a
    count across every municipality and nothing else) the sensitive ones."""
    return [Ticket.is_sensitive.is_(sensitive)]


def public_service(category: str) -> TicketCategory:
    """A category other systems may report through Open311: never GBV, which is reported only
    through the authenticated channels; unknown or GBV answers as an unknown service."""
    try:
        found = TicketCategory(category)
    except ValueError:
        found = None
    if found not in SERVICE_CATEGORIES:
        raise NotFound("There is no such service.", "unknown_service")
    return found


def live_event_visible(municipality_id: str, ward_id: str | None, payload: dict[str, object]) -> bool:
    """A live ticket event reaches a stream of this municipality (and ward, when scoped); never GBV.

    Sensitive tickets are never published; they are refused here again in case that ever changes.
    """
    if payload.get("municipality_id") != municipality_id:
        return False
    if payload.get("category") == TicketCategory.GBV.value or payload.get("is_sensitive"):
        return False
    return ward_id is None or payload.get("ward_id") == ward_id


def require_role(p: Principal, roles: tuple[UserRole, ...]) -> None:
    if p.role not in roles:
        raise Forbidden()


def ensure_can_change_status(p: Principal, ticket: Ticket, target: TicketStatus) -> None:
    require_role(p, STATUS_CHANGERS)
    if p.role is FIELD and target not in FIELD_WORKER_TARGETS:
        raise Forbidden("Field workers may only set a ticket in progress or resolved.", "status_forbidden")


def ensure_team_fits_ticket(ticket: Ticket, team_is_saps: bool) -> None:
    """GBV tickets go only to SAPS teams and SAPS teams take only GBV tickets."""
    if ticket.is_sensitive != team_is_saps:
        raise Conflict("GBV reports go only to SAPS teams, and SAPS teams take only GBV reports.", "saps_only")


def logs_sensitive_read(p: Principal, ticket: Ticket) -> bool:
    """Every staff read of a sensitive ticket's detail or history is written to its trail."""
    return ticket.is_sensitive and p.role is not CITIZEN


def not_found(kind: str = "Ticket") -> NotFound:
    return NotFound(f"{kind} not found.")


# -- accounts ------------------------------------------------------------------------------
STAFF = (FIELD, MANAGER, COUNCILLOR, ADMIN, SAPS)
TOTP_ENROLLERS = STAFF
TOTP_REQUIRABLE = (ADMIN, SAPS)  # the roles a municipality may oblige to use TOTP


def own_sessions(p: Principal) -> ColumnElement[bool]:
    """Anyone may list and end their own sessions, and nobody else's (another's id is a 404)."""
    return and_(UserSession.municipality_id == p.municipality_id, UserSession.user_id == p.id)


# -- data-subject rights -------------------------------------------------------------------
CONSENT_HOLDERS = (CITIZEN,)  # registration records consents for residents; they may withdraw them
SELF_ERASERS = (CITIZEN,)  # staff accounts are erased by an administrator of their municipality
ERASERS = ADMINISTRATORS


def reported_by(
    municipality_id: uuid.UUID, user_id: uuid.UUID, *, sensitive: bool | None = None
) -> list[ColumnElement[bool]]:
    """The tickets a person reported: what their data-subject requests (access, erasure, consent
    withdrawal) are about, whoever acts for them; optionally only the sensitive or the other ones."""
    conds = [Ticket.municipality_id == municipality_id, Ticket.reporter_id == user_id]
    if sensitive is not None:
        conds.append(Ticket.is_sensitive.is_(sensitive))
    return conds


def reported_tickets(municipality_id: uuid.UUID, user_id: uuid.UUID) -> Select[Ticket]:
    """The person's own reports, newest first (row-level security shows a reporter their own)."""
    return (
        select(Ticket)
        .where(and_(*reported_by(municipality_id, user_id)))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    )


def ensure_may_erase(p: Principal, user_id: uuid.UUID) -> None:
    """Administrators erase the accounts of their municipality, never their own (the municipality
    could be left with nobody to administer it)."""
    require_role(p, ERASERS)
    if user_id == p.id:
        raise Conflict("You cannot erase your own administrator account.", "self_lockout")


def reporters_past_retention(cutoff: datetime) -> Select[uuid.UUID, uuid.UUID]:
    """Retention, across every municipality (a system job): the residents, not yet erased, who
    reported at least one ticket, and all of whose tickets were closed before `cutoff` (none open
    or resolved, none closed since). Staff accounts are never retention-erased."""
    newer = and_(
        Ticket.municipality_id == User.municipality_id,
        Ticket.reporter_id == User.id,
        or_(Ticket.status != TicketStatus.CLOSED, Ticket.closed_at.is_(None), Ticket.closed_at >= cutoff),
    )
    reported = and_(Ticket.municipality_id == User.municipality_id, Ticket.reporter_id == User.id)
    return (
        select(User.municipality_id, User.id)
        .where(
            User.role == CITIZEN,
            User.erased_at.is_(None),
            exists().where(reported),
            ~exists().where(newer),
        )
        .order_by(User.municipality_id, User.id)
    )
