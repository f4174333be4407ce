"""The ticket list (SPEC §4.3): filters, search, sort and paging, with an exact total.

Every query starts from the access policy's conditions. `filtered_tickets` is the list's query
without paging (the exports stream it); `list_tickets` pages it and counts it.

How it stays fast at millions of tickets (bench/README.md has the figures):
* the total comes from the tallies kept by the database (src/services/tallies.py) whenever the
  conditions are all equality filters on tally columns; otherwise it is counted from the
  tickets through the indexes (a created range, a search, a field worker's own tickets);
* deep pages of the default sort skip whole hours with `ticket_hours` instead of walking every
  earlier row, so the cost follows the page's position, not the history;
* search reads `tickets_searchable` (the tickets policies as a view, see migration 0002), the
  only way the trigram indexes can serve a search made under row-level security.
"""

import logging
import math
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, Table, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from src.models.ticket import Ticket
from src.schemas.ticket import PaginatedTicketResponse, TicketResponse
from src.schemas.ticket_query import SortKey, SortOrder, TicketListParams
from src.services import access, tallies
from src.services.principal import Principal

log = logging.getLogger("khanyisa")

SKIP_FROM_OFFSET = 500  # below this, walking the index is cheaper than reading ticket_hours
RESPONSE_FIELDS = tuple(TicketResponse.model_fields)
_SORT_COLUMNS = {
    SortKey.CREATED_AT: "created_at",
    SortKey.UPDATED_AT: "updated_at",
    SortKey.STATUS: "status_rank",
    SortKey.SEVERITY: "severity_rank",
    SortKey.CATEGORY: "category",
    SortKey.SLA_RESOLUTION_DEADLINE: "sla_resolution_deadline",
}
_trigram_checked = False


def escape_like(term: str) -> str:
    """`%`, `_` and `\\` match themselves (the escape character is the backslash)."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def aware(value: datetime, timezone: str) -> datetime:
    """An ISO value without an offset is a local time of the municipality."""
    return value.replace(tzinfo=ZoneInfo(timezone)) if value.tzinfo is None else value


def list_filters(p: Principal, params: TicketListParams) -> list[ColumnElement[bool]]:
    """The list's filters (not the search) on `tickets`, to add to the access policy's conditions.

    Raises Forbidden for a councillor naming another ward (`ward_forbidden`) or without one (`no_ward`).
    """
    t = Ticket
    conds: list[ColumnElement[bool]] = []
    ward = access.effective_ward(p, params.ward_id)
    if ward is not None:
        conds.append(t.ward_id == ward)
    if params.status is not None:
        conds.append(t.status == params.status.value)
    if params.category is not None:
        conds.append(t.category == params.category.value)
    if params.severity is not None:
        conds.append(t.severity == params.severity.value)
    if params.team_id is not None:
        conds.append(t.assigned_team_id == params.team_id)
    if params.created_from is not None:
        conds.append(t.created_at >= aware(params.created_from, p.timezone))
    if params.created_to is not None:
        conds.append(t.created_at < aware(params.created_to, p.timezone))
    return conds


def search_condition(source: Table, term: str) -> ColumnElement[bool]:
    pattern = f"%{escape_like(term)}%"
    return or_(source.c.tracking_number.ilike(pattern, escape="\\"), source.c.description.ilike(pattern, escape="\\"))


def _ordering(source: Any, params: TicketListParams) -> list[Any]:
    """The sort key, then id in the same direction: a total, stable order."""
    column = source.c[_SORT_COLUMNS[params.sort_by]]
    if params.sort_order is SortOrder.ASC:
        return [column.asc(), source.c.id.asc()]
    return [column.desc(), source.c.id.desc()]


def filtered_tickets(p: Principal, params: TicketListParams) -> Select[tuple[Ticket]]:
    """Every ticket of the list for `p` and `params`, in the list's order, without paging.

    The search is a semi-join on `tickets_searchable`, so the statement still reads from
    `tickets` alone and callers may swap its columns and add joins (the exports do).
    """
    query = access.visible_tickets(p).where(*list_filters(p, params))
    if params.search:
        view = tallies.SEARCHABLE
        query = query.where(Ticket.id.in_(select(view.c.id).where(search_condition(view, params.search))))
    return query.order_by(*_ordering(Ticket.__table__, params))


filtered_select = filtered_tickets


async def _warn_without_trigram(session: AsyncSession) -> None:
    global _trigram_checked
    if _trigram_checked:
        return
    _trigram_checked = True
    if await session.scalar(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")) is None:
        log.warning("pg_trgm is not installed: ticket search scans instead of using trigram indexes (same results, slower)")


async def _total(session: AsyncSession, conds: list[ColumnElement[bool]], source: Table, searching: bool) -> int:
    found = None if searching else tallies.tally_for(conds)
    if found is not None:
        table, moved = found
        return int(await session.scalar(select(func.coalesce(func.sum(table.c.n), 0)).where(*moved)) or 0)
    return int(await session.scalar(select(func.count()).select_from(source).where(*conds)) or 0)


async def _skip_hours(
    session: AsyncSession, conds: list[ColumnElement[bool]], offset: int, desc: bool
) -> tuple[ColumnElement[bool], int] | None:
    """For a deep page in created_at order: a bound on created_at and the offset left within it.

    Reads `ticket_hours` from the requested end until the running count passes `offset`, so the
    cost follows the page's position, not the history. None when the conditions cannot be
    answered from the hours (anything but the municipality and the sensitivity) or when the
    offset is past the last row.
    """
    moved = tallies.retarget(conds, tallies.HOURS)
    if moved is None:
        return None
    h = tallies.HOURS
    order = h.c.hour.desc() if desc else h.c.hour.asc()
    running = (
        select(
            h.c.hour,
            func.sum(h.c.created).over(order_by=order).label("through"),
            func.sum(h.c.created).over(order_by=order, range_=(0, 0)).label("in_hour"),
        )
        .where(*moved)
        .subquery()
    )
    row = (
        await session.execute(
            select(running.c.hour, running.c.through - running.c.in_hour)
            .where(running.c.through > offset)
            .order_by(running.c.hour.desc() if desc else running.c.hour.asc())
            .limit(1)
        )
    ).first()
    if row is None:
        return None
    hour, before = row
    created_at = tallies.TICKETS.c.created_at
    bound = created_at < hour + timedelta(hours=1) if desc else created_at >= hour
    return bound, offset - int(before)


async def _page_rows(session: AsyncSession, conds: list[ColumnElement[bool]], source: Table, params: TicketListParams) -> list[Any]:
    offset = params.page * params.page_size
    conds = list(conds)
    if params.sort_by is SortKey.CREATED_AT and offset >= SKIP_FROM_OFFSET and source is tallies.TICKETS:
        skip = await _skip_hours(session, conds, offset, params.sort_order is SortOrder.DESC)
        if skip is not None:
            bound, offset = skip
            conds.append(bound)
    query = (
        select(*(source.c[name] for name in RESPONSE_FIELDS))
        .where(*conds)
        .order_by(*_ordering(source, params))
        .offset(offset)
        .limit(params.page_size)
    )
    return list((await session.execute(query)).all())


async def list_tickets(session: AsyncSession, principal: Principal, params: TicketListParams) -> PaginatedTicketResponse:
    conds = [*access.ticket_conditions(principal, access.Purpose.LIST), *list_filters(principal, params)]
    source: Table = tallies.TICKETS
    if params.search:
        await _warn_without_trigram(session)
        source = tallies.SEARCHABLE
        moved = tallies.retarget(conds, source)
        if moved is None:  # never drop a condition: the view must carry every tickets column
            raise RuntimeError("tickets_searchable lacks a column of tickets; recreate the view")
        conds = [*moved, search_condition(source, params.search)]
    total = await _total(session, conds, source, bool(params.search))
    offset_in_range = params.page * params.page_size < total
    rows = await _page_rows(session, conds, source, params) if offset_in_range else []
    return PaginatedTicketResponse(
        tickets=[TicketResponse.model_validate(r._mapping) for r in rows],
        total=total,
        page=params.page,
        page_size=params.page_size,
        page_count=math.ceil(total / params.page_size),
    )
